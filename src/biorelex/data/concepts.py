"""Concept-level relations (BC5CDR's document-level CID) as mention relations inside sentences.

A concept-level relation links two concept ids, not two mentions, so a sentence-level model (the
joint NER+RE model, the classifiers' sentence setting) cannot learn or predict it as such. The
literature's sentence-level setting for BC5CDR keeps the CID pairs whose two concepts are
mentioned in the same sentence: :func:`project_concept_relations` replaces each concept-level
relation by one mention-level relation for every (head mention, tail mention) pair in one sentence
whose concept ids contain the relation's head and tail concept ids. A concept pair that never shares
a sentence cannot be found at the sentence level; it is counted (``unreachable``), never hidden.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from biorelex.data.sentences import document_sentences, sentence_index
from biorelex.document import Document, Relation


@dataclass
class ProjectionReport:
    """What the projection did over a corpus."""

    documents: int = 0
    concept_relations: int = 0
    reachable: int = 0
    unreachable: int = 0
    mention_relations: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        return (
            f"{self.concept_relations} concept-level relations: {self.reachable} share a sentence "
            f"({self.mention_relations} mention relations), {self.unreachable} never do and cannot be "
            "found sentence by sentence"
        )


def project_concept_relations(
    document: Document, splitter: str = "pysbd", report: ProjectionReport | None = None
) -> Document:
    """``document`` with its concept-level relations replaced by same-sentence mention relations.

    Mention-level relations are kept as they are; a document without concept-level relations is
    returned unchanged. The sentences the projection used are stored in the document (when it had
    none), so every later sentence-level step sees the same sentences.
    """
    report = report if report is not None else ProjectionReport()
    report.documents += 1
    concept_level = [r for r in document.relations if r.level == "concept"]
    if not concept_level:
        return document
    sentences = document_sentences(document, splitter)
    starts = [start for start, _ in sentences]
    sentence_of = {e.id: sentence_index(starts, e.start) for e in document.entities}
    relations = [r for r in document.relations if r.level != "concept"]
    taken = {r.id for r in relations}
    seen: set[tuple[str, str, str]] = set()
    for relation in concept_level:
        report.concept_relations += 1
        heads = [e for e in document.entities if relation.head in e.concept_ids]
        tails = [e for e in document.entities if relation.tail in e.concept_ids]
        pairs = [
            (h, t) for h in heads for t in tails if h.id != t.id and sentence_of[h.id] == sentence_of[t.id]
        ]
        if not pairs:
            report.unreachable += 1
            continue
        report.reachable += 1
        for head, tail in pairs:
            key = (relation.type, head.id, tail.id)
            if key in seen:
                continue
            seen.add(key)
            identifier = _fresh_id(f"{relation.id}.{len(seen)}", taken)
            relations.append(
                Relation(identifier, relation.type, head.id, tail.id, symmetric=relation.symmetric)
            )
            report.mention_relations += 1
    return dataclasses.replace(document, relations=tuple(relations), sentences=tuple(sentences))


def project_corpus(
    documents: Iterable[Document], splitter: str = "pysbd", report: ProjectionReport | None = None
) -> Iterator[Document]:
    """:func:`project_concept_relations` over a corpus."""
    report = report if report is not None else ProjectionReport()
    for document in documents:
        yield project_concept_relations(document, splitter, report)


def _fresh_id(identifier: str, taken: set[str]) -> str:
    candidate, n = identifier, 1
    while candidate in taken:
        n += 1
        candidate = f"{identifier}_{n}"
    taken.add(candidate)
    return candidate
