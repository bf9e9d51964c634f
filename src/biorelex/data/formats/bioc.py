"""BioC, as XML (``bioc-xml``) and as JSON (``bioc-json``, the layout of the ``bioc`` package).

A collection of documents; a document has passages (``offset``, ``text``, infons), annotations
(infons ``type`` and ``identifier``/``MESH``, one ``location`` per span: several for discontinuous
mentions) and relations. A relation with nodes (``refid``/``role``) links mentions; a relation
without nodes links concepts through its infons (BC5CDR: ``relation=CID``, ``Chemical=D..``,
``Disease=D..``; the first concept infon is the head). Passages are placed at their offsets in one
document text (gaps filled with spaces) and kept in ``metadata["passages"]``. Other annotation
infons are kept as entity attributes; ``score`` and ``symmetric`` relation infons are understood.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from biorelex.data.formats._io import (
    UniqueIds,
    atomic_write,
    guarded,
    load_json,
    parse_int,
    parse_xml_events,
    source_text_attributes,
)
from biorelex.document import Document, Entity, Relation, span_text
from biorelex.errors import FormatError, ReadReport

CONCEPT_KEYS = ("identifier", "Identifier", "MESH", "MeSH")
RELATION_TYPE_KEYS = ("relation", "type")
NO_CONCEPT = "-1"


# Reading -------------------------------------------------------------------------------------


def read_xml(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Stream documents from a BioC XML collection."""
    report = report or ReadReport()
    path = Path(path)
    ids = UniqueIds(report, path)
    for index, element in enumerate(parse_xml_events(path, {"document"})):
        data = _xml_document(element)
        element.clear()
        yield from _checked(data, path, f"document[{index}] id={data.get('id')!r}", report, ids)


