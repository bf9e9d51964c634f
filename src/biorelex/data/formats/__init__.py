"""Corpus formats: every reader yields Documents; writers take Documents.

``FORMATS`` names each format; :func:`read` and :func:`write` dispatch by name, and
:func:`detect_format` guesses the format of a path where that is unambiguous.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from biorelex.data.formats import ade, bioc, blue, blurb, brat, chemprot, ddi, jsonl, pubtator, spert, text
from biorelex.document import Document
from biorelex.errors import FormatError, ReadReport

Reader = Callable[..., Iterator[Document]]
Writer = Callable[[Iterable[Document], "str | Path"], int]


@dataclass(frozen=True)
class Format:
    """A named corpus format with its reader and, when writable, its writer."""

    name: str
    description: str
    reader: Reader
    writer: Writer | None = None


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("jsonl", "biorelex JSONL, one Document per line (lossless)", jsonl.read, jsonl.write),
        Format(
            "chemprot",
            "BioCreative VI ChemProt TSV (abstracts/entities/relations; writes the evaluation's relations)",
            chemprot.read,
            chemprot.write,
        ),
        Format(
            "ddi", "DDI 2013 XML (file or folder; writes a folder of <document>.xml)", ddi.read, ddi.write
        ),
        Format(
            "blurb",
            "BLURB instance JSONL (ChemProt/DDI pairs; writes one line per pair)",
            blurb.read,
            blurb.write,
        ),
        Format(
            "blue", "BLUE/BioBERT masked-sentence TSV (GAD, EU-ADR; writes 0/1 pairs)", blue.read, blue.write
        ),
        Format("ade", "ADE-Corpus-V2 raw (DRUG-AE.rel + ADE-NEG.txt; writes a folder)", ade.read, ade.write),
        Format("spert", "SpERT JSON (ADE folds, CoNLL04)", spert.read, spert.write),
        Format("brat", "BRAT standoff (.txt + .ann, file or folder)", brat.read, brat.write),
        Format("bioc-xml", "BioC XML collection", bioc.read_xml, bioc.write_xml),
        Format("bioc-json", "BioC JSON collection", bioc.read_json, bioc.write_json),
        Format("text", "plain text, one document per .txt file (folder: every .txt)", text.read),
        Format("text-lines", "plain text, one document per line", text.read_lines),
        Format(
            "pubtator", "PubTator (title/abstract/mentions/relations blocks)", pubtator.read, pubtator.write
        ),
    )
}


def get_format(name: str) -> Format:
    """The format called ``name``, or an error listing the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise FormatError(f"unknown format {name!r}; known formats: {', '.join(FORMATS)}") from None


def read(
    path: str | Path, format: str | None = None, *, lenient: bool = False, report: ReadReport | None = None
) -> Iterator[Document]:
    """Read Documents from ``path`` in ``format`` (detected when ``None``)."""
    path = Path(path)
    if not path.exists():
        raise FormatError("no such file or directory", path)
    name = format or detect_format(path)
    return get_format(name).reader(path, report=report or ReadReport(lenient=lenient))


def write(documents: Iterable[Document], path: str | Path, format: str) -> int:
    """Write Documents to ``path`` in a writable ``format``; returns how many were written."""
    spec = get_format(format)
    if spec.writer is None:
        writable = ", ".join(n for n, f in FORMATS.items() if f.writer)
        raise FormatError(f"format {format!r} is read-only; write one of: {writable}")
    return spec.writer(documents, path)


def detect_format(path: str | Path) -> str:
    """Guess the format of ``path`` from its name and first bytes; error when ambiguous."""
    path = Path(path)
    if path.is_dir():
        names = {p.name for p in path.iterdir()}
        if any("abstracts" in n and n.endswith(".tsv") for n in names):
            return "chemprot"
        if "DRUG-AE.rel" in names or "ADE-NEG.txt" in names:
            return "ade"
        if any(n.endswith(".ann") for n in names):
            return "brat"
        if any(p.suffix == ".xml" for p in path.rglob("*.xml")):
            return "ddi"
        if any(n.endswith(".txt") for n in names):
            return "text"
        raise FormatError("cannot tell the format of this folder; pass --format", path)
    name = path.name
    if (
        name.endswith((".ann", ".txt"))
        and path.with_suffix(".ann").exists()
        and path.with_suffix(".txt").exists()
    ):
        return "brat"
    if name == "DRUG-AE.rel":
        return "ade"
    if "abstracts" in name and name.endswith(".tsv"):
        return "chemprot"
    if name.endswith(".tsv"):
        return "blue"
    head = _head(path)
    if name.endswith(".xml"):
        if "<collection" in head:
            return "bioc-xml"
        if "<document" in head and "<sentence" in head:
            return "ddi"
    if name.endswith(".jsonl"):
        first = head.split("\n", 1)[0]
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            raise FormatError("first line is not JSON; pass --format", path, 1) from None
        if isinstance(record, dict) and "sentence" in record and ("chem" in record or "e1" in record):
            return "blurb"
        return "jsonl"
    if name.endswith(".json"):
        stripped = head.lstrip()
        if stripped.startswith("["):
            return "spert"
        if stripped.startswith("{") and '"documents"' in head:
            return "bioc-json"
    first = head.split("\n", 1)[0]
    if "|t|" in first:
        return "pubtator"
    if name.endswith((".txt", ".txt.gz")):
        return "text"
    raise FormatError("cannot tell the format of this file; pass --format", path)


def _head(path: Path, size: int = 4096) -> str:
    with path.open("rb") as handle:
        return handle.read(size).decode("utf-8", errors="replace")
