"""Tokenise a represented pair and truncate *around the two entities*, never through them.

The encoder sees ``[CLS] tokens [SEP]``. When the pair's text is longer than ``max_length``,
tokens are dropped from the ends first, keeping a window that holds both arguments; when the two
arguments are too far apart for any window, both keep their context and the middle is cut. A
mention longer than the whole budget is the only thing ever cut, and that is counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from biorelex.data.representation import Represented
from biorelex.document import Span


@dataclass(frozen=True)
class EncodedPair:
    """Token ids of one pair and where its arguments are (token indices, ``[CLS]`` = 0).

    Attributes:
        input_ids: ``[CLS] ... [SEP]``.
        head: token range ``(start, end)`` of the head argument's representation.
        tail: the same for the tail.
        truncated: some tokens were dropped to fit ``max_length``.
        mention_cut: an argument itself had to be cut (longer than the whole budget).
    """

    input_ids: tuple[int, ...]
    head: Span
    tail: Span
    truncated: bool = False
    mention_cut: bool = False


def _token_range(offsets: list[tuple[int, int]], span: Span) -> Span:
    inside = [i for i, (s, e) in enumerate(offsets) if e > s and s < span[1] and e > span[0]]
    if not inside:
        raise ValueError(f"no token covers characters {span}")
    return (inside[0], inside[-1] + 1)


def _keep(n: int, head: Span, tail: Span, budget: int) -> tuple[list[int], bool]:
    """Token positions to keep (sorted) and whether a mention had to be cut."""
    lo, hi = min(head[0], tail[0]), max(head[1], tail[1])
    if hi - lo <= budget:
        start = max(0, min(lo - (budget - (hi - lo)) // 2, n - budget))
        return list(range(start, start + budget)), False
    mentions = (head[1] - head[0]) + (tail[1] - tail[0])
    if mentions > budget:  # only a giant mention can force this: keep what fits of each
        head_length, tail_length = head[1] - head[0], tail[1] - tail[0]
        tail_take = min(tail_length, budget // 2)
        head_take = min(head_length, budget - tail_take)
        tail_take = min(tail_length, budget - head_take)
        kept = set(range(head[0], head[0] + head_take)) | set(range(tail[0], tail[0] + tail_take))
        return sorted(kept), True
    context = (budget - mentions) // 4
    keep: set[int] = set()
    for start, end in (head, tail):
        keep.update(range(max(0, start - context), min(n, end + context)))
    spare = budget - len(keep)
    extra = [i for i in range(lo, hi) if i not in keep][:spare]  # fill from the first argument onwards
    return sorted(keep | set(extra)), False


def tokenize_texts(tokenizer: Any, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """Sub-word ids and character offsets of every text, in one batched tokenizer call.

    A batched call lets a fast tokenizer work in parallel and in Rust; ``encode_pair`` on one text at
    a time gives the same result.
    """
    if not texts:
        return []
    encoding = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    return [
        (list(ids), [tuple(o) for o in offsets])
        for ids, offsets in zip(encoding["input_ids"], encoding["offset_mapping"], strict=True)
    ]


def encode_pair(represented: Represented, tokenizer: Any, max_length: int = 128) -> EncodedPair:
    """Tokenise ``represented`` and fit it into ``max_length`` tokens, special tokens included."""
    ((ids, offsets),) = tokenize_texts(tokenizer, [represented.text])
    return fit_pair(represented, ids, offsets, tokenizer, max_length)


def fit_pair(
    represented: Represented,
    ids: list[int],
    offsets: list[tuple[int, int]],
    tokenizer: Any,
    max_length: int = 128,
) -> EncodedPair:
    """Fit already tokenised ``represented`` (``ids`` and their character ``offsets``) into
    ``max_length`` tokens, special tokens included."""
    head = _token_range(offsets, represented.head)
    tail = _token_range(offsets, represented.tail)
    budget = max_length - 2
    truncated = mention_cut = False
    if len(ids) > budget:
        keep, mention_cut = _keep(len(ids), head, tail, budget)
        position = {old: new for new, old in enumerate(keep)}
        ids = [ids[i] for i in keep]

        def moved(span: Span) -> Span:
            kept = [position[i] for i in range(*span) if i in position]
            return (kept[0], kept[-1] + 1)

        head, tail, truncated = moved(head), moved(tail), True
    input_ids = (tokenizer.cls_token_id, *ids, tokenizer.sep_token_id)
    return EncodedPair(
        input_ids, (head[0] + 1, head[1] + 1), (tail[0] + 1, tail[1] + 1), truncated, mention_cut
    )
