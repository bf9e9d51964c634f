"""Sentence splitting that never cuts through an entity mention.

Splitters (all rule-based, from PyPI, chosen by name):

- ``pysbd`` (default): the Golden-Rules splitter; of the three it reproduces the sentences of the
  BLURB ChemProt split best (candidate counts within 0.5%, see benchmarks/RESULTS.md). Its last
  release is from 2021; it is pure Python with no dependencies, so we accept that and keep the
  splitter swappable.
- ``nupunkt``: maintained (2026), ~25x faster, a little less faithful on biomedical abbreviations.
- ``syntok``: segtok's successor, fast, splits least like BLURB.

Given sentence boundaries (DDI XML, SpERT, BLURB lines) always win over splitting.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Sequence
from functools import cache

from biorelex.document import Document, Span
from biorelex.errors import ConfigError

logger = logging.getLogger(__name__)

SPLITTERS = ("pysbd", "nupunkt", "syntok")


def _pysbd() -> Callable[[str], list[Span]]:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return lambda text: [(span.start, span.end) for span in segmenter.segment(text)]


def _nupunkt() -> Callable[[str], list[Span]]:
    import nupunkt

    return lambda text: [(int(s), int(e)) for s, e in nupunkt.sent_spans(text)]


def _syntok() -> Callable[[str], list[Span]]:
    import syntok.segmenter as segmenter

    def split(text: str) -> list[Span]:
        spans = []
        for paragraph in segmenter.analyze(text):
            for sentence in paragraph:
                tokens = list(sentence)
                if tokens:
                    spans.append((tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)))
        return spans

    return split


@cache
def get_splitter(name: str) -> Callable[[str], list[Span]]:
    """The raw splitter function called ``name`` (spans may include surrounding spaces)."""
    factories = {"pysbd": _pysbd, "nupunkt": _nupunkt, "syntok": _syntok}
    if name not in factories:
        raise ConfigError(f"unknown sentence splitter {name!r}; choose one of {', '.join(SPLITTERS)}")
    return factories[name]()


def _trim(text: str, spans: Sequence[Span]) -> list[Span]:
    trimmed = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            trimmed.append((start, end))
    return trimmed


def merge_across_mentions(spans: Sequence[Span], mentions: Sequence[Span]) -> tuple[list[Span], int]:
    """Merge consecutive sentences wherever a mention ``(start, end)`` crosses their boundary.

    Returns:
        The merged spans and the number of boundaries removed.
    """
    merged: list[Span] = []
    removed = 0
    ordered = sorted(mentions)
    for start, end in spans:
        if merged and any(m_start < merged[-1][1] and m_end > start for m_start, m_end in ordered):
            merged[-1] = (merged[-1][0], end)
            removed += 1
        else:
            merged.append((start, end))
    return merged, removed


def split_sentences(text: str, splitter: str = "pysbd", mentions: Sequence[Span] = ()) -> list[Span]:
    """Sentence spans of ``text`` (whitespace trimmed), never cutting through ``mentions``."""
    if not text.strip():
        return []
    spans = _trim(text, get_splitter(splitter)(text))
    spans, removed = merge_across_mentions(spans, mentions)
    if removed:
        logger.debug("merged %d sentence boundaries that cut through a mention", removed)
    return spans


def sentence_index(starts: Sequence[int], offset: int) -> int:
    """Index of the sentence (by sorted start offsets) that holds ``offset``; 0 before the first."""
    return max(0, bisect.bisect_right(starts, offset) - 1)


def document_sentences(document: Document, splitter: str = "pysbd") -> list[Span]:
    """The document's given sentences, or split ones that keep every mention whole."""
    if document.sentences:
        return list(document.sentences)
    mentions = [(e.start, e.end) for e in document.entities]
    return split_sentences(document.text, splitter, mentions)
