"""SpERT JSON (ADE folds, CoNLL04): a list of ``{tokens, entities, relations, orig_id}``.

Entities are token ranges ``{type, start, end}`` (end exclusive); relations name entities by
index. The Document text is the tokens joined by one space, so every token keeps its characters;
entity ``i`` gets the id ``E{i}``. If a ``<prefix>_types.json`` lies beside the file, relation
types it marks ``symmetric`` become symmetric relations.

Writing (:func:`write`) gives one record per Document (split Documents into sentences first for
sentence-level data): its tokens are the whitespace-separated pieces of the text, also cut at every
entity boundary so that each entity is a token range. So a Document read from SpERT is written back
token for token, and any other's text comes back with its runs of white space as single spaces.
Relation scores have no field and are not written; the types file is not written either.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from biorelex.data.formats._io import UniqueIds, atomic_write, guarded, load_json
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


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write Documents as one SpERT JSON list (atomically); returns the number written.

    Entities must be continuous and relations link mentions; anything else is refused with the
    document named.
    """
    count = 0
    with atomic_write(path) as handle:
        handle.write("[")
        for document in documents:
            handle.write(",\n " if count else "")
            handle.write(json.dumps(_record(document), ensure_ascii=False))
            count += 1
        handle.write("]\n")
    return count


def _tokens(text: str, boundaries: set[int]) -> list[tuple[int, int]]:
    """Character spans of the whitespace-separated pieces of ``text``, cut at ``boundaries``."""
    ordered = sorted(boundaries)
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"\S+", text):
        start, end = match.span()
        cuts = ordered[bisect.bisect_right(ordered, start) : bisect.bisect_left(ordered, end)]
        edges = [start, *cuts, end]
        spans.extend(zip(edges, edges[1:], strict=False))
    return spans


def _record(document: Document) -> dict[str, Any]:
    where = f"document {document.id!r}"
    for entity in document.entities:
        if entity.is_discontinuous:
            raise FormatError(
                f"{where}: entity {entity.id!r} is discontinuous, which SpERT cannot hold; "
                "write jsonl, brat or bioc instead"
            )
    tokens = _tokens(document.text, {b for e in document.entities for b in (e.start, e.end)})
    index: dict[str, int] = {}
    entities: list[dict[str, Any]] = []
    for entity in document.entities:
        covered = [i for i, (start, end) in enumerate(tokens) if entity.start <= start and end <= entity.end]
        if not covered:
            raise FormatError(f"{where}: entity {entity.id!r} covers no token (only white space)")
        index[entity.id] = len(entities)
        entities.append({"type": entity.type, "start": covered[0], "end": covered[-1] + 1})
    relations = []
    for relation in document.relations:
        if relation.level != "mention":
            raise FormatError(
                f"{where}: relation {relation.id!r} links concepts; SpERT relations link mentions, "
                "so write jsonl, bioc or pubtator instead"
            )
        relations.append({"type": relation.type, "head": index[relation.head], "tail": index[relation.tail]})
    record: dict[str, Any] = {
        "tokens": [document.text[start:end] for start, end in tokens],
        "entities": entities,
        "relations": relations,
    }
    # a Document read from SpERT keeps its orig_id (or its lack: the id was the record's index)
    if "orig_id" in document.metadata:
        record["orig_id"] = document.metadata["orig_id"]
    elif document.metadata.get("source") != "spert":
        record["orig_id"] = document.id
    return record
