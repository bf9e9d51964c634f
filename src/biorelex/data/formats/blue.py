"""BLUE/BioBERT masked-sentence TSV (GAD, EU-ADR): ``sentence TAB label``.

Test files carry a header ``index TAB sentence TAB label`` and an index column; train files have
neither. The masks ``@GENE$``, ``@DISEASE$`` (any ``@TYPE$``) stand for the two arguments: each
becomes an entity whose text is the mask itself. Label ``1`` gives one relation of type
``related`` (head = first mask); ``0`` gives none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from biorelex.data.formats._io import iter_lines
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
