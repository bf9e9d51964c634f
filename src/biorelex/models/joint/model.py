"""``JointModel``: the end-to-end NER + RE model of Giorgi et al. (2019) on any encoder.

- NER: encoder -> first sub-word of every word -> FFNN -> BIOES tag logits (cross-entropy).
- RE: argmax (or gold, while training) tags -> learned label embeddings concatenated with the hidden
  states -> FFNN_head / FFNN_tail -> deep biaffine scores for every ordered pair of words; the
  candidates are the ordered pairs of entity *last* words (E-/S- tags), ``NEG`` meaning "no relation
  or wrong entity". Loss ``L = L_NER + lambda * L_RE``.

Saved like :class:`~biorelex.models.relation_model.RelationModel`: ``biorelex.json`` (kind
``joint``), ``encoder/`` and ``head.safetensors``; nothing pickled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from biorelex.config import JointConfig, ModelConfig
from biorelex.data.tagging import NEGATIVE, OUTSIDE, TaggedEntity, TaggedSentence, decode_bioes
from biorelex.errors import ConfigError
from biorelex.models.encoder import load_encoder
from biorelex.models.joint.scorer import BiaffineScorer, projection
from biorelex.models.serialization import JOINT_KIND, load_encoder_model, load_head, save_encoder_model

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
KIND = JOINT_KIND

# Word shapes (``joint.word_shape_dim``): the case cue an uncased tokenizer throws away. 0 is padding.
SHAPES = ("pad", "lower", "title", "upper", "mixed", "digits", "alphanumeric", "other")


def word_shape(word: str) -> int:
    """The index in :data:`SHAPES` of a word's shape.

    ``lower`` ("kinase"), ``title`` ("Smith", "A"), ``upper`` ("IBM", "EGFR"), ``mixed`` letters of
    both cases otherwise ("mRNA", "McCain"), ``digits`` (digits with no letters: "1990", "3.5"),
    ``alphanumeric`` (letters and digits: "CYP3A4", "p53") and ``other`` (punctuation, symbols).
    """
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return SHAPES.index("digits") if any(c.isdigit() for c in word) else SHAPES.index("other")
    if any(c.isdigit() for c in word):
        return SHAPES.index("alphanumeric")
    if all(c.islower() for c in letters):
        return SHAPES.index("lower")
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return SHAPES.index("title")
    if all(c.isupper() for c in letters):
        return SHAPES.index("upper")
    return SHAPES.index("mixed")


@dataclass(frozen=True)
class JointExample:
    """One encoded sentence: sub-word ids, the first sub-word of each kept word, gold tags and links."""

    input_ids: tuple[int, ...]
    word_starts: tuple[int, ...]
    tag_ids: tuple[int, ...]
    entities: tuple[TaggedEntity, ...]
    relations: tuple[tuple[int, int, int], ...]  # (head entity index, tail entity index, class)
    truncated_words: int = 0
    shapes: tuple[int, ...] = ()  # word_shape() of each kept word

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class JointOutput:
    """Tag logits ``(batch, words, tags)``, relation logits ``(batch, words, words, classes)``, losses."""

    tag_logits: torch.Tensor
    relation_logits: torch.Tensor
    loss: torch.Tensor | None = None
    ner_loss: torch.Tensor | None = None
    re_loss: torch.Tensor | None = None


class JointHead(nn.Module):
    """Everything above the encoder: NER FFNN, label embeddings, projections and the scorer."""

    def __init__(
        self, hidden: int, n_tags: int, n_relations: int, config: JointConfig, dropout: float
    ) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.shape_embedding = (
            nn.Embedding(len(SHAPES), config.word_shape_dim, padding_idx=0) if config.word_shape_dim else None
        )
        hidden += config.word_shape_dim  # the shape embedding joins every word's hidden state
        self.ner = nn.Sequential(
            nn.Linear(hidden, config.ner_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(config.ner_hidden, n_tags),
        )
        self.label_embedding = (
            nn.Embedding(n_tags, config.label_embedding_dim) if config.label_embeddings else None
        )
        size = hidden + (config.label_embedding_dim if config.label_embeddings else 0)
        self.head_projection: nn.Module | None = None
        self.tail_projection: nn.Module | None = None
        if config.ffnn != "none":
            self.head_projection = projection(size, config.ffnn_size, dropout)
            if config.ffnn == "separate":
                self.tail_projection = projection(size, config.ffnn_size, dropout)
            size = config.ffnn_size
        self.scorer = BiaffineScorer(size, n_relations, bilinear=config.scorer == "biaffine")

    def relation_scores(self, words: torch.Tensor, tag_ids: torch.Tensor) -> torch.Tensor:
        """``words`` (batch, words, hidden) + tag ids (batch, words) -> (batch, words, words, classes)."""
        if self.label_embedding is not None:
            words = torch.cat([words, self.label_embedding(tag_ids).to(words.dtype)], -1)  # (b, w, h+d)
        heads = tails = words
        if self.head_projection is not None:
            heads = self.head_projection(words)  # (b, w, m)
            tails = (self.tail_projection or self.head_projection)(words)  # (b, w, m)
        return self.scorer(heads, tails)


class JointModel(nn.Module):
    """Encoder -> :class:`JointHead`; ``tags`` and ``relations`` are the label vocabularies."""

    def __init__(
        self,
        encoder: Any,
        tokenizer: Any,
        head: JointHead,
        tags: Sequence[str],
        relations: Sequence[str],
        config: ModelConfig,
        joint: JointConfig,
        symmetric: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.head = head
        self.tags = list(tags)
        self.relations = list(relations)
        self.config = config
        self.joint = joint
        self.symmetric = sorted(symmetric)

    @classmethod
    def create(
        cls,
        config: ModelConfig,
        joint: JointConfig,
        tags: Sequence[str],
        relations: Sequence[str],
        symmetric: Sequence[str] = (),
        encoder: Any = None,
        tokenizer: Any = None,
    ) -> JointModel:
        """A new model on the configured encoder (or the one given) with a fresh head."""
        if relations[0] != NEGATIVE or tags[0] != OUTSIDE:
            raise ConfigError(f"joint labels must start with {OUTSIDE!r} and {NEGATIVE!r}")
        if encoder is None or tokenizer is None:
            encoder, tokenizer = load_encoder(config.encoder)
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError(f"the joint model needs a fast tokenizer (word ids); {config.encoder} has none")
        head = JointHead(encoder.config.hidden_size, len(tags), len(relations), joint, config.dropout)
        return cls(encoder, tokenizer, head, tags, relations, config, joint, symmetric)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # Encoding ----------------------------------------------------------------------------------

    def encode(self, sentence: TaggedSentence, text: str) -> JointExample:
        """Sub-word ids of a sentence's words within ``model.max_length`` (truncated words counted)."""
        words = [text[start:end] for start, end in sentence.words]
        encoded = self.tokenizer(
            words, is_split_into_words=True, truncation=True, max_length=self.config.max_length
        )
        starts: list[int] = []
        for position, word in enumerate(encoded.word_ids()):
            if word is not None and word == len(starts):
                starts.append(position)
        kept = len(starts)
        tag_index = {t: i for i, t in enumerate(self.tags)}
        tag_ids = tuple(tag_index.get(t, 0) for t in sentence.tags[:kept])
        keep = [k for k, e in enumerate(sentence.entities) if e.last < kept]
        remap = {old: new for new, old in enumerate(keep)}
        relation_index = {r: i for i, r in enumerate(self.relations)}
        relations = tuple(
            (remap[r.head], remap[r.tail], relation_index[r.type])
            for r in sentence.relations
            if r.head in remap and r.tail in remap and r.type in relation_index
        )
        entities = tuple(sentence.entities[k] for k in keep)
        shapes = tuple(word_shape(word) for word in words[:kept])
        return JointExample(
            tuple(encoded["input_ids"]),
            tuple(starts),
            tag_ids,
            entities,
            relations,
            len(words) - kept,
            shapes,
        )

    def collate(self, examples: Sequence[JointExample]) -> dict[str, torch.Tensor]:
        """Pad a batch: sub-words (batch, seq) and words (batch, words); shape 0 pads."""
        pad = self.tokenizer.pad_token_id or 0
        seq = max(len(e.input_ids) for e in examples)
        n_words = max(1, max(len(e.word_starts) for e in examples))
        input_ids = torch.full((len(examples), seq), pad, dtype=torch.long)
        attention = torch.zeros((len(examples), seq), dtype=torch.long)
        starts = torch.zeros((len(examples), n_words), dtype=torch.long)
        word_mask = torch.zeros((len(examples), n_words), dtype=torch.bool)
        tags = torch.full((len(examples), n_words), -100, dtype=torch.long)
        shapes = torch.zeros((len(examples), n_words), dtype=torch.long)
        for row, example in enumerate(examples):
            input_ids[row, : len(example)] = torch.tensor(example.input_ids)
            attention[row, : len(example)] = 1
            k = len(example.word_starts)
            starts[row, :k] = torch.tensor(example.word_starts, dtype=torch.long)
            word_mask[row, :k] = True
            tags[row, :k] = torch.tensor(example.tag_ids, dtype=torch.long)
            shapes[row, : len(example.shapes)] = torch.tensor(example.shapes, dtype=torch.long)
        return {
            "input_ids": input_ids,
            "attention_mask": attention,
            "word_starts": starts,
            "word_mask": word_mask,
            "tags": tags,
            "word_shapes": shapes,
        }

    # Forward -----------------------------------------------------------------------------------

    def word_states(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Hidden state of every word's first sub-word (+ its shape embedding): (batch, words, hidden)."""
        hidden = self.encoder(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state  # (batch, seq, hidden)
        index = batch["word_starts"][..., None].expand(-1, -1, hidden.size(-1))  # (batch, words, hidden)
        words = hidden.gather(1, index)
        if self.head.shape_embedding is not None:
            shapes = self.head.shape_embedding(batch["word_shapes"]).to(words.dtype)  # (batch, words, d)
            words = torch.cat([words, shapes], -1)  # (batch, words, hidden + d)
        return self.head.dropout(words)

    def forward(
        self,
        batch: dict[str, torch.Tensor],
        examples: Sequence[JointExample] | None = None,
        re_weight: float = 1.0,
        re_entities: str = "predicted",
    ) -> JointOutput:
        """Logits for a collated batch; with ``examples`` (gold) also ``L_NER + re_weight * L_RE``.

        ``re_entities`` picks the tags RE sees and its candidates come from: ``predicted`` (argmax,
        as at inference) or ``gold``.
        """
        words = self.word_states(batch)
        tag_logits = self.head.ner(words)  # (batch, words, tags)
        mask = batch["word_mask"]
        if re_entities == "gold":
            tag_ids = batch["tags"].clamp(min=0)
        else:
            tag_ids = tag_logits.argmax(-1).masked_fill(~mask, 0)  # (batch, words)
        relation_logits = self.head.relation_scores(words, tag_ids)  # (batch, words, words, classes)
        if examples is None:
            return JointOutput(tag_logits, relation_logits)
        ner_loss = nn.functional.cross_entropy(
            tag_logits.float().flatten(0, 1), batch["tags"].flatten(), ignore_index=-100
        )
        candidates, labels = self._relation_targets(tag_ids, mask, examples)
        if candidates.any():
            re_loss = nn.functional.cross_entropy(relation_logits[candidates].float(), labels[candidates])
        else:
            re_loss = relation_logits.sum() * 0.0
        return JointOutput(tag_logits, relation_logits, ner_loss + re_weight * re_loss, ner_loss, re_loss)

    def _relation_targets(
        self, tag_ids: torch.Tensor, mask: torch.Tensor, examples: Sequence[JointExample]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Candidate mask and gold class of every (head last word, tail last word) pair."""
        batch, n_words = tag_ids.shape
        candidates = torch.zeros((batch, n_words, n_words), dtype=torch.bool)
        labels = torch.zeros((batch, n_words, n_words), dtype=torch.long)
        sequences = tag_ids.masked_fill(~mask, 0).tolist()
        lengths = mask.sum(1).tolist()
        for row, example in enumerate(examples):
            tags = [self.tags[i] for i in sequences[row][: lengths[row]]]
            found = decode_bioes(tags)  # RE candidates are the last words of these
            gold = {(e.first, e.last, e.type): k for k, e in enumerate(example.entities)}
            links = {(h, t): c for h, t, c in example.relations}
            for head in found:
                for tail in found:
                    if head is tail:
                        continue
                    candidates[row, head.last, tail.last] = True
                    h = gold.get((head.first, head.last, head.type))
                    t = gold.get((tail.first, tail.last, tail.type))
                    if h is not None and t is not None:
                        labels[row, head.last, tail.last] = links.get((h, t), 0)
        return candidates.to(tag_ids.device), labels.to(tag_ids.device)

    # Persistence -------------------------------------------------------------------------------

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write the model directory atomically."""
        metadata = {
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "model": self.config.model_dump(),
            "joint": self.joint.model_dump(),
            "tags": self.tags,
            "relations": self.relations,
            "symmetric": self.symmetric,
            **(extra or {}),
        }
        save_encoder_model(directory, self.encoder, self.tokenizer, self.head, metadata)

    @classmethod
    def load(cls, directory: str | Path, device: str | torch.device | None = None) -> JointModel:
        """Load a directory written by :meth:`save`."""
        meta, encoder, tokenizer = load_encoder_model(directory, KIND, "a joint NER+RE model")
        config = ModelConfig.model_validate(meta["model"])
        joint = JointConfig.model_validate(meta["joint"])
        head = JointHead(
            encoder.config.hidden_size, len(meta["tags"]), len(meta["relations"]), joint, config.dropout
        )
        load_head(head, directory)
        model = cls(
            encoder, tokenizer, head, meta["tags"], meta["relations"], config, joint, meta["symmetric"]
        )
        model.eval()
        return model.to(device) if device is not None else model
