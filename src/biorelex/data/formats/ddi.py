"""DDI 2013 XML: ``<document><sentence text=...><entity charOffset=.../><pair .../></sentence>``.

- ``charOffset`` is relative to the sentence, with *inclusive* end offsets; discontinuous
  mentions list several ranges separated by ``;`` (``"59-65;75-78"``).
- A document's text is its sentences joined by one space; the sentences are kept as given
  sentence spans, so candidate pairs are built inside the XML's own sentences.
- Pairs with ``ddi="true"`` become symmetric relations typed by their ``type`` attribute
  (advise, effect, mechanism, int); ``ddi="false"`` pairs are the negatives, which candidate
  generation rebuilds (every pair of mentions in a sentence).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from biorelex.data.formats._io import make_document, parse_xml_events, source_text_attributes
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
