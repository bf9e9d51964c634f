"""biorelex's own JSONL: one Document per line, lossless.

``{"id", "text", "entities": [{"id", "type", "spans": [[s, e]], "text", "concept_ids",
"attributes"}], "relations": [{"id", "type", "head", "tail", "score", "symmetric", "level"}],
"sentences": [[s, e]], "metadata": {}}``. Optional keys may be omitted when empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from biorelex.data.formats._io import UniqueIds, atomic_write, guarded, iter_json_lines
from biorelex.document import Document, Entity, Relation, thaw
from biorelex.errors import ReadReport


def document_to_dict(document: Document) -> dict[str, Any]:
    """A JSON-ready dict of a Document (the inverse of :func:`document_from_dict`)."""
    entities = []
    for e in document.entities:
        item: dict[str, Any] = {
            "id": e.id,
            "type": e.type,
            "spans": [list(s) for s in e.spans],
            "text": e.text,
        }
        if e.concept_ids:
            item["concept_ids"] = list(e.concept_ids)
        if e.attributes:
            item["attributes"] = thaw(e.attributes)
        entities.append(item)
    relations = []
    for r in document.relations:
        rel: dict[str, Any] = {"id": r.id, "type": r.type, "head": r.head, "tail": r.tail}
        if r.score is not None:
            rel["score"] = r.score
        if r.symmetric:
            rel["symmetric"] = True
        if r.level != "mention":
            rel["level"] = r.level
        relations.append(rel)
    out: dict[str, Any] = {
        "id": document.id,
        "text": document.text,
        "entities": entities,
        "relations": relations,
    }
    if document.sentences:
        out["sentences"] = [list(s) for s in document.sentences]
    if document.metadata:
        out["metadata"] = thaw(document.metadata)
    return out


def document_from_dict(data: Any) -> Document:
    """Build a Document from :func:`document_to_dict` output, with errors naming the field."""
    if not isinstance(data, dict):
        raise ValueError("a document must be a JSON object")
    unknown = set(data) - {"id", "text", "entities", "relations", "sentences", "metadata"}
    if unknown:
        raise ValueError(f"unknown document field(s) {sorted(unknown)}")
    for key in ("id", "text"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"field {key!r} must be a string")
    entities = []
    for i, e in enumerate(data.get("entities", [])):
        try:
            entities.append(
                Entity(
                    id=str(e["id"]),
                    type=str(e["type"]),
                    spans=tuple((int(s), int(t)) for s, t in e["spans"]),
                    text=str(e["text"]),
                    concept_ids=tuple(e.get("concept_ids", ())),
                    attributes=e.get("attributes", {}),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"entities[{i}]: {_describe(exc)}") from None
    relations = []
    for i, r in enumerate(data.get("relations", [])):
        try:
            relations.append(
                Relation(
                    id=str(r["id"]),
                    type=str(r["type"]),
                    head=str(r["head"]),
                    tail=str(r["tail"]),
                    score=None if r.get("score") is None else float(r["score"]),
                    symmetric=bool(r.get("symmetric", False)),
                    level=str(r.get("level", "mention")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"relations[{i}]: {_describe(exc)}") from None
    return Document(
        id=data["id"],
        text=data["text"],
        entities=tuple(entities),
        relations=tuple(relations),
        sentences=tuple((int(s), int(e)) for s, e in data.get("sentences", [])),
        metadata=data.get("metadata", {}),
    )


def _describe(exc: Exception) -> str:
    return f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read one Document per non-blank line."""
    report = report or ReadReport()
    path = Path(path)
    ids = UniqueIds(report, path)
    for number, data in iter_json_lines(path, report):
        document = guarded(report, path, number, None, document_from_dict, data)
        if ids.admit(document, number):
            yield document


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write Documents, one per line, atomically. Returns the number written."""
    count = 0
    with atomic_write(path) as handle:
        for document in documents:
            handle.write(json.dumps(document_to_dict(document), ensure_ascii=False) + "\n")
            count += 1
    return count
