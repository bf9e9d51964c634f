"""The document model every reader, writer, model and evaluator speaks.

Standard library only (no torch). Character offsets into ``Document.text`` are the truth; tokens
and sub-words are derived when encoding and never stored. Objects are frozen and check their
invariants when built, raising :class:`~biorelex.errors.DocumentError` naming the document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from biorelex.errors import DocumentError

Span = tuple[int, int]
"""A half-open character range ``(start, end)`` into ``Document.text``."""

RELATION_LEVELS = ("mention", "concept")


def freeze(value: Any) -> Any:
    """Turn JSON-like data into an immutable, comparable equivalent (lists become tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of :func:`freeze`: plain dicts and lists, ready for ``json.dumps``."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Entity:
    """An entity mention: one or more character spans (several for discontinuous mentions).

    Attributes:
        id: unique within its document.
        type: entity type, e.g. ``CHEMICAL``.
        spans: sorted, non-overlapping ``(start, end)`` character ranges.
        text: the covered text; for several spans, the fragments joined by one space.
        concept_ids: normalised concept ids (MeSH, ...), several for composite mentions.
        attributes: further source annotations kept for round trips (BRAT attributes, BioC infons).
    """

    id: str
    type: str
    spans: tuple[Span, ...]
    text: str
    concept_ids: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", tuple((int(s), int(e)) for s, e in self.spans))
        object.__setattr__(self, "concept_ids", tuple(self.concept_ids))
        object.__setattr__(self, "attributes", freeze(self.attributes))
        if not self.id:
            raise DocumentError(None, f"entity {self.text!r} has an empty id")
        if not self.type:
            raise DocumentError(None, f"entity {self.id!r} has an empty type")
        if not self.spans:
            raise DocumentError(None, f"entity {self.id!r} has no character span")
        previous_end = -1
        for start, end in self.spans:
            if start < 0 or end <= start:
                raise DocumentError(
                    None, f"entity {self.id!r} has an empty or negative span ({start}, {end})"
                )
            if start < previous_end:
                raise DocumentError(
                    None, f"entity {self.id!r} has unsorted or overlapping spans {self.spans}"
                )
            previous_end = end

    @property
    def start(self) -> int:
        """First character of the mention."""
        return self.spans[0][0]

    @property
    def end(self) -> int:
        """One past the last character of the mention."""
        return self.spans[-1][1]

    @property
    def is_discontinuous(self) -> bool:
        return len(self.spans) > 1


@dataclass(frozen=True, slots=True)
class Relation:
    """A typed relation between two arguments.

    Attributes:
        id: unique within its document.
        type: relation type, e.g. ``CPR:4``.
        head: id of the first argument (an entity id, or a concept id when ``level="concept"``).
        tail: id of the second argument.
        score: model confidence, ``None`` for gold annotations.
        symmetric: ``True`` when the relation has no direction (head/tail order is meaningless).
        level: ``"mention"`` (arguments are entity ids) or ``"concept"`` (arguments are concept
            ids of the document's entities, as BC5CDR's document-level CID relations).
    """

    id: str
    type: str
    head: str
    tail: str
    score: float | None = None
    symmetric: bool = False
    level: str = "mention"

    def __post_init__(self) -> None:
        if not self.id:
            raise DocumentError(None, f"a {self.type!r} relation has an empty id")
        if not self.type:
            raise DocumentError(None, f"relation {self.id!r} has an empty type")
        if self.level not in RELATION_LEVELS:
            raise DocumentError(None, f"relation {self.id!r}: level must be one of {RELATION_LEVELS}")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise DocumentError(None, f"relation {self.id!r}: score {self.score} not in [0, 1]")

    def key(self) -> tuple[str, str, str]:
        """(type, head, tail), with head/tail sorted for symmetric relations."""
        head, tail = (self.head, self.tail)
        if self.symmetric and tail < head:
            head, tail = tail, head
        return (self.type, head, tail)


@dataclass(frozen=True, slots=True)
class Document:
    """A text with its entity mentions, relations and metadata.

    Attributes:
        id: document id (unique within a corpus).
        text: the full text; every offset points into it.
        entities: entity mentions, unique ids.
        relations: relations whose arguments exist in ``entities``.
        sentences: sentence spans given by the source (empty: split on demand).
        metadata: ``split``, ``source``, ``pmid`` and format-specific facts (e.g. ``passages``).
    """

    id: str
    text: str
    entities: tuple[Entity, ...] = ()
    relations: tuple[Relation, ...] = ()
    sentences: tuple[Span, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entities", tuple(self.entities))
        object.__setattr__(self, "relations", tuple(self.relations))
        object.__setattr__(self, "sentences", tuple((int(s), int(e)) for s, e in self.sentences))
        object.__setattr__(self, "metadata", freeze(self.metadata))
        if not self.id:
            raise DocumentError(None, "document has an empty id")
        self._check_entities()
        self._check_relations()
        self._check_sentences()

    def _check_entities(self) -> None:
        seen: set[str] = set()
        n = len(self.text)
        for entity in self.entities:
            if entity.id in seen:
                raise DocumentError(self.id, f"duplicate entity id {entity.id!r}")
            seen.add(entity.id)
            if entity.end > n:
                raise DocumentError(
                    self.id,
                    f"entity {entity.id!r} span {entity.spans} is out of range (text has {n} characters)",
                )
            covered = span_text(self.text, entity.spans)
            if covered != entity.text:
                raise DocumentError(
                    self.id,
                    f"entity {entity.id!r} text {entity.text!r} does not match the text at "
                    f"{entity.spans}: {covered!r}",
                )

    def _check_relations(self) -> None:
        entity_ids = {e.id for e in self.entities}
        concept_ids = {c for e in self.entities for c in e.concept_ids}
        seen: set[str] = set()
        for relation in self.relations:
            if relation.id in seen:
                raise DocumentError(self.id, f"duplicate relation id {relation.id!r}")
            seen.add(relation.id)
            known = entity_ids if relation.level == "mention" else concept_ids
            kind = "entity" if relation.level == "mention" else "concept"
            for role, arg in (("head", relation.head), ("tail", relation.tail)):
                if arg not in known:
                    raise DocumentError(
                        self.id,
                        f"relation {relation.id!r} ({relation.type}) {role} {arg!r} names no "
                        f"{kind} of this document",
                    )

    def _check_sentences(self) -> None:
        previous_end = 0
        for start, end in self.sentences:
            if start < previous_end or end < start or end > len(self.text):
                raise DocumentError(
                    self.id, f"sentence span ({start}, {end}) is out of order or out of range"
                )
            previous_end = end

    # Convenience -------------------------------------------------------------------------------

    def entity(self, entity_id: str) -> Entity:
        """The entity with this id (``KeyError`` if none)."""
        for entity in self.entities:
            if entity.id == entity_id:
                return entity
        raise KeyError(f"document {self.id!r} has no entity {entity_id!r}")

    def evidence_span(self, relation: Relation) -> Span:
        """Where ``relation`` is stated: the sentence (of ``sentences``) holding both arguments,
        else the range covering them; the whole text for a concept-level relation."""
        if relation.level == "concept":
            return (0, len(self.text))
        head, tail = self.entity(relation.head), self.entity(relation.tail)
        start, end = min(head.start, tail.start), max(head.end, tail.end)
        for sentence_start, sentence_end in self.sentences:
            if sentence_start <= start and end <= sentence_end:
                return (sentence_start, sentence_end)
        return (start, end)

    def with_relations(self, relations: Iterable[Relation]) -> Document:
        """A copy with other relations (e.g. a model's predictions)."""
        return replace(self, relations=tuple(relations))

    def with_metadata(self, **items: Any) -> Document:
        """A copy with metadata items added or replaced."""
        return replace(self, metadata={**self.metadata, **items})


def span_text(text: str, spans: Iterable[Span]) -> str:
    """The text covered by ``spans``: fragments joined by one space (BRAT's convention)."""
    return " ".join(text[start:end] for start, end in spans)
