"""Corpus statistics: documents, sentences, entities and relations by type, candidate pairs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from biorelex.data.candidates import CandidateConfig, generate_candidates
from biorelex.data.sentences import document_sentences
from biorelex.document import Document


def corpus_stats(documents: Iterable[Document], candidates: CandidateConfig | None = None) -> dict[str, Any]:
    """Count what a corpus holds; with ``candidates``, also its candidate pairs.

    Sentences are the given ones, else split (never through a mention) with the candidate
    config's splitter (pysbd by default).
    """
    splitter = candidates.splitter if candidates else "pysbd"
    docs = entities = relations = sentences = discontinuous = 0
    entity_types: Counter[str] = Counter()
    relation_types: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    pairs = 0
    pair_labels: Counter[str] = Counter()
    uncovered = 0
    for document in documents:
        docs += 1
        document_spans = document_sentences(document, splitter)
        sentences += len(document_spans)
        entities += len(document.entities)
        discontinuous += sum(e.is_discontinuous for e in document.entities)
        entity_types.update(e.type for e in document.entities)
        relations += len(document.relations)
        relation_types.update(r.type for r in document.relations)
        levels.update(r.level for r in document.relations)
        if candidates is not None:
            covered: set[frozenset[str]] = set()
            for candidate in generate_candidates(document, candidates, document_spans):
                pairs += 1
                pair_labels[candidate.label or "NEGATIVE"] += 1
                if candidate.label is not None:
                    covered.add(frozenset((candidate.head.id, candidate.tail.id)))
            uncovered += sum(
                1
                for r in document.relations
                if r.level == "mention" and frozenset((r.head, r.tail)) not in covered
            )
    out: dict[str, Any] = {
        "documents": docs,
        "sentences": sentences,
        "entities": entities,
        "discontinuous_entities": discontinuous,
        "entities_by_type": dict(sorted(entity_types.items())),
        "relations": relations,
        "relations_by_type": dict(sorted(relation_types.items())),
    }
    if levels.get("concept"):
        out["concept_level_relations"] = levels["concept"]
    if candidates is not None:
        out["candidates"] = {
            "config": {
                "type_pairs": [list(p) for p in candidates.type_pairs],
                "directed": candidates.directed,
                "scope": candidates.scope,
                "splitter": candidates.splitter,
            },
            "pairs": pairs,
            "by_label": dict(sorted(pair_labels.items())),
            "mention_relations_outside_candidates": uncovered,
        }
    return out
