"""Typed errors. Every error a user can cause says where (file, line or element) and what to fix."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


class BiorelexError(Exception):
    """Base class of every error biorelex raises on purpose."""


class DocumentError(BiorelexError, ValueError):
    """A Document, Entity or Relation violates an invariant of the document model.

    Args:
        doc_id: id of the document concerned (``None`` when not yet known).
        message: what is wrong and, where possible, how to fix it.
    """

    def __init__(self, doc_id: str | None, message: str) -> None:
        self.doc_id = doc_id
        self.message = message
        where = f"document {doc_id!r}: " if doc_id is not None else ""
        super().__init__(f"{where}{message}")


class FormatError(BiorelexError, ValueError):
    """Input that a reader cannot accept.

    Args:
        message: what is wrong and how to fix it.
        path: the file concerned.
        line: 1-based line number, when the format is line-based.
        element: XML element or JSON path, when the format is structured.
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        element: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.element = element
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.element is not None:
            where += f" ({self.element})"
        return f"{where}: {self.message}"


class ConfigError(BiorelexError, ValueError):
    """A configuration value or command-line option is invalid."""


@dataclass
class Skip:
    """One record a lenient reader left out, and why."""

    path: str | None
    line: int | None
    element: str | None
    message: str

    def __str__(self) -> str:
        return str(FormatError(self.message, self.path, self.line, self.element))


@dataclass
class ReadReport:
    """What a reader skipped in lenient mode (and warnings in any mode)."""

    lenient: bool = False
    skipped: list[Skip] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)

    def fail(self, error: FormatError) -> None:
        """Raise ``error`` in strict mode; record and log it in lenient mode."""
        if not self.lenient:
            raise error
        self.skipped.append(Skip(error.path, error.line, error.element, error.message))
        logger.warning("skipped: %s", error)

    def warn(self, key: str, count: int = 1) -> None:
        """Count a non-fatal event (e.g. BRAT events skipped), reported at the end."""
        self.warnings[key] = self.warnings.get(key, 0) + count

    def summary(self) -> str:
        parts = [f"{len(self.skipped)} record(s) skipped"] if self.skipped else []
        parts += [f"{key}: {n}" for key, n in sorted(self.warnings.items())]
        return "; ".join(parts) if parts else "no records skipped"
