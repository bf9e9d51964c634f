"""End-to-end scores: a gold Document against a predicted one (entities and relations both predicted).

- **NER** (strict): a predicted mention is right when its character spans and type equal a gold one.
- **RE strict**: relation type right and both arguments right by span *and* type.
- **RE boundaries**: relation type right and both arguments right by span (their types ignored).

Symmetric relations match in either direction. Each score has micro and macro P/R/F1 (macro =
mean over the gold types) and per-type rows; every report names its setting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from biorelex.document import Document, Entity, Relation
from biorelex.errors import ConfigError

SETTING = "end-to-end: predicted entities, sentence level"


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def prf_by_type(
    gold: Iterable[tuple[str, Hashable]], predicted: Iterable[tuple[str, Hashable]]
) -> dict[str, Any]:
    """Micro/macro/per-type P/R/F1 of ``(type, key)`` items (multisets compared as sets per document)."""
    gold_counts, predicted_counts = Counter(gold), Counter(predicted)
    types = sorted({t for t, _ in gold_counts} | {t for t, _ in predicted_counts})
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for item in gold_counts.keys() | predicted_counts.keys():
        hit = min(gold_counts[item], predicted_counts[item])
        tp[item[0]] += hit
        fp[item[0]] += predicted_counts[item] - hit
        fn[item[0]] += gold_counts[item] - hit
    per_type = {t: _prf(tp[t], fp[t], fn[t]) for t in types}
    micro = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    gold_types = [t for t in types if per_type[t]["support"]] or types
    macro = {
        k: (sum(float(per_type[t][k]) for t in gold_types) / len(gold_types) if gold_types else 0.0)
        for k in ("precision", "recall", "f1")
    }
    return {
        "micro_precision": micro["precision"],
        "micro_recall": micro["recall"],
        "micro_f1": micro["f1"],
        "macro_precision": macro["precision"],
        "macro_recall": macro["recall"],
        "macro_f1": macro["f1"],
        "support": micro["support"],
        "predicted": micro["tp"] + micro["fp"],
        "per_type": per_type,
    }


def _entity_key(entity: Entity) -> tuple[tuple[int, int], ...]:
    return entity.spans


def _relation_items(document: Document, typed: bool) -> list[tuple[str, Hashable]]:
    entities = {e.id: e for e in document.entities}
    items: list[tuple[str, Hashable]] = []
    for relation in document.relations:
        if relation.level != "mention":
            continue
        head, tail = entities[relation.head], entities[relation.tail]
        arguments = [
            (_entity_key(head), head.type if typed else ""),
            (_entity_key(tail), tail.type if typed else ""),
        ]
        if relation.symmetric:
            arguments.sort()
        items.append((relation.type, (document.id, *arguments)))
    return items


def joint_scores(
    gold: Sequence[Document], predicted: Sequence[Document], setting: str = SETTING
) -> dict[str, Any]:
    """NER, RE strict and RE boundaries scores of ``predicted`` against ``gold`` (matched by id);
    ``setting`` says what was predicted (default: entities and relations, end to end)."""
    by_id = {d.id: d for d in predicted}
    missing = [d.id for d in gold if d.id not in by_id]
    if missing:
        raise ConfigError(f"{len(missing)} gold documents have no prediction (first: {missing[0]!r})")
    ner_gold, ner_predicted, strict_gold, strict_predicted, loose_gold, loose_predicted = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for document in gold:
        prediction = by_id[document.id]
        if prediction.text != document.text:
            raise ConfigError(f"document {document.id!r}: the predicted text differs from the gold text")
        ner_gold += [(e.type, (document.id, _entity_key(e))) for e in document.entities]
        ner_predicted += [(e.type, (document.id, _entity_key(e))) for e in prediction.entities]
        strict_gold += _relation_items(document, True)
        strict_predicted += _relation_items(prediction, True)
        loose_gold += _relation_items(document, False)
        loose_predicted += _relation_items(prediction, False)
    return {
        "setting": setting,
        "documents": len(gold),
        "ner": prf_by_type(ner_gold, ner_predicted),
        "re_strict": prf_by_type(strict_gold, strict_predicted),
        "re_boundaries": prf_by_type(loose_gold, loose_predicted),
    }


def relation_evidence(document: Document, relation: Relation) -> str:
    """The sentence (given or covering span) in which both arguments of ``relation`` lie."""
    start, end = document.evidence_span(relation)
    return document.text[start:end]
