"""Documents -> labelled, encoded pair examples; label sets; batching with dynamic padding.

Data flows one way: Documents -> candidates (:mod:`biorelex.data.candidates`) -> represented text
(:mod:`biorelex.data.representation`) -> sub-word ids (:mod:`biorelex.data.encoding`) -> padded
tensors (:func:`collate`). Truncations are counted in :class:`EncodingStats`, never hidden.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from biorelex.data.candidates import PRESETS, Candidate, CandidateConfig, generate_candidates
from biorelex.data.encoding import EncodedPair, fit_pair, tokenize_texts
from biorelex.data.representation import Mode, Represented, represent
from biorelex.document import Document
from biorelex.errors import ConfigError, DocumentError

logger = logging.getLogger(__name__)

NEGATIVE_LABEL = "no_relation"
TOKENIZE_CHUNK = 1024  # texts per batched tokenizer call


@dataclass(frozen=True)
class LabelSet:
    """The classes of a classifier; index 0 is always the negative class ``no_relation``.

    Attributes:
        labels: every class, negative first.
        positive: the classes micro-F1 is computed over (the benchmark's positive classes).
    """

    labels: tuple[str, ...]
    positive: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.labels or self.labels[0] != NEGATIVE_LABEL:
            raise ConfigError(f"a label set starts with {NEGATIVE_LABEL!r}, got {self.labels!r}")
        unknown = set(self.positive) - set(self.labels)
        if unknown:
            raise ConfigError(f"positive labels {sorted(unknown)} are not among {list(self.labels)}")

    @classmethod
    def from_labels(cls, seen: Iterable[str | None], positive: Sequence[str] = ()) -> LabelSet:
        """Negative first, then every label seen (sorted); ``positive`` defaults to all of them."""
        names = sorted({label for label in seen if label is not None})
        missing = [p for p in positive if p not in names]
        names += missing  # a positive class absent from training is still scored (F1 = 0)
        return cls((NEGATIVE_LABEL, *names), tuple(positive) or tuple(names))

    def index(self, label: str | None) -> int:
        """The class index of a gold label (``None`` = negative); unknown labels are an error."""
        if label is None:
            return 0
        try:
            return self.labels.index(label)
        except ValueError:
            raise ConfigError(
                f"label {label!r} was not seen in training; the model knows {list(self.labels)}"
            ) from None

    def to_dict(self) -> dict[str, list[str]]:
        return {"labels": list(self.labels), "positive": list(self.positive)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelSet:
        return cls(tuple(data["labels"]), tuple(data["positive"]))


@dataclass(frozen=True)
class PairExample:
    """One candidate pair, as text and as sub-word ids, with its gold class index (-1 = unknown)."""

    candidate: Candidate
    represented: Represented
    encoded: EncodedPair
    label: int

    def __len__(self) -> int:
        return len(self.encoded.input_ids)


@dataclass
class EncodingStats:
    """How many pairs were encoded, truncated to the budget, or had a mention cut (giant mentions)."""

    pairs: int = 0
    truncated: int = 0
    mention_cut: int = 0
    labels: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "truncated": self.truncated,
            "mention_cut": self.mention_cut,
            "labels": dict(sorted(self.labels.items())),
        }


def candidate_config(name: str, documents: Sequence[Document]) -> CandidateConfig | None:
    """The candidate configuration called ``name``; ``None`` means "each document is one pair"."""
    if name == "auto":
        return None if documents and all(len(d.entities) == 2 for d in documents) else CandidateConfig()
    if name == "pairs":
        return None
    if name == "all":
        return CandidateConfig()
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown candidate setting {name!r}; use auto, pairs, all or a preset: {', '.join(PRESETS)}"
        ) from None


def iter_candidates(documents: Iterable[Document], config: CandidateConfig | None) -> Iterator[Candidate]:
    """Candidates of every document; with ``config=None`` each document's two entities are the pair."""
    for document in documents:
        if config is not None:
            yield from generate_candidates(document, config)
            continue
        if len(document.entities) != 2:
            raise DocumentError(
                document.id,
                f"{len(document.entities)} entities; pair files need "
                "exactly 2 (set data.candidates to a preset such as chemprot, or 'all')",
            )
        head, tail = document.entities
        labels = {r.type for r in document.relations if {r.head, r.tail} == {head.id, tail.id}}
        label = sorted(labels)[0] if labels else None
        yield Candidate(document, head, tail, (0, len(document.text)), label)


def build_examples(
    candidates: Iterable[Candidate],
    tokenizer: Any,
    labels: LabelSet | None,
    representation: Mode = "mask",
    max_length: int = 128,
    stats: EncodingStats | None = None,
) -> list[PairExample]:
    """Represent and encode every candidate; ``labels=None`` leaves the gold class unknown (-1)."""
    stats = stats if stats is not None else EncodingStats()
    examples: list[PairExample] = []
    iterator = iter(candidates)
    while chunk := list(islice(iterator, TOKENIZE_CHUNK)):
        shown = [represent(candidate, representation) for candidate in chunk]
        tokenized = tokenize_texts(tokenizer, [r.text for r in shown])
        for candidate, represented, (ids, offsets) in zip(chunk, shown, tokenized, strict=True):
            encoded = fit_pair(represented, ids, offsets, tokenizer, max_length)
            stats.pairs += 1
            stats.truncated += encoded.truncated
            stats.mention_cut += encoded.mention_cut
            stats.labels[candidate.label or NEGATIVE_LABEL] += 1
            label = labels.index(candidate.label) if labels is not None else -1
            examples.append(PairExample(candidate, represented, encoded, label))
    if stats.truncated:
        logger.info(
            "%d of %d pairs truncated to %d sub-words around their entities (%d with a mention cut)",
            stats.truncated,
            stats.pairs,
            max_length,
            stats.mention_cut,
        )
    return examples


def pad_arrays(examples: Sequence[PairExample], pad_token_id: int) -> dict[str, Any]:
    """Pad a batch to its longest pair (dynamic padding) as int64 numpy arrays (no torch needed).

    Keys: ``input_ids``, ``attention_mask``, ``head_mask``, ``tail_mask`` ``(batch, seq)``;
    ``head_start``, ``tail_start``, ``labels`` ``(batch,)``.
    """
    import numpy as np

    width = max(len(e) for e in examples)
    batch = len(examples)
    input_ids = np.full((batch, width), pad_token_id, dtype=np.int64)
    attention_mask = np.zeros((batch, width), dtype=np.int64)
    head_mask = np.zeros((batch, width), dtype=np.int64)
    tail_mask = np.zeros((batch, width), dtype=np.int64)
    for row, example in enumerate(examples):
        ids = example.encoded.input_ids
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
        head_mask[row, slice(*example.encoded.head)] = 1
        tail_mask[row, slice(*example.encoded.tail)] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "head_start": np.array([e.encoded.head[0] for e in examples], dtype=np.int64),
        "tail_start": np.array([e.encoded.tail[0] for e in examples], dtype=np.int64),
        "head_mask": head_mask,
        "tail_mask": tail_mask,
        "labels": np.array([e.label for e in examples], dtype=np.int64),
    }


