"""BRAT standoff: ``NAME.txt`` + ``NAME.ann`` (the n2c2 / clinical format).

Read: text-bound annotations ``T`` (discontinuous spans ``s e;s e``), relations ``R``,
normalisations ``N`` (become concept ids; the ``ID:`` prefix biorelex writes is removed, other
databases are kept as ``db:id``). Events ``E``, attributes ``A``/``M``, equivalences ``*`` and
notes ``#`` are skipped with a warning that counts them, and so is a relation whose argument is
an event. The document id is the file name without extension.

Write: one ``.txt``/``.ann`` pair per Document into a folder. BRAT cannot hold concept-level
relations, scores, the symmetric flag, sentences or metadata: concept-level relations are refused
with an error; the rest is not representable and is documented as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from biorelex.data.formats._io import atomic_write, iter_lines, make_document, read_text
from biorelex.document import Document, Entity, Relation, span_text
from biorelex.errors import FormatError, ReadReport

SKIPPED_KINDS = {"E": "events", "A": "attributes", "M": "attributes", "*": "equivalences", "#": "notes"}


def find_files(path: Path) -> list[Path]:
    """``.ann`` files named by ``path`` (a folder, searched recursively, or a .ann/.txt file)."""
    if path.is_dir():
        files = sorted(path.rglob("*.ann"))
        if not files:
            raise FormatError("no BRAT .ann file below this directory", path)
        return files
    return [path.with_suffix(".ann")]


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read BRAT documents from a folder or one ``.ann``/``.txt`` pair."""
    report = report or ReadReport()
    for ann in find_files(Path(path)):
        document = _read_pair(ann, report)
        if document is not None:
            yield document


def _read_pair(ann: Path, report: ReadReport) -> Document | None:
    txt = ann.with_suffix(".txt")
    if not txt.exists():
        report.fail(FormatError(f"missing the text file {txt.name} beside the annotations", ann))
        return None
    text = read_text(txt) if txt.stat().st_size else ""
    entities: dict[str, Entity] = {}
    concepts: dict[str, list[str]] = {}
    raw_relations: list[tuple[int, str, str, str, str]] = []
    event_ids: set[str] = set()
    for number, line in iter_lines(ann, allow_empty=True):
        if not line.strip():
            continue
        ann_id = line.split("\t", 1)[0]
        kind = ann_id[:1]
        if kind in SKIPPED_KINDS:
            report.warn(f"brat: {SKIPPED_KINDS[kind]} skipped")
            if kind == "E":
                event_ids.add(ann_id)
            continue
        cols = line.split("\t")
        if kind == "T":
            entity = _entity(cols, text, ann, number, report)
            if entity is None:
                continue
            if entity.id in entities:
                report.fail(FormatError(f"duplicate annotation id {entity.id!r}", ann, number))
                continue
            entities[entity.id] = entity
        elif kind == "R":
            fields = cols[1].split() if len(cols) > 1 else []
            if len(cols) < 2 or len(fields) != 3 or not all(":" in f for f in fields[1:]):
                report.fail(FormatError("relation must be 'Rn TAB Type Arg1:Tx Arg2:Ty'", ann, number))
                continue
            head, tail = (f.split(":", 1)[1] for f in fields[1:])
            raw_relations.append((number, ann_id, fields[0], head, tail))
        elif kind == "N":
            fields = cols[1].split() if len(cols) > 1 else []
            if len(fields) != 3:
                report.fail(FormatError("normalisation must be 'Nn TAB Reference Tx db:id'", ann, number))
                continue
            concept = fields[2].removeprefix("ID:")
            concepts.setdefault(fields[1], []).append(concept)
        else:
            report.fail(FormatError(f"unknown annotation kind {ann_id!r}", ann, number))
    relations = []
    for number, rel_id, rel_type, head, tail in raw_relations:
        if head in event_ids or tail in event_ids:
            report.warn("brat: relations on events skipped")
            continue
        missing = next((a for a in (head, tail) if a not in entities), None)
        if missing is not None:
            report.fail(
                FormatError(f"relation argument {missing!r} is not a text-bound annotation", ann, number)
            )
            continue
        relations.append(Relation(id=rel_id, type=rel_type, head=head, tail=tail))
    for target, ids in concepts.items():
        if target not in entities:
            report.fail(FormatError(f"normalisation of unknown annotation {target!r}", ann))
            continue
        entity = entities[target]
        entities[target] = Entity(
            entity.id, entity.type, entity.spans, entity.text, tuple(ids), entity.attributes
        )
    return make_document(
        report,
        ann,
        None,
        id=ann.stem,
        text=text,
        entities=tuple(entities.values()),
        relations=relations,
        metadata={"source": "brat"},
    )


