"""BLURB-split instance files (JSONL): one candidate pair per line, as in ``chemprot/blurb``.

A line holds ``id``, ``sentence``, ``label`` and two argument objects with character offsets into
the sentence: ``chem``/``gene`` (ChemProt) or ``e1``/``e2`` (DDI, whose ``charOffset`` keeps the
pieces of discontinuous mentions with inclusive ends). Each line becomes one Document: the
sentence, the two mentions and, unless the label is negative (``false``, ``DDI-false``, ``0``), one
relation typed by the label (scored by an optional ``score`` field, which the writer adds to
predicted relations). Candidate generation over such a Document yields exactly its pair.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from biorelex.data.formats._io import (
    UniqueIds,
    atomic_write,
    guarded,
    iter_json_lines,
    source_text_attributes,
)
from biorelex.data.formats._pairs import Pair, document_pairs
from biorelex.data.formats.ddi import format_char_offset, parse_char_offset
from biorelex.document import Document, Entity, Relation, Span, span_text
from biorelex.errors import FormatError, ReadReport

NEGATIVE_LABELS = frozenset({"false", "DDI-false", "0", "negative", "None"})
ARGUMENT_KEYS = (("chem", "gene"), ("e1", "e2"))


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read a BLURB instance file (``train.jsonl``, ...) into one Document per pair."""
    report = report or ReadReport()
    path = Path(path)
    split = path.stem if path.stem in ("train", "dev", "test") else None
    ids = UniqueIds(report, path, "pair id")
    for number, record in iter_json_lines(path, report):
        document = guarded(report, path, number, None, _document, record, path, number, split)
        if ids.admit(document, number):
            yield document


def _field(record: dict[str, Any], key: str, path: Path, number: int) -> Any:
    if key not in record:
        raise FormatError(f"missing field {key!r}", path, number)
    return record[key]


def _argument(value: Any, key: str, sentence: str, path: Path, number: int) -> Entity:
    if not isinstance(value, dict):
        raise FormatError(f"field {key!r} must be an object with start/end/text", path, number)
    for name in ("id", "type", "start", "end", "text"):
        if name not in value:
            raise FormatError(f"field {key}.{name} is missing", path, number)
    if "charOffset" in value and ";" in str(value["charOffset"]):
        spans = parse_char_offset(str(value["charOffset"]), len(sentence), path, f"line {number}")
    else:
        start, end = value["start"], value["end"]
        if not isinstance(start, int) or not isinstance(end, int):
            raise FormatError(f"{key}.start and {key}.end must be integers", path, number)
        if end > len(sentence) or start < 0 or end <= start:
            raise FormatError(
                f"{key} offsets ({start}, {end}) are out of range for a sentence of "
                f"{len(sentence)} characters",
                path,
                number,
            )
        spans = ((start, end),)
    covered = span_text(sentence, spans)
    attributes = source_text_attributes(
        covered,
        value["text"],
        len(spans),
        FormatError(
            f"{key}.text {value['text']!r} does not match the sentence at "
            f"({spans[0][0]}, {spans[0][1]}): {covered!r}",
            path,
            number,
        ),
    )
    return Entity(
        id=str(value["id"]), type=str(value["type"]), spans=spans, text=covered, attributes=attributes
    )