def collate(examples: Sequence[PairExample], pad_token_id: int) -> dict[str, Any]:
    """:func:`pad_arrays` as torch tensors, ready for :class:`~biorelex.models.RelationModel`."""
    import torch

    return {k: torch.from_numpy(v) for k, v in pad_arrays(examples, pad_token_id).items()}


def batch_indices(
    lengths: Sequence[int], batch_size: int, *, shuffle: bool, group_by_length: bool, seed: int = 0
) -> list[list[int]]:
    """Index batches. Training: shuffled, and with ``group_by_length`` pairs of similar length share
    a batch (chunks of 50 batches sorted by length, batch order shuffled), so padding stays small.
    Evaluation (``shuffle=False``): sorted by length, which is fastest; callers restore the order.
    """
    import random

    order = list(range(len(lengths)))
    rng = random.Random(seed)
    if not shuffle:
        order.sort(key=lambda i: lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(order)
    if group_by_length:
        chunk = batch_size * 50
        order = [
            i
            for start in range(0, len(order), chunk)
            for i in sorted(order[start : start + chunk], key=lambda i: -lengths[i])
        ]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if group_by_length:
        rng.shuffle(batches)
    return batches


def steps_per_epoch(n_examples: int, batch_size: int, accumulation: int) -> int:
    """Optimiser steps in one epoch."""
    return math.ceil(math.ceil(n_examples / batch_size) / accumulation)
