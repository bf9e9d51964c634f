"""SpERT JSON (ADE folds, CoNLL04): a list of ``{tokens, entities, relations, orig_id}``.

Entities are token ranges ``{type, start, end}`` (end exclusive); relations name entities by
index. The Document text is the tokens joined by one space, so every token keeps its characters;
entity ``i`` gets the id ``E{i}``. If a ``<prefix>_types.json`` lies beside the file, relation
types it marks ``symmetric`` become symmetric relations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from biorelex.data.formats._io import UniqueIds, guarded, load_json
from biorelex.document import Document, Entity, Relation
from biorelex.errors import FormatError, ReadReport


def symmetric_types(path: Path) -> set[str]:
    """Relation types the types file beside ``path`` marks symmetric (empty if there is none)."""
    types_path = path.with_name(path.name.split("_")[0] + "_types.json")
    if not types_path.exists():
        return set()
    spec = load_json(types_path)
    try:
        return {name for name, info in spec.get("relations", {}).items() if info.get("symmetric")}
    except AttributeError as exc:
        raise FormatError(f"invalid types file: {exc}", types_path) from None


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read a SpERT JSON file into one Document per sentence."""
    report = report or ReadReport()
    path = Path(path)
    records = load_json(path)
    if not isinstance(records, list):
        raise FormatError("expected a JSON list of sentences", path)
    symmetric = symmetric_types(path)
    ids = UniqueIds(report, path, "orig_id")
    for index, record in enumerate(records):
        element = f"[{index}]"
        document = guarded(report, path, None, element, _document, record, index, path, symmetric)
        if ids.admit(document, element=element):
            yield document


def _document(record: Any, index: int, path: Path, symmetric: set[str]) -> Document:
    element = f"[{index}]"
    if not isinstance(record, dict) or not isinstance(record.get("tokens"), list):
        raise FormatError("each sentence needs a 'tokens' list", path, element=element)
    tokens = [str(t) for t in record["tokens"]]
    starts, position = [], 0
    for token in tokens:
        starts.append(position)
        position += len(token) + 1
    text = " ".join(tokens)
    entities = []
    for i, ent in enumerate(record.get("entities", [])):
        where = f"{element}.entities[{i}]"
        try:
            start, end, ent_type = int(ent["start"]), int(ent["end"]), str(ent["type"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(
                "entity needs integer 'start', 'end' and a 'type'", path, element=where
            ) from None
        if not 0 <= start < end <= len(tokens):
            raise FormatError(
                f"token range ({start}, {end}) is out of range for {len(tokens)} tokens", path, element=where
            )
        char_start, char_end = starts[start], starts[end - 1] + len(tokens[end - 1])
        entities.append(
            Entity(id=f"E{i}", type=ent_type, spans=((char_start, char_end),), text=text[char_start:char_end])
        )
    relations = []
    for i, rel in enumerate(record.get("relations", [])):
        where = f"{element}.relations[{i}]"
        try:
            head, tail, rel_type = int(rel["head"]), int(rel["tail"]), str(rel["type"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(
                "relation needs integer 'head', 'tail' and a 'type'", path, element=where
            ) from None
        if not (0 <= head < len(entities) and 0 <= tail < len(entities)):
            raise FormatError(
                f"relation names entity {head if not 0 <= head < len(entities) else tail}, but the "
                f"sentence has {len(entities)} entities",
                path,
                element=where,
            )
        relations.append(
            Relation(
                id=f"R{i}", type=rel_type, head=f"E{head}", tail=f"E{tail}", symmetric=rel_type in symmetric
            )
        )
    doc_id = str(record.get("orig_id", index))
    return Document(
        id=doc_id,
        text=text,
        entities=tuple(entities),
        relations=tuple(relations),
        sentences=((0, len(text)),),
        metadata={"source": "spert", **({"orig_id": record["orig_id"]} if "orig_id" in record else {})},
    )
