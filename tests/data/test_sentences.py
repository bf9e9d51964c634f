from __future__ import annotations

import pytest

from biorelex.data.sentences import SPLITTERS, document_sentences, merge_across_mentions, split_sentences
from biorelex.document import Document, Entity
from biorelex.errors import ConfigError

TEXT = "Treatment with 5 mg i.v. of drug A. Then B was given. Finally C."


@pytest.mark.parametrize("splitter", SPLITTERS)
def test_every_splitter_returns_trimmed_ordered_spans(splitter: str) -> None:
    text = "Aspirin inhibits COX-1. Ibuprofen activates PPAR.  "
    assert [text[s:e] for s, e in split_sentences(text, splitter)] == [
        "Aspirin inhibits COX-1.",
        "Ibuprofen activates PPAR.",
    ]


def test_merge_across_mentions() -> None:
    spans = [(0, 10), (11, 20), (21, 30)]
    merged, removed = merge_across_mentions(spans, [(8, 12)])
    assert merged == [(0, 20), (21, 30)] and removed == 1
    assert merge_across_mentions(spans, [(0, 5), (22, 25)]) == (spans, 0)


def test_a_mention_is_never_cut() -> None:
    text = "He took Dr. Smith's pill. It worked."
    mention = Entity("e1", "X", ((8, 24),), text[8:24])  # "Dr. Smith's pill" spans a likely boundary
    doc = Document("d", text, (mention,))
    for start, end in document_sentences(doc, "pysbd"):
        assert not (start < mention.start < end < mention.end or mention.start < start < mention.end)


def test_given_sentences_win() -> None:
    doc = Document("d", TEXT, sentences=((0, 10), (11, len(TEXT))))
    assert document_sentences(doc) == [(0, 10), (11, len(TEXT))]


def test_empty_text_and_unknown_splitter() -> None:
    assert split_sentences("   ") == []
    with pytest.raises(ConfigError, match="unknown sentence splitter"):
        split_sentences("a. b.", "nltk")
