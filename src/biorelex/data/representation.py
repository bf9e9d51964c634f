"""Entity representation: how a candidate pair's two mentions are shown to the encoder.

- ``mask`` (BLUE/BioBERT): each mention is replaced by ``@TYPE$`` (``@CHEMICAL$``, ``@GENE$``);
  mentions that overlap get one joint mask ``@HEADTYPE-TAILTYPE$``.
- ``markers``: typed markers in plain-text punctuation around each mention, head
  ``@ * TYPE * mention @`` and tail ``# ^ TYPE ^ mention #`` (no new vocabulary needed).
- ``special``: the same typed markers as new special tokens, head ``<h:TYPE> mention </h>`` and
  tail ``<t:TYPE> mention </t>``; :func:`special_tokens` lists those a model must add.
- ``none``: the sentence as it is.

Discontinuous mentions are represented by their covering span (first start to last end). The
result gives the text and the character span of each argument's representation in it, from
which encoding finds the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from biorelex.data.candidates import Candidate
from biorelex.document import Span
from biorelex.errors import ConfigError

Mode = Literal["mask", "markers", "special", "none"]
MODES = ("mask", "markers", "special", "none")
HEAD_CLOSE, TAIL_CLOSE = "</h>", "</t>"


@dataclass(frozen=True)
class Represented:
    """A pair's text as the encoder sees it, with each argument's character span in it."""

    text: str
    head: Span
    tail: Span


def _type_name(entity_type: str) -> str:
    return entity_type.upper().replace(" ", "_")


def special_tokens(entity_types: set[str] | list[str]) -> list[str]:
    """The special marker tokens of the ``special`` representation for these entity types."""
    names = sorted({_type_name(t) for t in entity_types})
    return [f"<h:{n}>" for n in names] + [f"<t:{n}>" for n in names] + [HEAD_CLOSE, TAIL_CLOSE]


def _markers(mode: Mode, head_type: str, tail_type: str) -> tuple[str, str, str, str]:
    """Open and close strings of the head and the tail markers (each followed/preceded by a space)."""
    if mode == "special":
        return f"<h:{head_type}> ", f" {HEAD_CLOSE}", f"<t:{tail_type}> ", f" {TAIL_CLOSE}"
    return f"@ * {head_type} * ", " @", f"# ^ {tail_type} ^ ", " #"


def represent(candidate: Candidate, mode: Mode = "mask") -> Represented:
    """The sentence of ``candidate`` with its two mentions represented as ``mode`` says."""
    if mode not in MODES:
        raise ConfigError(f"entity representation must be one of {MODES}, got {mode!r}")
    scope_start, scope_end = candidate.span
    sentence = candidate.document.text[scope_start:scope_end]
    head = (candidate.head.start - scope_start, candidate.head.end - scope_start)
    tail = (candidate.tail.start - scope_start, candidate.tail.end - scope_start)
    if mode == "none":
        return Represented(sentence, head, tail)
    head_type, tail_type = _type_name(candidate.head.type), _type_name(candidate.tail.type)
    overlap = head[0] < tail[1] and tail[0] < head[1]
    if mode == "mask":
        if overlap:
            start, end = min(head[0], tail[0]), max(head[1], tail[1])
            mask = f"@{head_type}-{tail_type}$"
            text = sentence[:start] + mask + sentence[end:]
            return Represented(text, (start, start + len(mask)), (start, start + len(mask)))
        return _replace(sentence, [(head, f"@{head_type}$", "head"), (tail, f"@{tail_type}$", "tail")])
    # markers: wrap each mention; an overlapping pair is wrapped as one span with both markers
    head_open, head_close, tail_open, tail_close = _markers(mode, head_type, tail_type)
    if overlap:
        start, end = min(head[0], tail[0]), max(head[1], tail[1])
        wrapped = head_open + tail_open + sentence[start:end] + tail_close + head_close
        text = sentence[:start] + wrapped + sentence[end:]
        tail_start = start + len(head_open)
        return Represented(
            text, (start, start + len(wrapped)), (tail_start, start + len(wrapped) - len(head_close))
        )
    return _replace(
        sentence,
        [
            (head, head_open + sentence[head[0] : head[1]] + head_close, "head"),
            (tail, tail_open + sentence[tail[0] : tail[1]] + tail_close, "tail"),
        ],
    )


def _replace(sentence: str, pieces: list[tuple[Span, str, str]]) -> Represented:
    """Replace two non-overlapping spans, tracking where each replacement lands."""
    spans: dict[str, Span] = {}
    text = sentence
    for (start, end), replacement, role in sorted(pieces, key=lambda p: p[0][0], reverse=True):
        text = text[:start] + replacement + text[end:]
        spans[role] = (start, start + len(replacement))
        shift = len(replacement) - (end - start)
        for other, (s, e) in list(spans.items()):
            if other != role and s >= end:
                spans[other] = (s + shift, e + shift)
    return Represented(text, spans["head"], spans["tail"])
