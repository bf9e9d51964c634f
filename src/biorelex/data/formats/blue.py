"""BLUE/BioBERT masked-sentence TSV (GAD, EU-ADR): ``sentence TAB label``.

Test files carry a header ``index TAB sentence TAB label`` and an index column; train files have
neither. The masks ``@GENE$``, ``@DISEASE$`` (any ``@TYPE$``) stand for the two arguments: each
becomes an entity whose text is the mask itself. Label ``1`` gives one relation of type
``related`` (head = first mask); ``0`` gives none.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from biorelex.data.formats._io import atomic_write, iter_lines
from biorelex.data.formats._pairs import Pair, document_pairs
from biorelex.document import Document, Entity, Relation
from biorelex.errors import FormatError, ReadReport

MASK = re.compile(r"@([A-Z][A-Z0-9_-]*)\$")
HEADER = ["index", "sentence", "label"]
POSITIVE_TYPE = "related"


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """Read a masked TSV file (with or without the test header) into one Document per line."""
    report = report or ReadReport()
    path = Path(path)
    split = path.stem if path.stem in ("train", "dev", "test") else None
    columns = 2
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        cols = line.split("\t")
        if number == 1 and [c.strip().lower() for c in cols] == HEADER:
            columns = 3
            continue
        if len(cols) != columns:
            report.fail(
                FormatError(
                    f"expected {columns} tab-separated columns "
                    f"({'index, sentence, label' if columns == 3 else 'sentence, label'}), "
                    f"got {len(cols)}",
                    path,
                    number,
                )
            )
            continue
        sentence, label = cols[-2], cols[-1].strip()
        if label not in ("0", "1"):
            report.fail(FormatError(f"label must be 0 or 1, got {label!r}", path, number))
            continue
        masks = list(MASK.finditer(sentence))
        if len(masks) != 2:
            report.fail(
                FormatError(f"expected exactly 2 entity masks like @GENE$, found {len(masks)}", path, number)
            )
            continue
        entities = tuple(
            Entity(id=f"E{i + 1}", type=m.group(1), spans=((m.start(), m.end()),), text=m.group(0))
            for i, m in enumerate(masks)
        )
        relations = (Relation(id="R1", type=POSITIVE_TYPE, head="E1", tail="E2"),) if label == "1" else ()
        metadata = {"source": "blue", "line": number, **({"split": split} if split else {})}
        if columns == 3:
            metadata["index"] = cols[0]
        yield Document(
            id=f"{path.parent.name}/{path.stem}:{cols[0] if columns == 3 else number}",
            text=sentence,
            entities=entities,
            relations=relations,
            sentences=((0, len(sentence)),),
            metadata=metadata,
        )


def write(documents: Iterable[Document], path: str | Path) -> int:
    """Write one masked sentence per pair of each Document (atomically); returns the Documents.

    The pairs are :func:`~biorelex.data.formats._pairs.document_pairs`'. Each argument's text is
    replaced by ``@TYPE$`` (its type in capitals); the label is ``1`` for a ``related`` relation and
    ``0`` for none. Written in the test files' form (header, index column) when the first Document
    has an index (it was read from one), in the train files' form otherwise. Relations of any other
    type, overlapping or discontinuous arguments, a type that cannot be a mask and sentences with a
    tab, a line break or a mask of their own are refused, naming the document. Scores are not
    written: the format has no column for them.
    """
    iterator = iter(documents)
    first = next(iterator, None)
    indexed = first is not None and "index" in first.metadata
    count = lines = 0
    with atomic_write(path) as handle:
        if indexed:
            handle.write("\t".join(HEADER) + "\n")
        for document in itertools.chain([first] if first is not None else [], iterator):
            own_index = document.metadata.get("index") if len(document.entities) == 2 else None
            for pair in document_pairs(document, "BLUE"):
                sentence, label = _masked(document, pair)
                index = own_index if own_index is not None else str(lines)
                handle.write(f"{index}\t{sentence}\t{label}\n" if indexed else f"{sentence}\t{label}\n")
                lines += 1
            count += 1
    return count


def _masked(document: Document, pair: Pair) -> tuple[str, str]:
    where = f"document {document.id!r}"
    relation = pair.relation
    if relation is not None and relation.type != POSITIVE_TYPE:
        raise FormatError(
            f"{where}: relation {relation.id!r} has type {relation.type!r}; BLUE TSV holds 0/1 labels "
            f"(a relation of type {POSITIVE_TYPE!r} or none), so write blurb or jsonl instead"
        )
    first, second = sorted((pair.head, pair.tail), key=lambda e: e.start)
    for entity in (first, second):
        if entity.is_discontinuous:
            raise FormatError(f"{where}: entity {entity.id!r} is discontinuous and cannot be masked")
        if not MASK.fullmatch(f"@{entity.type.upper()}$"):
            raise FormatError(f"{where}: entity type {entity.type!r} cannot be written as a mask @TYPE$")
    if first.end > second.start:
        raise FormatError(
            f"{where}: entities {first.id!r} and {second.id!r} overlap and cannot both be masked"
        )
    start, end = pair.sentence
    text = document.text
    pieces = [
        text[start : first.start],
        f"@{first.type.upper()}$",
        text[first.end : second.start],
        f"@{second.type.upper()}$",
        text[second.end : end],
    ]
    sentence = "".join(pieces)
    if len(MASK.findall(sentence)) != 2:
        raise FormatError(f"{where}: the sentence already holds a mask like @GENE$")
    if "\t" in sentence or "\n" in sentence or "\r" in sentence:
        raise FormatError(f"{where}: the sentence holds a tab or a line break, which a TSV line cannot")
    return sentence, "1" if relation is not None else "0"
