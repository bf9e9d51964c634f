"""Plain text: one document per ``.txt`` file (a folder: every ``.txt`` in it), or one per line.

No annotations are read; entities and relations come from a model (``biorelex extract``). Document
ids are the file stem (``stem:line`` for the one-per-line form); empty lines are skipped and counted in the read report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from biorelex.data.formats._io import iter_lines, read_text
from biorelex.document import Document
from biorelex.errors import FormatError, ReadReport


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise FormatError("this folder holds no .txt files", path)
        return files
    return [path]


def read(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """One Document per file (``.txt`` or ``.txt.gz``)."""
    for file in _files(Path(path)):
        text = read_text(file)
        yield Document(id=file.name.split(".")[0], text=text, metadata={"source": str(file)})


def read_lines(path: str | Path, *, report: ReadReport | None = None) -> Iterator[Document]:
    """One Document per non-empty line of every file."""
    report = report or ReadReport()
    for file in _files(Path(path)):
        stem = file.name.split(".")[0]
        for number, text in iter_lines(file):
            if not text.strip():
                report.warn("empty lines skipped")
                continue
            yield Document(id=f"{stem}:{number}", text=text, metadata={"source": str(file), "line": number})
