"""Documents -> word-level BIOES sentences for the joint NER+RE model, and back.

Standard library only (no torch). A sentence is cut into *words* (``\\w+`` runs and single
punctuation characters, also split at every gold mention boundary so that mentions are whole words);
each word gets one BIOES tag. What BIOES cannot hold is handled by one documented rule, and every
mention and relation it costs is counted in a :class:`TaggingReport` (never hidden):

- a **discontinuous** mention becomes its covering extent (first start to last end);
- **overlapping or nested** mentions: the longest is kept (ties: the earliest), every mention that
  overlaps a kept one is dropped, with the relations it takes part in;
- a relation whose arguments lie in **different sentences** cannot be predicted sentence by
  sentence and is counted; concept-level relations (BC5CDR CID) are not mention relations and
  are counted apart.

Scores are always computed against the original gold Documents, so these losses count as errors.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from biorelex.data.sentences import document_sentences, sentence_index
from biorelex.document import Document, Span

WORD = re.compile(r"\w+|[^\w\s]")
OUTSIDE = "O"
NEGATIVE = "NEG"


@dataclass(frozen=True, slots=True)
class TaggedEntity:
    """A mention on word indices (``last`` inclusive) with the id of the Document entity."""

    first: int
    last: int
    type: str
    entity_id: str = ""


@dataclass(frozen=True, slots=True)
class TaggedRelation:
    """A relation between two :class:`TaggedEntity` of the same sentence (indices into ``entities``)."""

    head: int
    tail: int
    type: str


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    """One sentence: its character span, word spans, BIOES tags, entities and relations."""

    document_id: str
    span: Span
    words: tuple[Span, ...]
    tags: tuple[str, ...]
    entities: tuple[TaggedEntity, ...] = ()
    relations: tuple[TaggedRelation, ...] = ()


@dataclass
class TaggingReport:
    """What turning Documents into BIOES sentences cost, per corpus."""

    sentences: int = 0
    mentions: int = 0
    discontinuous_merged: int = 0
    overlapping_dropped: int = 0
    relations: int = 0
    relations_lost_to_dropped_mentions: int = 0
    relations_across_sentences: int = 0
    concept_relations_ignored: int = 0
    dropped_examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def tokenize_words(text: str, span: Span, boundaries: Iterable[int] = ()) -> list[Span]:
    """Word spans inside ``span`` of ``text``, additionally split at every offset in ``boundaries``."""
    start, end = span
    cuts = sorted({b for b in boundaries if start < b < end})
    words: list[Span] = []
    for match in WORD.finditer(text, start, end):
        word_start, word_end = match.span()
        inside = cuts[bisect.bisect_right(cuts, word_start) : bisect.bisect_left(cuts, word_end)]
        for piece_start, piece_end in zip([word_start, *inside], [*inside, word_end], strict=True):
            words.append((piece_start, piece_end))
    return words


def bioes_tags(n_words: int, entities: Sequence[TaggedEntity]) -> list[str]:
    """BIOES tags for non-overlapping entities over ``n_words`` words."""
    tags = [OUTSIDE] * n_words
    for entity in entities:
        if entity.first == entity.last:
            tags[entity.first] = f"S-{entity.type}"
            continue
        tags[entity.first] = f"B-{entity.type}"
        for i in range(entity.first + 1, entity.last):
            tags[i] = f"I-{entity.type}"
        tags[entity.last] = f"E-{entity.type}"
    return tags


def decode_bioes(tags: Sequence[str]) -> list[TaggedEntity]:
    """Spans from a BIOES tag sequence, with a lenient rule for malformed sequences.

    Every tagged word ends up in some entity: ``S`` is a one-word entity; ``B`` opens one; ``I``
    and ``E`` continue the open entity when it has their type, else they start a new one (the open
    entity is closed where it stands); ``E`` closes; ``O`` or the sentence end close an open entity.
    Unknown tags count as ``O``.
    """
    entities: list[TaggedEntity] = []
    open_first: int | None = None
    open_type = ""

    def close(last: int) -> None:
        nonlocal open_first
        if open_first is not None:
            entities.append(TaggedEntity(open_first, last, open_type))
        open_first = None

    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix not in ("B", "I", "E", "S") or not kind:
            close(i - 1)
            continue
        if prefix == "S":
            close(i - 1)
            entities.append(TaggedEntity(i, i, kind))
        elif prefix == "B" or open_first is None or kind != open_type:
            close(i - 1)
            open_first, open_type = i, kind
            if prefix == "E":
                close(i)
        elif prefix == "E":
            close(i)
    close(len(tags) - 1)
    return entities


def tag_labels(entity_types: Iterable[str]) -> list[str]:
    """The tag vocabulary: ``O`` then ``B-/I-/E-/S-`` of every type (sorted)."""
    return [OUTSIDE] + [f"{p}-{t}" for t in sorted(set(entity_types)) for p in "BIES"]


def relation_labels(relation_types: Iterable[str]) -> list[str]:
    """``NEG`` then every relation type (sorted)."""
    return [NEGATIVE, *sorted(set(relation_types))]


def _word_index(starts: Sequence[int], offset: int, first: bool) -> int:
    """The word (by its start offsets) a mention starting (``first``) or ending at ``offset`` covers."""
    if first:
        return bisect.bisect_right(starts, offset) - 1
    return bisect.bisect_left(starts, offset) - 1


def tag_document(
    document: Document, report: TaggingReport | None = None, splitter: str = "pysbd"
) -> list[TaggedSentence]:
    """The document's sentences as BIOES sentences (rules and counts: see the module docstring)."""
    report = report if report is not None else TaggingReport()
    sentences = document_sentences(document, splitter) or [(0, len(document.text))]
    sentence_of: dict[str, int] = {}
    extents: dict[str, Span] = {}
    sentence_starts = [s for s, _ in sentences]
    for entity in document.entities:
        report.mentions += 1
        if entity.is_discontinuous:
            report.discontinuous_merged += 1
        extents[entity.id] = (entity.start, entity.end)
        sentence_of[entity.id] = sentence_index(sentence_starts, entity.start)
    kept = _resolve_overlaps(document, extents, sentence_of, report)
    by_sentence: dict[int, list[str]] = {}
    for entity_id in kept:
        by_sentence.setdefault(sentence_of[entity_id], []).append(entity_id)
    types = {e.id: e.type for e in document.entities}
    relations_by_sentence: dict[int, list[tuple[str, str, str]]] = {}
    for relation in document.relations:
        if relation.level != "mention":
            report.concept_relations_ignored += 1
            continue
        report.relations += 1
        if relation.head not in kept or relation.tail not in kept:
            report.relations_lost_to_dropped_mentions += 1
            continue
        if sentence_of[relation.head] != sentence_of[relation.tail]:
            report.relations_across_sentences += 1
            continue
        relations_by_sentence.setdefault(sentence_of[relation.head], []).append(
            (relation.head, relation.tail, relation.type)
        )
    tagged = []
    for index, span in enumerate(sentences):
        report.sentences += 1
        ids = sorted(by_sentence.get(index, []), key=lambda i: extents[i])
        boundaries = [offset for i in ids for offset in extents[i]]
        words = tokenize_words(document.text, span, boundaries)
        word_starts = [w[0] for w in words]
        entities = []
        for entity_id in ids:
            start, end = extents[entity_id]
            first, last = _word_index(word_starts, start, True), _word_index(word_starts, end, False)
            entities.append(TaggedEntity(first, last, types[entity_id], entity_id))
        position = {e.entity_id: k for k, e in enumerate(entities)}
        relations = tuple(
            TaggedRelation(position[head], position[tail], kind)
            for head, tail, kind in relations_by_sentence.get(index, [])
        )
        tagged.append(
            TaggedSentence(
                document.id,
                span,
                tuple(words),
                tuple(bioes_tags(len(words), entities)),
                tuple(entities),
                relations,
            )
        )
    return tagged


def _resolve_overlaps(
    document: Document, extents: dict[str, Span], sentence_of: dict[str, int], report: TaggingReport
) -> set[str]:
    """Ids of the mentions kept: longest first (ties: earliest), none overlapping a kept one."""
    order = sorted(extents, key=lambda i: (-(extents[i][1] - extents[i][0]), extents[i][0], i))
    kept: list[str] = []
    for entity_id in order:
        start, end = extents[entity_id]
        if any(start < extents[k][1] and extents[k][0] < end for k in kept):
            report.overlapping_dropped += 1
            if len(report.dropped_examples) < 5:
                report.dropped_examples.append(f"{document.id}:{entity_id}")
            continue
        kept.append(entity_id)
    return set(kept)


def tag_documents(
    documents: Iterable[Document], report: TaggingReport | None = None, splitter: str = "pysbd"
) -> list[TaggedSentence]:
    """:func:`tag_document` over a corpus."""
    report = report if report is not None else TaggingReport()
    return [sentence for document in documents for sentence in tag_document(document, report, splitter)]