def _document(record: Any, path: Path, number: int, split: str | None) -> Document:
    if not isinstance(record, dict):
        raise FormatError("each line must be a JSON object", path, number)
    sentence = _field(record, "sentence", path, number)
    if not isinstance(sentence, str):
        raise FormatError("field 'sentence' must be a string", path, number)
    keys = next((pair for pair in ARGUMENT_KEYS if pair[0] in record), None)
    if keys is None:
        raise FormatError("expected argument fields 'chem'/'gene' or 'e1'/'e2'", path, number)
    head = _argument(_field(record, keys[0], path, number), keys[0], sentence, path, number)
    tail = _argument(_field(record, keys[1], path, number), keys[1], sentence, path, number)
    if head.id == tail.id:
        raise FormatError(f"both arguments have the id {head.id!r}", path, number)
    label = str(_field(record, "label", path, number))
    score = record.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        raise FormatError(f"field 'score' must be a number, got {score!r}", path, number)
    relations = []
    if label not in NEGATIVE_LABELS:
        relations.append(
            Relation(
                id="R1",
                type=label,
                head=head.id,
                tail=tail.id,
                symmetric=label.startswith("DDI-"),
                score=None if score is None else float(score),
            )
        )
    pair_id = str(record.get("id") or f"{path.stem}.{number}")
    metadata: dict[str, Any] = {"source": "blurb", "pair_id": pair_id}
    if split:
        metadata["split"] = split
    for key in ("pmid", "doc", "sent_idx"):
        if key in record:
            metadata[key] = record[key]
    return Document(
        id=pair_id,
        text=sentence,
        entities=(head, tail),
        relations=tuple(relations),
        sentences=((0, len(sentence)),),
        metadata=metadata,
    )


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write one BLURB instance line per pair of each Document (atomically); returns the Documents.

    The pairs are :func:`~biorelex.data.formats._pairs.document_pairs`'. A CHEMICAL -> GENE pair is
    written in ChemProt's shape (``pmid``, ``sent_idx``, ``chem``/``gene``, negative label
    ``false``), any other pair in DDI's (``doc``, ``e1``/``e2`` with ``charOffset``, negative
    label ``DDI-false``). A relation's type is its label as it stands (DDI XML's ``effect`` stays
    ``effect``); its score, when it has one, goes in an extra ``score`` field that the reader reads.
    Discontinuous mentions are held by ``charOffset`` and refused in the ChemProt shape.
    """
    count = 0
    with atomic_write(path) as handle:
        for document in documents:
            for pair in document_pairs(document, "BLURB"):
                handle.write(json.dumps(_record(document, pair), ensure_ascii=False) + "\n")
            count += 1
    return count


def _argument_record(document: Document, entity: Entity, sentence: Span, ddi_shape: bool) -> dict[str, Any]:
    start = sentence[0]
    if entity.is_discontinuous and not ddi_shape:
        raise FormatError(
            f"document {document.id!r}: entity {entity.id!r} is discontinuous, which BLURB's "
            "chem/gene fields cannot hold; write jsonl or bioc instead"
        )
    record: dict[str, Any] = {"id": entity.id, "type": entity.type}
    if ddi_shape:
        record["charOffset"] = format_char_offset(entity.spans, start)
    record.update(
        start=entity.start - start,
        end=entity.end - start,
        text=str(entity.attributes.get("source_text", entity.text)),
    )
    return record


def _record(document: Document, pair: Pair) -> dict[str, Any]:
    ddi_shape = not (pair.head.type == "CHEMICAL" and pair.tail.type.startswith("GENE"))
    keys = ARGUMENT_KEYS[1] if ddi_shape else ARGUMENT_KEYS[0]
    metadata = document.metadata
    one_pair = metadata.get("source") == "blurb" and len(document.entities) == 2
    pair_id = (
        metadata.get("pair_id", document.id) if one_pair else f"{document.id}.{pair.head.id}.{pair.tail.id}"
    )
    record: dict[str, Any] = {"id": pair_id}
    if ddi_shape:
        record["doc"] = metadata.get("doc", document.id) if one_pair else document.id
    else:
        record["pmid"] = metadata.get("pmid", document.id)
        record["sent_idx"] = (
            metadata.get("sent_idx", pair.sentence_index) if one_pair else pair.sentence_index
        )
    relation = pair.relation
    record["sentence"] = document.text[pair.sentence[0] : pair.sentence[1]]
    record["label"] = relation.type if relation else ("DDI-false" if ddi_shape else "false")
    record[keys[0]] = _argument_record(document, pair.head, pair.sentence, ddi_shape)
    record[keys[1]] = _argument_record(document, pair.tail, pair.sentence, ddi_shape)
    if relation is not None and relation.score is not None:
        record["score"] = relation.score
    return record