def read_json(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read documents from a BioC JSON collection."""
    report = report or ReadReport()
    path = Path(path)
    collection = load_json(path)
    if not isinstance(collection, dict) or not isinstance(collection.get("documents"), list):
        raise FormatError("expected a BioC collection object with a 'documents' list", path)
    ids = UniqueIds(report, path)
    for index, data in enumerate(collection["documents"]):
        yield from _checked(data, path, f"documents[{index}]", report, ids)


def _checked(data: Any, path: Path, element: str, report: ReadReport, ids: UniqueIds) -> Iterator[Document]:
    document = guarded(report, path, None, element, _document, data, path, element, report)
    if ids.admit(document, element=element):
        yield document


def _xml_document(element: Any) -> dict[str, Any]:
    def infons(node: Any) -> dict[str, str]:
        return {i.get("key", ""): i.text or "" for i in node.findall("infon")}

    def annotation(node: Any) -> dict[str, Any]:
        return {
            "id": node.get("id"),
            "infons": infons(node),
            "text": node.findtext("text", default=""),
            "locations": [
                {"offset": loc.get("offset"), "length": loc.get("length")} for loc in node.findall("location")
            ],
        }

    def relation(node: Any) -> dict[str, Any]:
        nodes = [{"refid": n.get("refid"), "role": n.get("role", "")} for n in node.findall("node")]
        return {"id": node.get("id"), "infons": infons(node), "nodes": nodes}

    return {
        "id": element.findtext("id"),
        "infons": infons(element),
        "passages": [
            {
                "offset": p.findtext("offset"),
                "infons": infons(p),
                "text": p.findtext("text", default=""),
                "annotations": [annotation(a) for a in p.findall("annotation")],
                "relations": [relation(r) for r in p.findall("relation")],
            }
            for p in element.findall("passage")
        ],
        "relations": [relation(r) for r in element.findall("relation")],
    }


def _document(data: Any, path: Path, element: str, report: ReadReport) -> Document:
    if not isinstance(data, dict) or not data.get("id"):
        raise FormatError("document has no id", path, element=element)
    doc_id = str(data["id"])
    text = ""
    passages = []
    annotations: list[tuple[str, dict[str, Any]]] = []
    relations_data = list(data.get("relations") or [])
    for p_index, passage in enumerate(data.get("passages") or []):
        where = f"document {doc_id} passage[{p_index}]"
        offset = parse_int(passage.get("offset"), "passage offset", path, None, where)
        if offset < len(text):
            raise FormatError(
                f"passage offset {offset} overlaps the previous passage (ends at {len(text)})",
                path,
                element=where,
            )
        text += " " * (offset - len(text)) + (passage.get("text") or "")
        passages.append([passage.get("infons", {}).get("type", ""), offset, len(text)])
        annotations += [(where, a) for a in passage.get("annotations") or []]
        relations_data += passage.get("relations") or []
    entities = []
    for where, annotation in annotations:
        try:
            entities.append(_entity(annotation, text, path, where, report))
        except FormatError as exc:
            report.fail(exc)
    relations = [
        _relation(r, i, entities, path, f"document {doc_id} relation[{i}]")
        for i, r in enumerate(relations_data)
    ]
    metadata: dict[str, Any] = {"source": "bioc", "passages": passages}
    if data.get("infons"):
        metadata["infons"] = dict(data["infons"])
    return Document(
        id=doc_id, text=text, entities=tuple(entities), relations=tuple(relations), metadata=metadata
    )


def _entity(data: dict[str, Any], text: str, path: Path, where: str, report: ReadReport) -> Entity:
    where = f"{where} annotation id={data.get('id')!r}"
    infons = dict(data.get("infons") or {})
    spans = []
    for loc in data.get("locations") or []:
        start = parse_int(loc.get("offset"), "location offset", path, None, where)
        length = parse_int(loc.get("length"), "location length", path, None, where)
        if length <= 0 or start + length > len(text):
            raise FormatError(
                f"location ({start}, +{length}) is out of range (text has {len(text)} characters)",
                path,
                element=where,
            )
        spans.append((start, start + length))
    if not spans:
        raise FormatError("annotation has no location", path, element=where)
    spans.sort()
    covered = span_text(text, spans)
    entity_type = infons.pop("type", "")
    infons.update(
        source_text_attributes(
            covered,
            str(data.get("text", "")),
            len(spans),
            FormatError(
                f"annotation text {data.get('text')!r} does not match the text at its location: {covered!r}",
                path,
                element=where,
            ),
            report,
            "bioc: discontinuous mentions whose text differs from their locations (kept)",
        )
    )
    concept_ids: tuple[str, ...] = ()
    for key in CONCEPT_KEYS:
        if key in infons:
            raw = infons.pop(key)
            concept_ids = tuple(c for c in raw.replace(",", "|").split("|") if c and c != NO_CONCEPT)
            break
    return Entity(
        id=str(data.get("id")),
        type=entity_type,
        spans=tuple(spans),
        text=covered,
        concept_ids=concept_ids,
        attributes=infons,
    )


def _relation(data: dict[str, Any], index: int, entities: list[Entity], path: Path, where: str) -> Relation:
    infons = dict(data.get("infons") or {})
    rel_type = next((infons.pop(k) for k in RELATION_TYPE_KEYS if k in infons), None)
    if not rel_type:
        raise FormatError("relation has no 'relation' or 'type' infon", path, element=where)
    score = float(infons.pop("score")) if "score" in infons else None
    symmetric = infons.pop("symmetric", "false").lower() == "true"
    rel_id = str(data.get("id") or f"R{index + 1}")
    nodes = data.get("nodes") or []
    if nodes:
        if len(nodes) != 2:
            raise FormatError(f"relation needs 2 nodes, has {len(nodes)}", path, element=where)
        return Relation(rel_id, rel_type, str(nodes[0]["refid"]), str(nodes[1]["refid"]), score, symmetric)
    if len(infons) != 2:
        raise FormatError(
            f"a relation without nodes needs exactly 2 concept infons (e.g. Chemical, Disease), got {sorted(infons)}",
            path,
            element=where,
        )
    head, tail = infons.values()
    return Relation(rel_id, rel_type, head, tail, score, symmetric, level="concept")


# Writing -------------------------------------------------------------------------------------


def _passages(document: Document) -> list[tuple[str, int, int]]:
    passages = document.metadata.get("passages")
    if passages:
        return [(str(t), int(s), int(e)) for t, s, e in passages]
    return [("text", 0, len(document.text))]


def document_to_bioc(document: Document) -> dict[str, Any]:
    """A BioC JSON document (dict) for a Document; annotations go to the passage holding them."""
    passages: list[dict[str, Any]] = []
    concept_types = {c: e.type for e in document.entities for c in e.concept_ids}
    for p_type, start, end in _passages(document):
        passages.append(
            {
                "offset": start,
                "infons": {"type": p_type},
                "text": document.text[start:end],
                "annotations": [],
                "relations": [],
            }
        )
    for entity in document.entities:
        infons = {"type": entity.type, **{k: str(v) for k, v in entity.attributes.items()}}
        if entity.concept_ids:
            infons["identifier"] = "|".join(entity.concept_ids)
        target = next(
            (
                p
                for p in passages
                if p["offset"] <= entity.start and entity.end <= p["offset"] + len(p["text"])
            ),
            None,
        )
        if target is None:
            raise FormatError(
                f"document {document.id!r}: entity {entity.id!r} crosses a passage boundary; BioC cannot hold it"
            )
        target["annotations"].append(
            {
                "id": entity.id,
                "infons": infons,
                "text": entity.text,
                "locations": [{"offset": s, "length": e - s} for s, e in entity.spans],
            }
        )
    relations = []
    for relation in document.relations:
        infons = {"relation": relation.type}
        if relation.score is not None:
            infons["score"] = repr(relation.score)
        if relation.symmetric:
            infons["symmetric"] = "true"
        item: dict[str, Any] = {"id": relation.id, "infons": infons, "nodes": []}
        if relation.level == "concept":
            head_key = concept_types.get(relation.head, "head")
            tail_key = concept_types.get(relation.tail, "tail")
            if head_key == tail_key:
                head_key, tail_key = "Arg1", "Arg2"
            infons[head_key], infons[tail_key] = relation.head, relation.tail
        else:
            item["nodes"] = [
                {"refid": relation.head, "role": "Arg1"},
                {"refid": relation.tail, "role": "Arg2"},
            ]
        relations.append(item)
    infons = document.metadata.get("infons") or {}
    return {"id": document.id, "infons": dict(infons), "passages": passages, "relations": relations}


def write_json(documents: Iterable[Document], path: str | Path) -> int:
    """Write a BioC JSON collection atomically."""
    docs = [document_to_bioc(d) for d in documents]
    collection = {"source": "biorelex", "date": "", "key": "", "infons": {}, "documents": docs}
    with atomic_write(path) as handle:
        json.dump(collection, handle, ensure_ascii=False, indent=1)
    return len(docs)


def write_xml(documents: Iterable[Document], path: str | Path) -> int:
    """Write a BioC XML collection atomically."""
    root = ET.Element("collection")
    for tag, value in (("source", "biorelex"), ("date", ""), ("key", "")):
        ET.SubElement(root, tag).text = value
    count = 0
    for document in documents:
        data = document_to_bioc(document)
        doc_el = ET.SubElement(root, "document")
        ET.SubElement(doc_el, "id").text = data["id"]
        _xml_infons(doc_el, data["infons"])
        for passage in data["passages"]:
            p_el = ET.SubElement(doc_el, "passage")
            _xml_infons(p_el, passage["infons"])
            ET.SubElement(p_el, "offset").text = str(passage["offset"])
            ET.SubElement(p_el, "text").text = passage["text"]
            for ann in passage["annotations"]:
                a_el = ET.SubElement(p_el, "annotation", id=ann["id"])
                _xml_infons(a_el, ann["infons"])
                for loc in ann["locations"]:
                    ET.SubElement(a_el, "location", offset=str(loc["offset"]), length=str(loc["length"]))
                ET.SubElement(a_el, "text").text = ann["text"]
        for rel in data["relations"]:
            r_el = ET.SubElement(doc_el, "relation", id=rel["id"])
            _xml_infons(r_el, rel["infons"])
            for node in rel["nodes"]:
                ET.SubElement(r_el, "node", refid=node["refid"], role=node["role"])
        count += 1
    tree = ET.ElementTree(root)
    with atomic_write(path, "wb") as handle:
        tree.write(handle, encoding="utf-8", xml_declaration=True)
    return count


def _xml_infons(parent: Any, infons: dict[str, str]) -> None:
    for key, value in infons.items():
        ET.SubElement(parent, "infon", key=key).text = str(value)
