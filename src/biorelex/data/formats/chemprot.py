"""BioCreative VI ChemProt TSV: ``*_abstracts.tsv``, ``*_entities.tsv``, ``*_relations.tsv``.

- abstracts: ``pmid TAB title TAB abstract``; offsets count into ``title + " " + abstract``.
- entities: ``pmid TAB Tn TAB type TAB start TAB end TAB text`` (CHEMICAL, GENE-N, GENE-Y).
- relations: ``pmid TAB CPR:n TAB Y|N TAB name TAB Arg1:Tn TAB Arg2:Tm``.

Only the evaluated groups (flag ``Y``: CPR:3,4,5,6,9) are kept unless ``all_groups=True``;
the others are counted in the report. As the official evaluation does, a relation is the triple
(group, Arg1, Arg2): duplicates of it (the same pair annotated with two fine-grained names of one
group) are merged and counted.

Writing (:func:`write`) takes the abstracts file's path and writes its two companions beside it;
relations go out in the four-column form of the official evaluation (``pmid TAB CPR:n TAB Arg1:Tn
TAB Arg2:Tm``, as in the released ``*_gold_standard.tsv``), so ``biorelex predict ... -o
pred_abstracts.tsv`` gives the file that the BioCreative evaluation script scores. Relation scores
and the symmetric flag have no column and are not written.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from biorelex.data.formats._io import atomic_write, iter_lines, make_document, parse_int, title_and_abstract
from biorelex.document import Document, Entity, Relation
from biorelex.errors import FormatError, ReadReport

logger = logging.getLogger(__name__)

EVALUATED_GROUPS = ("CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9")
SPLIT_NAMES = {"training": "train", "development": "dev", "test": "test", "sample": "sample"}


def _companion_paths(abstracts: Path) -> tuple[Path, Path]:
    """The entities and relations files beside an abstracts file (its name with 'abstracts' replaced)."""
    name = abstracts.name
    return (
        abstracts.with_name(name.replace("abstracts", "entities")),
        abstracts.with_name(name.replace("abstracts", "relations")),
    )


def _companions(abstracts: Path) -> tuple[Path, Path]:
    if "abstracts" not in abstracts.name:
        raise FormatError("a ChemProt abstracts file name contains 'abstracts'", abstracts)
    entities, relations = _companion_paths(abstracts)
    if not entities.exists():
        raise FormatError(f"missing the companion entities file {entities.name}", abstracts)
    return entities, relations


def _split_of(abstracts: Path) -> str | None:
    head = abstracts.name.split("_")
    return SPLIT_NAMES.get(head[1]) if len(head) > 1 else None


def find_abstract_files(path: Path) -> list[Path]:
    """The abstracts files a path names: the file itself or every ``*abstracts*.tsv`` below it."""
    if path.is_dir():
        files = sorted(path.glob("*abstracts*.tsv"))
        if not files:
            raise FormatError("no ChemProt *_abstracts*.tsv file in this directory", path)
        return files
    return [path]


def read(
    path: str | Path, *, report: ReadReport | None = None, all_groups: bool = False
) -> Iterator[Document]:
    """Read ChemProt documents from an abstracts file (companions found beside it) or a folder.

    Args:
        path: ``chemprot_training_abstracts.tsv`` or the folder holding all splits.
        report: collects skips (lenient mode) and counts of merged/filtered relations.
        all_groups: keep the non-evaluated CPR groups too.
    """
    report = report or ReadReport()
    for abstracts in find_abstract_files(Path(path)):
        yield from _read_split(abstracts, report, all_groups)


def _read_entities(path: Path, report: ReadReport) -> dict[str, list[tuple[int, Entity]]]:
    entities: dict[str, list[tuple[int, Entity]]] = defaultdict(list)
    for number, line in iter_lines(path, allow_empty=True):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 6:
            report.fail(FormatError(f"expected 6 tab-separated columns, got {len(cols)}", path, number))
            continue
        pmid, ent_id, ent_type, start, end, text = cols
        try:
            span = (parse_int(start, "start", path, number), parse_int(end, "end", path, number))
            entity = Entity(id=ent_id, type=ent_type, spans=(span,), text=text)
        except (FormatError, ValueError) as exc:
            report.fail(exc if isinstance(exc, FormatError) else FormatError(str(exc), path, number))
            continue
        entities[pmid].append((number, entity))
    return entities


def _read_relations(
    path: Path, report: ReadReport, all_groups: bool
) -> dict[str, list[tuple[int, str, str, str]]]:
    relations: dict[str, list[tuple[int, str, str, str]]] = defaultdict(list)
    if not path.exists():
        logger.info("%s: no relations file, documents have entities only", path)
        return relations
    seen: set[tuple[str, str, str, str]] = set()
    for number, line in iter_lines(path, allow_empty=True):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 4 or not cols[-1].startswith("Arg2:") or not cols[-2].startswith("Arg1:"):
            report.fail(
                FormatError("expected 'pmid TAB CPR:n TAB Y|N TAB name TAB Arg1:T TAB Arg2:T'", path, number)
            )
            continue
        pmid, group = cols[0], cols[1]
        evaluated = cols[2].strip() == "Y" if len(cols) == 6 else group in EVALUATED_GROUPS
        if not group.startswith("CPR:"):
            report.fail(FormatError(f"relation group must look like CPR:n, got {group!r}", path, number))
            continue
        if not (evaluated or all_groups):
            report.warn("chemprot: non-evaluated CPR relations left out")
            continue
        head, tail = cols[-2][len("Arg1:") :], cols[-1][len("Arg2:") :]
        key = (pmid, group, head, tail)
        if key in seen:
            report.warn("chemprot: duplicate (group, Arg1, Arg2) relations merged")
            continue
        seen.add(key)
        relations[pmid].append((number, group, head, tail))
    return relations


def _read_split(abstracts: Path, report: ReadReport, all_groups: bool) -> Iterator[Document]:
    entities_path, relations_path = _companions(abstracts)
    entities = _read_entities(entities_path, report)
    relations = _read_relations(relations_path, report, all_groups)
    split = _split_of(abstracts)
    seen_pmids: set[str] = set()
    for number, line in iter_lines(abstracts):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 3:
            report.fail(
                FormatError(
                    f"expected 3 tab-separated columns (pmid, title, abstract), got {len(cols)}",
                    abstracts,
                    number,
                )
            )
            continue
        pmid, title, abstract = cols
        if pmid in seen_pmids:
            report.fail(FormatError(f"duplicate document id {pmid!r}", abstracts, number))
            continue
        seen_pmids.add(pmid)
        text = f"{title} {abstract}"
        doc_entities = []
        for ent_line, entity in entities.pop(pmid, []):
            if entity.end > len(text) or text[entity.start : entity.end] != entity.text:
                report.fail(
                    FormatError(
                        f"entity {entity.id} offsets ({entity.start}, {entity.end}) do not cover "
                        f"{entity.text!r} in document {pmid}",
                        entities_path,
                        ent_line,
                    )
                )
                continue
            doc_entities.append(entity)
        entity_ids = {e.id for e in doc_entities}
        if len(entity_ids) != len(doc_entities):
            report.fail(FormatError(f"duplicate entity ids in document {pmid}", entities_path))
            continue
        doc_relations: list[Relation] = []
        for rel_line, group, head, tail in relations.pop(pmid, []):
            missing = [arg for arg in (head, tail) if arg not in entity_ids]
            if missing:
                report.fail(
                    FormatError(
                        f"relation argument {missing[0]} is not an entity of document {pmid}",
                        relations_path,
                        rel_line,
                    )
                )
                continue
            doc_relations.append(Relation(id=f"R{len(doc_relations) + 1}", type=group, head=head, tail=tail))
        document = make_document(
            report,
            abstracts,
            number,
            id=pmid,
            text=text,
            entities=doc_entities,
            relations=doc_relations,
            metadata={
                "source": "chemprot",
                "pmid": pmid,
                **({"split": split} if split else {}),
                "passages": [["title", 0, len(title)], ["abstract", len(title) + 1, len(text)]],
            },
        )
        if document is not None:
            yield document
    for pmid, rows in entities.items():
        report.fail(FormatError(f"entities of unknown document {pmid!r}", entities_path, rows[0][0]))
    for pmid, rel_rows in relations.items():
        report.fail(FormatError(f"relations of unknown document {pmid!r}", relations_path, rel_rows[0][0]))


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write Documents as ChemProt TSV: ``path`` (``*abstracts*.tsv``) and its entities and relations
    companions beside it, each atomically. Returns the number of documents.

    The text must be ``title + " " + abstract`` with no tab or line break; without a title passage
    (``metadata["passages"]``) it is cut at its first space, so the text round-trips exactly.
    Entities must be continuous and relations link mentions with a ``CPR:n`` type: anything else
    is refused with the document named.
    """
    path = Path(path)
    if "abstracts" not in path.name or path.suffix != ".tsv":
        raise FormatError(
            "a ChemProt output is named like its abstracts file (e.g. pred_abstracts.tsv); its "
            "entities and relations files are written beside it",
            path,
        )
    entities_path, relations_path = _companion_paths(path)
    count = 0
    with contextlib.ExitStack() as stack:
        abstracts, entities, relations = (
            stack.enter_context(atomic_write(p)) for p in (path, entities_path, relations_path)
        )
        for document in documents:
            abstract_row, entity_rows, relation_rows = _rows(document)
            abstracts.write(abstract_row)
            entities.writelines(entity_rows)
            relations.writelines(relation_rows)
            count += 1
    return count


