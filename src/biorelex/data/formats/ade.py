"""ADE-Corpus-V2 raw release: ``DRUG-AE.rel``, ``ADE-NEG.txt`` (and optionally ``DRUG-DOSE.rel``).

``DRUG-AE.rel`` lines are ``pmid|sentence|effect|begin|end|drug|begin|end``. The offsets are *not*
relative to the sentence: they count into the whole annotated document (``pmid\\n\\ntitle\\n\\n
abstract``), which the release does not include. The reader therefore finds, for each sentence,
the one base offset at which every mention of that sentence lies where its offsets say (the
mention text at ``begin - base``), and converts offsets to the sentence. A sentence with no such
base is an error naming the line.

One Document per sentence: the 4,272 distinct ``(pmid, sentence)`` pairs of DRUG-AE.rel carry
``Adverse-Effect`` relations (head = the effect, tail = the drug, as in the SpERT files);
``ADE-NEG.txt`` lines (``pmid NEG sentence``) are sentences without any, each kept (the file
repeats 7 lines verbatim; they are separate sentences of the release and are not merged).

:func:`write` writes such Documents back as a release folder (the release's own order of lines
comes back when the Documents are in the order the reader gave them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from biorelex.data.formats._io import atomic_write, iter_lines, make_document, parse_int
from biorelex.document import Document, Entity, Relation
from biorelex.errors import FormatError, ReadReport

RELATION_TYPE = "Adverse-Effect"
Mention = tuple[str, str, int, int]  # (type, text, document begin, document end)


def _base_offset(sentence: str, mentions: list[Mention]) -> int | None:
    """The offset of the sentence in its document that puts every mention where it belongs."""
    candidates: set[int] | None = None
    for _type, text, begin, _end in mentions:
        found = set()
        position = sentence.find(text)
        while position != -1:
            found.add(begin - position)
            position = sentence.find(text, position + 1)
        candidates = found if candidates is None else candidates & found
        if not candidates:
            return None
    return min(candidates) if candidates else None


def _read_rel(
    path: Path, report: ReadReport, kind: str
) -> dict[tuple[str, str], list[tuple[int, Mention, Mention]]]:
    groups: dict[tuple[str, str], list[tuple[int, Mention, Mention]]] = {}
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        cols = line.split("|")
        if len(cols) != 8:
            report.fail(FormatError(f"expected 8 '|'-separated columns, got {len(cols)}", path, number))
            continue
        pmid, sentence, arg_text, arg_begin, arg_end, drug, drug_begin, drug_end = cols
        try:
            arg = (
                kind,
                arg_text,
                parse_int(arg_begin, "begin", path, number),
                parse_int(arg_end, "end", path, number),
            )
            drug_mention = (
                "Drug",
                drug,
                parse_int(drug_begin, "begin", path, number),
                parse_int(drug_end, "end", path, number),
            )
        except FormatError as exc:
            report.fail(exc)
            continue
        for mention in (arg, drug_mention):
            if mention[3] - mention[2] != len(mention[1]):
                report.fail(
                    FormatError(
                        f"offsets {mention[2]}-{mention[3]} do not span {len(mention[1])} characters "
                        f"of {mention[1]!r}",
                        path,
                        number,
                    )
                )
                break
        else:
            groups.setdefault((pmid, sentence), []).append((number, arg, drug_mention))
    return groups


def read(path: str | Path, *, report: ReadReport | None = None, dose: bool = False) -> Iterator[Document]:
    """Read the ADE release folder (or its ``DRUG-AE.rel``; ``ADE-NEG.txt`` is taken beside it).

    Args:
        path: the ``ade/raw`` folder or its DRUG-AE.rel.
        dose: also add Dose mentions and ``Dose`` relations from DRUG-DOSE.rel.
    """
    report = report or ReadReport()
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    rel_path = path if path.is_file() else folder / "DRUG-AE.rel"
    neg_path = folder / "ADE-NEG.txt"
    # a release of negative sentences only (as the writer leaves it) has no DRUG-AE.rel
    only_negative = path.is_dir() and not rel_path.exists() and neg_path.exists()
    groups = {} if only_negative else _read_rel(rel_path, report, "Adverse-Effect")
    dose_groups = _read_rel(folder / "DRUG-DOSE.rel", report, "Dose") if dose else {}
    counters: dict[str, int] = {}
    for (pmid, sentence), rows in groups.items():
        extra = dose_groups.pop((pmid, sentence), [])
        document = _sentence_document(pmid, sentence, rows, extra, rel_path, report, counters)
        if document is not None:
            yield document
    for (pmid, sentence), rows in dose_groups.items():
        document = _sentence_document(pmid, sentence, [], rows, rel_path, report, counters)
        if document is not None:
            yield document
    if not neg_path.exists():
        return
    for number, line in iter_lines(neg_path):
        if not line.strip():
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or parts[1] != "NEG":
            report.fail(FormatError("expected 'pmid NEG sentence'", neg_path, number))
            continue
        pmid, _, sentence = parts
        doc_id = _next_id(pmid, counters)
        document = make_document(
            report,
            neg_path,
            number,
            id=doc_id,
            text=sentence,
            sentences=((0, len(sentence)),),
            metadata={"source": "ade", "pmid": pmid, "negative": True},
        )
        if document is not None:
            yield document


def _next_id(pmid: str, counters: dict[str, int]) -> str:
    counters[pmid] = counters.get(pmid, 0) + 1
    return f"{pmid}.s{counters[pmid]}"


def _sentence_document(
    pmid: str,
    sentence: str,
    rows: list[tuple[int, Mention, Mention]],
    dose_rows: list[tuple[int, Mention, Mention]],
    path: Path,
    report: ReadReport,
    counters: dict[str, int],
) -> Document | None:
    all_rows = rows + dose_rows
    mentions = [m for _, a, d in all_rows for m in (a, d)]
    base = _base_offset(sentence, mentions)
    first_line = all_rows[0][0]
    if base is None:
        report.fail(
            FormatError(
                "no single sentence position puts every mention of this sentence at its offsets",
                path,
                first_line,
            )
        )
        return None
    entity_ids: dict[tuple[str, int, int], str] = {}
    entities: list[Entity] = []
    relations: list[Relation] = []
    seen_relations: set[tuple[str, str, str]] = set()

    def entity_id(mention: Mention) -> str:
        kind, text, begin, end = mention
        key = (kind, begin - base, end - base)
        if key not in entity_ids:
            entity_ids[key] = f"T{len(entity_ids) + 1}"
            entities.append(Entity(id=entity_ids[key], type=kind, spans=((key[1], key[2]),), text=text))
        return entity_ids[key]

    for _number, arg, drug in all_rows:
        head, tail = entity_id(arg), entity_id(drug)
        rel_type = RELATION_TYPE if arg[0] == "Adverse-Effect" else "Dose"
        if (rel_type, head, tail) in seen_relations:
            report.warn("ade: duplicate relations merged")
            continue
        seen_relations.add((rel_type, head, tail))
        relations.append(Relation(id=f"R{len(relations) + 1}", type=rel_type, head=head, tail=tail))
    return make_document(
        report,
        path,
        first_line,
        id=_next_id(pmid, counters),
        text=sentence,
        entities=entities,
        relations=relations,
        sentences=((0, len(sentence)),),
        metadata={"source": "ade", "pmid": pmid, "document_offset": base},
    )


ARGUMENT_TYPES = {RELATION_TYPE: "Adverse-Effect", "Dose": "Dose"}


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write Documents as an ADE release folder (each file atomically); returns how many.

    A Document with relations becomes one ``DRUG-AE.rel`` line per ``Adverse-Effect`` relation
    (``DRUG-DOSE.rel`` for ``Dose``), its offsets shifted by the ``document_offset`` it was read
    with (0 for any other Document); one without entities becomes an ``ADE-NEG.txt`` line. What the
    release cannot hold is refused, naming the document: another relation type, an argument whose
    type is not the one the release gives it (``Adverse-Effect``/``Dose`` -> ``Drug``), a
    discontinuous argument, a mention in no relation, a ``|`` or a line break in the text. A file
    of the release with no line is not written (and one left in the folder by an earlier write is
    removed, since the reader would take it with these).
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise FormatError(
            "the ADE release is written as a folder (DRUG-AE.rel, ADE-NEG.txt); give a folder", folder
        )
    lines: dict[str, list[str]] = {"DRUG-AE.rel": [], "DRUG-DOSE.rel": [], "ADE-NEG.txt": []}
    count = 0
    for document in documents:
        where = f"document {document.id!r}"
        pmid = str(document.metadata.get("pmid", document.id))
        text = document.text
        if "|" in text or "\n" in text or "\r" in text or "|" in pmid or " " in pmid:
            raise FormatError(
                f"{where}: a '|', a space in its pmid or a line break in its text cannot be written"
            )
        if not document.relations:
            if document.entities:
                raise FormatError(
                    f"{where}: has mentions but no relation; the ADE release holds mentions only as relation "
                    "arguments, so write jsonl, spert or brat instead"
                )
            lines["ADE-NEG.txt"].append(f"{pmid} NEG {text}")
            count += 1
            continue
        base = int(document.metadata.get("document_offset", 0))
        entities = {entity.id: entity for entity in document.entities}
        for relation in document.relations:
            if relation.type not in ARGUMENT_TYPES or relation.level != "mention":
                raise FormatError(
                    f"{where}: relation {relation.id!r} ({relation.type!r}) is not an ADE relation "
                    f"({' or '.join(ARGUMENT_TYPES)} between two mentions)"
                )
            argument, drug = entities[relation.head], entities[relation.tail]
            for entity, expected in ((argument, ARGUMENT_TYPES[relation.type]), (drug, "Drug")):
                if entity.type != expected or entity.is_discontinuous:
                    raise FormatError(
                        f"{where}: entity {entity.id!r} ({entity.type!r}) must be one continuous "
                        f"{expected!r} mention to be an argument of {relation.id!r}"
                    )
            fields = [pmid, text]
            for entity in (argument, drug):
                fields += [entity.text, str(entity.start + base), str(entity.end + base)]
            lines["DRUG-AE.rel" if relation.type == RELATION_TYPE else "DRUG-DOSE.rel"].append(
                "|".join(fields)
            )
        argued = {r.head for r in document.relations} | {r.tail for r in document.relations}
        if unargued := sorted(set(entities) - argued):
            raise FormatError(
                f"{where}: mentions {', '.join(unargued)} are in no relation, which the ADE release cannot "
                "hold; write jsonl, spert or brat instead"
            )
        count += 1
    for name, content in lines.items():
        if content:
            with atomic_write(folder / name) as handle:
                handle.write("".join(f"{line}\n" for line in content))
        else:  # a file of an earlier write to this folder would be read with these
            (folder / name).unlink(missing_ok=True)
    return count
