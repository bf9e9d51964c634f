"""BLURB-split instance files (JSONL): one candidate pair per line, as in ``chemprot/blurb``.

A line holds ``id``, ``sentence``, ``label`` and two argument objects with character offsets into
the sentence: ``chem``/``gene`` (ChemProt) or ``e1``/``e2`` (DDI, whose ``charOffset`` keeps the
pieces of discontinuous mentions with inclusive ends). Each line becomes one Document: the
sentence, the two mentions and, unless the label is negative (``false``, ``DDI-false``, ``0``), one
relation typed by the label. Candidate generation over such a Document yields exactly its pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from biorelex.data.formats._io import UniqueIds, guarded, iter_json_lines, source_text_attributes
from biorelex.data.formats.ddi import parse_char_offset
from biorelex.document import Document, Entity, Relation, span_text
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
    relations = []
    if label not in NEGATIVE_LABELS:
        relations.append(
            Relation(id="R1", type=label, head=head.id, tail=tail.id, symmetric=label.startswith("DDI-"))
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