def _rows(document: Document) -> tuple[str, list[str], list[str]]:
    where = f"document {document.id!r}"
    for value, what in ((document.id, "id"), (document.text, "text")):
        if "\t" in value or "\n" in value or "\r" in value:
            raise FormatError(
                f"{where}: ChemProt TSV cannot hold a tab or line break in a document's {what}; "
                "write jsonl or bioc instead"
            )
    title, abstract = title_and_abstract(document)
    if abstract is None:
        title, _, abstract = document.text.partition(" ")
    entity_rows = []
    for entity in document.entities:
        if entity.is_discontinuous:
            raise FormatError(
                f"{where}: entity {entity.id!r} is discontinuous, which ChemProt cannot hold; "
                "write jsonl, brat or bioc instead"
            )
        if "\t" in entity.id or "\t" in entity.type:
            raise FormatError(f"{where}: entity {entity.id!r} has a tab in its id or type")
        entity_rows.append(
            f"{document.id}\t{entity.id}\t{entity.type}\t{entity.start}\t{entity.end}\t{entity.text}\n"
        )
    relation_rows = []
    for relation in document.relations:
        if relation.level != "mention" or not relation.type.startswith("CPR:"):
            raise FormatError(
                f"{where}: relation {relation.id!r} ({relation.type}, {relation.level} level) is not a "
                "ChemProt relation (a CPR:n type between two mentions); write jsonl or bioc instead"
            )
        relation_rows.append(f"{document.id}\t{relation.type}\tArg1:{relation.head}\tArg2:{relation.tail}\n")
    return f"{document.id}\t{title}\t{abstract}\n", entity_rows, relation_rows
