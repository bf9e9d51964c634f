"""Shared plumbing of the readers and writers: strict UTF-8 lines, safe XML, atomic writes."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeGuard, TypeVar

from biorelex.document import Document
from biorelex.errors import DocumentError, FormatError, ReadReport

T = TypeVar("T")


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for reading bytes, transparently gunzipping ``*.gz``."""
    if not path.exists():
        raise FormatError("file not found", path)
    if path.is_dir():
        raise FormatError("expected a file, got a directory", path)
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def iter_lines(path: Path, *, allow_empty: bool = False) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, newline stripped) of a strict UTF-8 text file.

    Raises:
        FormatError: on bytes that are not UTF-8 (naming the line) or an empty file.
    """
    empty = True
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            empty = False
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(
                    f"byte {raw[exc.start]:#04x} at column {exc.start + 1} is not UTF-8; "
                    "re-encode the file as UTF-8",
                    path,
                    number,
                ) from None
            if number == 1:
                line = line.removeprefix("\ufeff")
            yield number, line.rstrip("\r\n")
    if empty and not allow_empty:
        raise FormatError("file is empty", path)


def read_text(path: Path) -> str:
    """Whole file as text, strict UTF-8 (error names the line), rejecting empty files."""
    data = open_binary(path).read()
    if not data:
        raise FormatError("file is empty", path)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError(
            f"byte {data[exc.start]:#04x} is not UTF-8; re-encode the file as UTF-8", path, line
        ) from None


def iter_json_lines(path: Path, report: ReadReport) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each non-blank JSON line; bad JSON fails with its line."""
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            report.fail(FormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, number))


def load_json(path: Path) -> Any:
    """A whole JSON file (strict UTF-8), with an error naming the line of a syntax error."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, exc.lineno) from None


class UniqueIds:
    """Admits each document id once per file; a repeat fails with its location."""

    def __init__(self, report: ReadReport, path: Path, what: str = "document id") -> None:
        self.report, self.path, self.what = report, path, what
        self.seen: set[str] = set()

    def admit(
        self, document: Document | None, line: int | None = None, element: str | None = None
    ) -> TypeGuard[Document]:
        if document is None:
            return False
        if document.id in self.seen:
            self.report.fail(FormatError(f"duplicate {self.what} {document.id!r}", self.path, line, element))
            return False
        self.seen.add(document.id)
        return True


def make_document(
    report: ReadReport,
    path: Path,
    line: int | None = None,
    element: str | None = None,
    **fields: Any,
) -> Document | None:
    """Build a Document; an invariant violation becomes a FormatError with its location.

    Returns ``None`` when the document was skipped in lenient mode.
    """
    try:
        return Document(**fields)
    except DocumentError as exc:
        report.fail(FormatError(str(exc), path, line, element))
        return None


def guarded(
    report: ReadReport, path: Path, line: int | None, element: str | None, build: Callable[..., T], *args: Any
) -> T | None:
    """Run ``build(*args)``; a DocumentError or ValueError becomes a located FormatError.

    Returns ``None`` when the record was skipped in lenient mode.
    """
    try:
        return build(*args)
    except FormatError as exc:
        report.fail(exc)
    except (DocumentError, ValueError, KeyError, TypeError) as exc:
        report.fail(FormatError(str(exc), path, line, element))
    return None


def source_text_attributes(
    covered: str,
    given: str,
    spans: int,
    error: FormatError,
    report: ReadReport | None = None,
    warning: str | None = None,
) -> dict[str, str]:
    """Check a mention's text as the source writes it against the text its offsets cover.

    The offsets are the truth. For a continuous mention a mismatch is an error (``error`` is
    raised). Discontinuous mentions are written their own way by some corpora ("alpha-adrenergic"
    for "alpha-" + "adrenergic"), so the source text is kept aside in the returned attributes and,
    when ``report`` and ``warning`` are given, counted in the report.
    """
    if covered == given:
        return {}
    if spans == 1:
        raise error
    if report is not None and warning is not None:
        report.warn(warning)
    return {"source_text": given}


def parse_int(value: Any, what: str, path: Path, line: int | None, element: str | None = None) -> int:
    """``int(value)`` with an error that names the field."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FormatError(f"{what} must be an integer, got {value!r}", path, line, element) from None


_UMASK = os.umask(0)  # read once, at import (reading it means setting it)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp's 0600 would make outputs private to their writer
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline=None if "b" in mode else "\n") as fh:
            yield fh
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def title_and_abstract(document: Document) -> tuple[str, str | None]:
    """Split a Document's text written as ``title + " " + abstract`` (PubTator, ChemProt).

    The first passage, when it is called ``title``, says where the title ends; without one, or
    without a space right after it, the whole text is the title and the abstract is ``None``.
    """
    text = document.text
    passages = document.metadata.get("passages") or ()
    if passages and passages[0][0] == "title":
        title_end = passages[0][2]
        if title_end < len(text) and text[title_end] == " ":
            return text[:title_end], text[title_end + 1 :]
    return text, None


def parse_xml_events(path: Path, tags: set[str]) -> Iterator[Any]:
    """Stream ``end`` events of the given tags from an XML file, parsed safely.

    DTDs with entity declarations and external entities are refused (defusedxml), so neither
    entity-expansion bombs nor external fetches are possible. Truncated or malformed XML raises
    a FormatError naming the line.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    if not path.exists():
        raise FormatError("file not found", path)
    if path.stat().st_size == 0:
        raise FormatError("file is empty", path)
    try:
        for _event, element in iterparse(str(path), events=("end",)):
            if element.tag in tags:
                yield element
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise FormatError(f"malformed XML: {exc}", path, line) from None
    except DefusedXmlException as exc:
        raise FormatError(f"unsafe XML refused ({type(exc).__name__}): {exc}", path) from None
