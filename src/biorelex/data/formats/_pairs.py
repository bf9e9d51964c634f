"""The pairs a pair-per-line format (BLURB instances, BLUE masked sentences) writes for a Document.

A Document with exactly two entities in one sentence (what the pair readers yield) is one pair,
in the order of its entities. Any other Document gives one pair per candidate of its sentences:
chemical -> gene pairs when it has ``CHEMICAL`` and ``GENE*`` mentions (ChemProt's rule), every
unordered pair otherwise (DDI's rule), a labelled pair keeping its relation's direction. A pair
holds one label, so a pair with two relations is refused, as is a relation no pair holds (concept
level, or across sentences): nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from biorelex.data.candidates import PRESETS, CandidateConfig, generate_candidates
from biorelex.data.sentences import document_sentences
from biorelex.document import Document, Entity, Relation, Span
from biorelex.errors import FormatError


@dataclass(frozen=True)
class Pair:
    """One written line: two mentions of one sentence and the relation between them, if any."""

    sentence: Span
    sentence_index: int
    head: Entity
    tail: Entity
    relation: Relation | None


def _config(document: Document) -> CandidateConfig:
    types = {entity.type for entity in document.entities}
    if "CHEMICAL" in types and any(fnmatchcase(t, "GENE*") for t in types):
        return PRESETS["chemprot"]
    return CandidateConfig(directed=False)


def document_pairs(document: Document, form: str) -> Iterator[Pair]:
    """The pairs of ``document`` as :mod:`_pairs` describes; ``form`` names the format in errors."""
    where = f"document {document.id!r}"
    for relation in document.relations:
        if relation.level != "mention":
            raise FormatError(
                f"{where}: relation {relation.id!r} links concepts; {form} labels mention pairs, "
                "so write jsonl, bioc or pubtator instead"
            )
    by_pair: dict[frozenset[str], list[Relation]] = {}
    for relation in document.relations:
        by_pair.setdefault(frozenset((relation.head, relation.tail)), []).append(relation)
    sentences = document_sentences(document)
    starts = [start for start, _ in sentences]
    if len(document.entities) == 2:
        first, second = document.entities
        inside = [
            i
            for i, (s, e) in enumerate(sentences)
            if s <= min(first.start, second.start) and max(first.end, second.end) <= e
        ]
        candidates = [(sentences[inside[0]], first, second)] if inside else []
    else:
        candidates = [
            (c.span, c.head, c.tail) for c in generate_candidates(document, _config(document), sentences)
        ]
    written: set[str] = set()
    for span, head, tail in candidates:
        found = by_pair.get(frozenset((head.id, tail.id)), [])
        if len(found) > 1:
            raise FormatError(
                f"{where}: the pair {head.id!r}, {tail.id!r} has {len(found)} relations "
                f"({', '.join(r.id for r in found)}); a {form} line holds one label"
            )
        labelled = found[0] if found else None
        if labelled is not None:
            written.add(labelled.id)
            if labelled.head != head.id:  # keep the relation's direction
                head, tail = tail, head
        yield Pair(span, starts.index(span[0]), head, tail, labelled)
    for relation in document.relations:
        if relation.id not in written:
            raise FormatError(
                f"{where}: relation {relation.id!r} links mentions that no {form} pair holds "
                "(not in one sentence, or not a candidate pair of their types); write jsonl, bioc "
                "or brat instead"
            )