def _entity(cols: list[str], text: str, ann: Path, number: int, report: ReadReport) -> Entity | None:
    if len(cols) != 3:
        report.fail(
            FormatError(f"text-bound annotation needs 3 tab-separated fields, got {len(cols)}", ann, number)
        )
        return None
    type_and_spans = cols[1].split(" ", 1)
    if len(type_and_spans) != 2:
        report.fail(FormatError("expected 'Type start end[;start end]'", ann, number))
        return None
    spans = []
    for part in type_and_spans[1].split(";"):
        bounds = part.split()
        if len(bounds) != 2 or not all(b.isdigit() for b in bounds):
            report.fail(FormatError(f"span {part!r} is not 'start end'", ann, number))
            return None
        spans.append((int(bounds[0]), int(bounds[1])))
    spans.sort()
    if spans[-1][1] > len(text) or any(e <= s for s, e in spans):
        report.fail(
            FormatError(
                f"span {type_and_spans[1]!r} is out of range (text has {len(text)} characters)", ann, number
            )
        )
        return None
    covered = span_text(text, spans)
    if covered != cols[2]:
        report.fail(
            FormatError(
                f"annotation text {cols[2]!r} does not match the text at its offsets: {covered!r}",
                ann,
                number,
            )
        )
        return None
    try:
        return Entity(id=cols[0], type=type_and_spans[0], spans=tuple(spans), text=covered)
    except ValueError as exc:
        report.fail(FormatError(str(exc), ann, number))
        return None


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write each Document as ``<id>.txt`` + ``<id>.ann`` into the folder ``path``."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for document in documents:
        name = document.id.replace("/", "_")
        entity_ids = {
            e.id: (e.id if _is_brat_id(e.id, "T") else f"T{i + 1}") for i, e in enumerate(document.entities)
        }
        lines, normalisations = [], 0
        for e in document.entities:
            spans = ";".join(f"{s} {t}" for s, t in e.spans)
            lines.append(f"{entity_ids[e.id]}\t{e.type} {spans}\t{e.text}")
            for concept in e.concept_ids:
                normalisations += 1
                ref = concept if ":" in concept else f"ID:{concept}"
                lines.append(f"N{normalisations}\tReference {entity_ids[e.id]} {ref}\t{e.text}")
        for i, r in enumerate(document.relations):
            if r.level != "mention":
                raise FormatError(
                    f"document {document.id!r}: relation {r.id!r} links concepts, which BRAT cannot "
                    "hold; write jsonl, bioc-xml, bioc-json or pubtator instead",
                    folder,
                )
            rel_id = r.id if _is_brat_id(r.id, "R") else f"R{i + 1}"
            lines.append(f"{rel_id}\t{r.type} Arg1:{entity_ids[r.head]} Arg2:{entity_ids[r.tail]}")
        with atomic_write(folder / f"{name}.txt") as handle:
            handle.write(document.text)
        with atomic_write(folder / f"{name}.ann") as handle:
            handle.write("".join(line + "\n" for line in lines))
        count += 1
    return count


def _is_brat_id(value: str, kind: str) -> bool:
    return value.startswith(kind) and value[1:].isdigit()
