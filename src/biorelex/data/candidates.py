"""Candidate pairs: which entity pairs a relation classifier is asked about.

Configurable by entity-type pairs (``fnmatch`` patterns: ``("CHEMICAL", "GENE*")``), direction
(ordered pairs, or each unordered pair once with the earlier mention as head) and scope (pairs
inside one sentence, or across the whole document). Each candidate carries its gold label from
the Document's relations (``None`` = no relation), including concept-level relations, which label
every mention pair whose concepts they link.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from biorelex.data.sentences import document_sentences
from biorelex.document import Document, Entity, Relation, Span
from biorelex.errors import ConfigError

NEGATIVE = None


@dataclass(frozen=True)
class CandidateConfig:
    """How candidate pairs are built.

    Attributes:
        type_pairs: allowed (head type, tail type) patterns; empty = every pair of types.
        directed: ordered pairs (A, B) and (B, A) are distinct candidates. When ``False`` each
            unordered pair is produced once, head = the mention that starts first, and a gold
            relation in either direction labels it.
        scope: ``"sentence"`` (both mentions in one sentence) or ``"document"``.
        splitter: sentence splitter for documents without given sentences.
    """

    type_pairs: tuple[tuple[str, str], ...] = ()
    directed: bool = False
    scope: Literal["sentence", "document"] = "sentence"
    splitter: str = "pysbd"

    def __post_init__(self) -> None:
        if self.scope not in ("sentence", "document"):
            raise ConfigError(f"candidate scope must be 'sentence' or 'document', got {self.scope!r}")
        object.__setattr__(self, "type_pairs", tuple(tuple(p) for p in self.type_pairs))
        for pair in self.type_pairs:
            if len(pair) != 2:
                raise ConfigError(f"a candidate type pair needs 2 types, got {pair!r}")


@dataclass(frozen=True)
class Candidate:
    """One entity pair of one document, with its gold label (``None`` for no relation)."""

    document: Document = field(repr=False)
    head: Entity
    tail: Entity
    span: Span
    label: str | None = NEGATIVE

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.document.id, self.head.id, self.tail.id)


# Preset configurations for the shared corpora.
PRESETS: dict[str, CandidateConfig] = {
    "chemprot": CandidateConfig(type_pairs=(("CHEMICAL", "GENE*"),), directed=True),
    "ddi": CandidateConfig(directed=False),
    "bc5cdr": CandidateConfig(type_pairs=(("Chemical", "Disease"),), directed=True),
    "ade": CandidateConfig(type_pairs=(("Adverse-Effect", "Drug"),), directed=True),
}


def _type_ok(config: CandidateConfig, head: Entity, tail: Entity) -> bool:
    if not config.type_pairs:
        return True
    return any(fnmatchcase(head.type, h) and fnmatchcase(tail.type, t) for h, t in config.type_pairs)


def _label_index(document: Document) -> tuple[dict[tuple[str, str], list[Relation]], list[Relation]]:
    by_pair: dict[tuple[str, str], list[Relation]] = {}
    concept_level = []
    for relation in document.relations:
        if relation.level == "concept":
            concept_level.append(relation)
        else:
            by_pair.setdefault((relation.head, relation.tail), []).append(relation)
    return by_pair, concept_level


def _label(
    head: Entity,
    tail: Entity,
    directed: bool,
    by_pair: dict[tuple[str, str], list[Relation]],
    concept_level: Sequence[Relation],
) -> str | None:
    found = list(by_pair.get((head.id, tail.id), ()))
    found += [r for r in by_pair.get((tail.id, head.id), ()) if r.symmetric or not directed]
    for relation in concept_level:
        forward = relation.head in head.concept_ids and relation.tail in tail.concept_ids
        backward = relation.head in tail.concept_ids and relation.tail in head.concept_ids
        if forward or (backward and (relation.symmetric or not directed)):
            found.append(relation)
    if not found:
        return NEGATIVE
    return sorted({r.type for r in found})[0] if len({r.type for r in found}) > 1 else found[0].type


def generate_candidates(
    document: Document,
    config: CandidateConfig = CandidateConfig(),
    sentences: Sequence[Span] | None = None,
) -> Iterator[Candidate]:
    """Candidate pairs of one document, in text order.

    Args:
        document: the document.
        config: types, direction and scope of the pairs.
        sentences: the document's sentences when the caller has them already (as
            :func:`~biorelex.data.sentences.document_sentences` gives them), to avoid splitting twice.
    """
    by_pair, concept_level = _label_index(document)
    if config.scope == "document":
        scopes: Sequence[Span] = [(0, len(document.text))]
    elif sentences is not None:
        scopes = sentences
    else:
        scopes = document_sentences(document, config.splitter)
    entities = sorted(document.entities, key=lambda e: (e.start, e.end, e.id))
    for scope_start, scope_end in scopes:
        inside = [e for e in entities if scope_start <= e.start and e.end <= scope_end]
        for i, first in enumerate(inside):
            for j, second in enumerate(inside):
                if i == j or (not config.directed and j < i):
                    continue
                if _type_ok(config, first, second):
                    pair = (first, second)
                elif not config.directed and _type_ok(config, second, first):
                    pair = (second, first)
                else:
                    continue
                label = _label(*pair, config.directed, by_pair, concept_level)
                yield Candidate(document, pair[0], pair[1], (scope_start, scope_end), label)
