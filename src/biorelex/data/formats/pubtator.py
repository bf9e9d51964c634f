"""PubTator: blocks of ``pmid|t|title``, ``pmid|a|abstract``, mention and relation lines.

- Mentions: ``pmid TAB start TAB end TAB text TAB type TAB ids[ TAB component texts]``; ids are
  separated by ``|`` (composite mentions such as "HCFCs 123 and 124" name several concepts, whose
  component texts are kept in the ``components`` attribute); ``-1`` means no concept.
- Relations: ``pmid TAB type TAB id1 TAB id2``, between *concepts* (BC5CDR's document-level CID),
  so they are read as concept-level relations (head = id1, tail = id2).
- The text is ``title + " " + abstract``; the passages are kept in ``metadata["passages"]``.

Writing needs Documents that PubTator can hold: continuous mentions, concept-level relations,
text without newlines in the title or abstract.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from biorelex.data.formats._io import UniqueIds, atomic_write, iter_lines, make_document, title_and_abstract
from biorelex.document import Document, Entity, Relation
from biorelex.errors import FormatError, ReadReport

NO_CONCEPT = "-1"


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read PubTator documents (blocks separated by blank lines)."""
    report = report or ReadReport()
    path = Path(path)
    block: list[tuple[int, str]] = []
    ids = UniqueIds(report, path)
    for number, line in iter_lines(path):
        if line.strip():
            block.append((number, line))
            continue
        if block:
            yield from _emit(block, path, report, ids)
            block = []
    if block:
        yield from _emit(block, path, report, ids)


def _emit(block: list[tuple[int, str]], path: Path, report: ReadReport, ids: UniqueIds) -> Iterator[Document]:
    document = _block(block, path, report)
    if ids.admit(document, block[0][0]):
        yield document


def _block(block: list[tuple[int, str]], path: Path, report: ReadReport) -> Document | None:
    first_line = block[0][0]
    parts: dict[str, str] = {}
    pmid = None
    annotations: list[tuple[int, list[str]]] = []
    for number, line in block:
        if "\t" not in line and line.count("|") >= 2:
            doc_id, kind, content = line.split("|", 2)
            if kind not in ("t", "a"):
                report.fail(
                    FormatError(f"expected '{doc_id}|t|' or '{doc_id}|a|', got kind {kind!r}", path, number)
                )
                return None
            if pmid is not None and doc_id != pmid:
                report.fail(FormatError(f"document id {doc_id!r} inside the block of {pmid!r}", path, number))
                return None
            pmid = doc_id
            parts[kind] = content
        else:
            annotations.append((number, line.split("\t")))
    if pmid is None or "t" not in parts:
        report.fail(FormatError("block has no 'pmid|t|title' line", path, first_line))
        return None
    title, abstract = parts["t"], parts.get("a", "")
    text = f"{title} {abstract}" if "a" in parts else title
    entities: list[Entity] = []
    relations: list[Relation] = []
    for number, cols in annotations:
        if cols[0] != pmid:
            report.fail(
                FormatError(
                    f"line belongs to document {cols[0]!r}, not {pmid!r}; separate blocks with a blank line",
                    path,
                    number,
                )
            )
            continue
        if len(cols) in (6, 7) and cols[1].isdigit():
            entity = _mention(cols, text, len(entities), path, number, report)
            if entity is not None:
                entities.append(entity)
        elif len(cols) == 4:
            relations.append(
                Relation(
                    id=f"R{len(relations) + 1}", type=cols[1], head=cols[2], tail=cols[3], level="concept"
                )
            )
        else:
            report.fail(
                FormatError(
                    f"expected a mention (6 or 7 tab-separated columns) or a relation (4), got {len(cols)}",
                    path,
                    number,
                )
            )
    passages = [["title", 0, len(title)]] + (
        [["abstract", len(title) + 1, len(text)]] if "a" in parts else []
    )
    return make_document(
        report,
        path,
        first_line,
        id=pmid,
        text=text,
        entities=entities,
        relations=relations,
        metadata={"pmid": pmid, "source": "pubtator", "passages": passages},
    )


def _mention(
    cols: list[str], text: str, index: int, path: Path, number: int, report: ReadReport
) -> Entity | None:
    start, end = cols[1], cols[2]
    if not (start.isdigit() and end.isdigit()):
        report.fail(FormatError(f"offsets must be integers, got {start!r} and {end!r}", path, number))
        return None
    s, e = int(start), int(end)
    if e <= s or e > len(text):
        report.fail(
            FormatError(
                f"offsets ({s}, {e}) are out of range (text has {len(text)} characters)", path, number
            )
        )
        return None
    if text[s:e] != cols[3]:
        report.fail(
            FormatError(
                f"mention {cols[3]!r} does not match the text at ({s}, {e}): {text[s:e]!r}", path, number
            )
        )
        return None
    ids = tuple(c for c in cols[5].replace(",", "|").split("|") if c and c != NO_CONCEPT)
    attributes = {"components": cols[6]} if len(cols) == 7 else {}
    if cols[5] not in ("|".join(ids), NO_CONCEPT):
        attributes["raw_ids"] = cols[5]  # e.g. "D002544|-1": keeps components aligned with ids
    return Entity(
        id=f"M{index + 1}",
        type=cols[4],
        spans=((s, e),),
        text=cols[3],
        concept_ids=ids,
        attributes=attributes,
    )


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write Documents as PubTator blocks, atomically."""
    count = 0
    with atomic_write(path) as handle:
        for document in documents:
            handle.write(_format(document))
            count += 1
    return count


def _format(document: Document) -> str:
    title, abstract = title_and_abstract(document)
    for part in (title, abstract or ""):
        if "\n" in part:
            raise FormatError(
                f"document {document.id!r}: PubTator cannot hold line breaks in a title or abstract; "
                "write jsonl or bioc instead"
            )
    lines = [f"{document.id}|t|{title}"]
    if abstract is not None:
        lines.append(f"{document.id}|a|{abstract}")
    for entity in document.entities:
        if entity.is_discontinuous:
            raise FormatError(
                f"document {document.id!r}: entity {entity.id!r} is discontinuous, which PubTator "
                "cannot hold; write jsonl, brat or bioc instead"
            )
        ids = "|".join(entity.concept_ids) or NO_CONCEPT
        raw_ids = str(entity.attributes.get("raw_ids", ""))
        if raw_ids and tuple(c for c in raw_ids.split("|") if c != NO_CONCEPT) == entity.concept_ids:
            ids = raw_ids
        row = [document.id, str(entity.start), str(entity.end), entity.text, entity.type, ids]
        if "components" in entity.attributes:
            row.append(str(entity.attributes["components"]))
        lines.append("\t".join(row))
    for relation in document.relations:
        if relation.level != "concept":
            raise FormatError(
                f"document {document.id!r}: relation {relation.id!r} links mentions; PubTator "
                "relations link concept ids, so write jsonl, brat or bioc instead"
            )
        lines.append("\t".join([document.id, relation.type, relation.head, relation.tail]))
    return "\n".join(lines) + "\n\n"
