"""DDI 2013 XML: ``<document><sentence text=...><entity charOffset=.../><pair .../></sentence>``.

- ``charOffset`` is relative to the sentence, with *inclusive* end offsets; discontinuous
  mentions list several ranges separated by ``;`` (``"59-65;75-78"``).
- A document's text is its sentences joined by one space; the sentences are kept as given
  sentence spans, so candidate pairs are built inside the XML's own sentences.
- Pairs with ``ddi="true"`` become symmetric relations typed by their ``type`` attribute
  (advise, effect, mechanism, int); ``ddi="false"`` pairs are the negatives, which candidate
  generation rebuilds (every pair of mentions in a sentence).

Writing (:func:`write`) gives a folder with one ``<document id>.xml`` per Document, as the corpus
ships: the Document's sentences (given ones, else split keeping every mention whole), its entities
in the sentence holding them, and every pair of a sentence's entities (in entity order, ids
``<sentence>.p<k>``) with ``ddi="true"`` and the relation's type where a relation links the two,
``ddi="false"`` otherwise: the form the DDI evaluation reads. The text comes back as its sentences
joined by one space; relation scores have no attribute and are not written.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from biorelex.data.formats._io import atomic_write, make_document, parse_xml_events, source_text_attributes
from biorelex.data.sentences import document_sentences, sentence_index
from biorelex.document import Document, Entity, Relation, Span, span_text
from biorelex.errors import FormatError, ReadReport

SPLIT_DIRS = {"train": "train", "test": "test"}


def find_files(path: Path) -> list[Path]:
    """The XML file itself or every ``*.xml`` below a folder, sorted."""
    if path.is_dir():
        files = sorted(path.rglob("*.xml"))
        if not files:
            raise FormatError("no DDI *.xml file below this directory", path)
        return files
    return [path]


def _split_of(path: Path) -> str | None:
    for part in reversed(path.parts):
        key = part.lower()
        if key in SPLIT_DIRS:
            return SPLIT_DIRS[key]
    return None


def parse_char_offset(value: str, length: int, path: Path, where: str) -> tuple[Span, ...]:
    """``"59-65;75-78"`` (inclusive ends) -> ``((59, 66), (75, 79))``, checked against ``length``."""
    spans: list[Span] = []
    for part in value.split(";"):
        bounds = part.strip().split("-")
        if len(bounds) != 2 or not all(b.strip().isdigit() for b in bounds):
            raise FormatError(f"charOffset {value!r} is not 'start-end[;start-end]'", path, element=where)
        start, end = int(bounds[0]), int(bounds[1]) + 1
        if end <= start or end > length:
            raise FormatError(
                f"charOffset {value!r} is out of range for a sentence of {length} characters",
                path,
                element=where,
            )
        spans.append((start, end))
    return tuple(sorted(spans))


def format_char_offset(spans: tuple[Span, ...], sentence_start: int) -> str:
    """Document spans -> ``"59-65;75-78"`` relative to the sentence (inclusive ends); inverse of the above."""
    return ";".join(f"{start - sentence_start}-{end - sentence_start - 1}" for start, end in spans)


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read DDI 2013 documents from one XML file or every XML file below a folder."""
    report = report or ReadReport()
    for xml_path in find_files(Path(path)):
        for element in parse_xml_events(xml_path, {"document"}):
            document = _document(element, xml_path, report)
            element.clear()
            if document is not None:
                yield document


def _document(element: Any, path: Path, report: ReadReport) -> Document | None:
    doc_id = element.get("id")
    if not doc_id:
        report.fail(FormatError("<document> has no id attribute", path, element="document"))
        return None
    pieces: list[str] = []
    sentences: list[Span] = []
    entities: list[Entity] = []
    relations: list[Relation] = []
    offset = 0
    for sentence in element.findall("sentence"):
        sent_id = sentence.get("id", "?")
        text = sentence.get("text")
        if text is None:
            report.fail(FormatError("<sentence> has no text attribute", path, element=sent_id))
            return None
        if pieces:
            offset += 1
        sentences.append((offset, offset + len(text)))
        pieces.append(text)
        sentence_entities: set[str] = set()
        for ent in sentence.findall("entity"):
            ent_id = ent.get("id", "")
            try:
                local = parse_char_offset(ent.get("charOffset", ""), len(text), path, ent_id)
            except FormatError as exc:
                report.fail(exc)
                continue
            spans = tuple((offset + s, offset + e) for s, e in local)
            attribute_text = ent.get("text", "")
            covered = span_text(text, local)
            try:
                attributes = source_text_attributes(
                    covered,
                    attribute_text,
                    len(local),
                    FormatError(
                        f"text attribute {attribute_text!r} differs from the text at charOffset "
                        f"{ent.get('charOffset')!r}: {covered!r}",
                        path,
                        element=ent_id,
                    ),
                    report,
                    "ddi: discontinuous mentions whose text attribute differs (kept)",
                )
            except FormatError as exc:
                report.fail(exc)
                continue
            try:
                entities.append(
                    Entity(
                        id=ent_id,
                        type=ent.get("type", ""),
                        spans=spans,
                        text=covered,
                        attributes=attributes,
                    )
                )
            except ValueError as exc:
                report.fail(FormatError(str(exc), path, element=ent_id))
                continue
            sentence_entities.add(ent_id)
        for pair in sentence.findall("pair"):
            pair_id = pair.get("id", "")
            e1, e2 = pair.get("e1", ""), pair.get("e2", "")
            label = pair.get("ddi", "").lower()
            if label not in ("true", "false"):
                report.fail(
                    FormatError(f"ddi must be 'true' or 'false', got {label!r}", path, element=pair_id)
                )
                continue
            if e1 not in sentence_entities or e2 not in sentence_entities:
                missing = e1 if e1 not in sentence_entities else e2
                report.fail(
                    FormatError(
                        f"pair names entity {missing!r}, which this sentence lacks", path, element=pair_id
                    )
                )
                continue
            if label == "true":
                relations.append(
                    Relation(id=pair_id, type=pair.get("type") or "int", head=e1, tail=e2, symmetric=True)
                )
        offset += len(text)
    return make_document(
        report,
        path,
        element=doc_id,
        id=doc_id,
        text=" ".join(pieces),
        entities=entities,
        relations=relations,
        sentences=sentences,
        metadata={
            "source": "ddi2013",
            **({"split": split} if (split := _split_of(path)) else {}),
            "collection": "MedLine" if "MedLine" in doc_id else "DrugBank",
        },
    )


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write each Document as ``<id>.xml`` into the folder ``path`` (each file atomically).

    Entities must lie inside one sentence, relations link two mentions of one sentence, and a
    pair holds one relation at most: anything else is refused with the document named.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise FormatError("DDI XML is written as a folder of <document id>.xml files; give a folder", folder)
    count = 0
    for document in documents:
        if "/" in document.id or "\\" in document.id or document.id in ("", ".", ".."):
            raise FormatError(f"document {document.id!r}: its id cannot name a file", folder)
        root = _document_element(document, document_sentences(document))
        ET.indent(root, space="    ")
        with atomic_write(folder / f"{document.id}.xml") as handle:
            handle.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            handle.write(ET.tostring(root, encoding="unicode"))
            handle.write("\n")
        count += 1
    return count


def _document_element(document: Document, sentences: list[Span]) -> ET.Element:
    where = f"document {document.id!r}"
    by_sentence: list[list[Entity]] = [[] for _ in sentences]
    sentence_of: dict[str, int] = {}
    starts = [start for start, _ in sentences]
    for entity in document.entities:
        index = sentence_index(starts, entity.start)
        if not sentences or not (starts[index] <= entity.start and entity.end <= sentences[index][1]):
            raise FormatError(f"{where}: entity {entity.id!r} is not inside one sentence, as DDI needs")
        by_sentence[index].append(entity)
        sentence_of[entity.id] = index
    labels: dict[frozenset[str], Relation] = {}
    for relation in document.relations:
        if relation.level != "mention" or sentence_of[relation.head] != sentence_of[relation.tail]:
            raise FormatError(
                f"{where}: relation {relation.id!r} does not link two mentions of one sentence, "
                "which DDI cannot hold; write jsonl or bioc instead"
            )
        key = frozenset((relation.head, relation.tail))
        if key in labels or len(key) == 1:
            raise FormatError(
                f"{where}: relation {relation.id!r} is a second relation of its pair (or links a "
                "mention to itself); a DDI pair holds one"
            )
        labels[key] = relation
    root = ET.Element("document", id=document.id)
    for number, ((start, end), entities) in enumerate(zip(sentences, by_sentence, strict=True)):
        sentence_id = f"{document.id}.s{number}"
        sentence = ET.SubElement(root, "sentence", id=sentence_id, text=document.text[start:end])
        for entity in entities:
            offsets = format_char_offset(entity.spans, start)
            text = str(entity.attributes.get("source_text", entity.text))
            ET.SubElement(sentence, "entity", id=entity.id, charOffset=offsets, type=entity.type, text=text)
        for k, (first, second) in enumerate(itertools.combinations(entities, 2)):
            labelled = labels.get(frozenset((first.id, second.id)))
            pair = {"id": f"{sentence_id}.p{k}", "e1": first.id, "e2": second.id, "ddi": "false"}
            if labelled is not None:
                pair.update(e1=labelled.head, e2=labelled.tail, ddi="true", type=labelled.type)
            ET.SubElement(sentence, "pair", pair)
    return root
