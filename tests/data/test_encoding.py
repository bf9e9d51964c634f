from __future__ import annotations

import pytest

from biorelex.data.encoding import encode_pair
from biorelex.data.representation import Represented

TEXT = "aspirin inhibits cox and the gene of the cells"


def spans(text: str, first: str, second: str) -> Represented:
    a, b = text.index(first), text.rindex(second)
    return Represented(text, (a, a + len(first)), (b, b + len(second)))


def decode(tokenizer, ids, span) -> str:
    return tokenizer.decode(ids[span[0] : span[1]])


def test_short_pair_is_not_truncated(tiny_tokenizer) -> None:
    pair = encode_pair(spans(TEXT, "aspirin", "cox"), tiny_tokenizer, max_length=32)
    assert not pair.truncated
    assert (
        pair.input_ids[0] == tiny_tokenizer.cls_token_id and pair.input_ids[-1] == tiny_tokenizer.sep_token_id
    )
    assert decode(tiny_tokenizer, pair.input_ids, pair.head) == "aspirin"
    assert decode(tiny_tokenizer, pair.input_ids, pair.tail) == "cox"


@pytest.mark.parametrize("max_length", [6, 7, 9])
def test_truncation_keeps_both_arguments(tiny_tokenizer, max_length: int) -> None:
    text = "the the the the aspirin inhibits cox the the the the the"
    pair = encode_pair(spans(text, "aspirin", "cox"), tiny_tokenizer, max_length=max_length)
    assert pair.truncated and not pair.mention_cut and len(pair.input_ids) == max_length
    assert decode(tiny_tokenizer, pair.input_ids, pair.head) == "aspirin"
    assert decode(tiny_tokenizer, pair.input_ids, pair.tail) == "cox"


def test_far_apart_arguments_cut_the_middle(tiny_tokenizer) -> None:
    text = "aspirin " + "the " * 40 + "cox"
    pair = encode_pair(spans(text, "aspirin", "cox"), tiny_tokenizer, max_length=10)
    assert pair.truncated and not pair.mention_cut and len(pair.input_ids) == 10
    assert decode(tiny_tokenizer, pair.input_ids, pair.head) == "aspirin"
    assert decode(tiny_tokenizer, pair.input_ids, pair.tail) == "cox"


def test_multi_token_mentions_and_masks(tiny_tokenizer) -> None:
    text = "@chemical$ inhibits @gene-y$ strongly"
    pair = encode_pair(spans(text, "@chemical$", "@gene-y$"), tiny_tokenizer, max_length=32)
    assert decode(tiny_tokenizer, pair.input_ids, pair.head).replace(" ", "") == "@chemical$"
    assert decode(tiny_tokenizer, pair.input_ids, pair.tail).replace(" ", "") == "@gene-y$"


def test_a_mention_longer_than_the_budget_is_cut_and_flagged(tiny_tokenizer) -> None:
    text = "aspirin " * 12 + "inhibits cox"
    represented = Represented(text, (0, len("aspirin " * 12) - 1), (text.index("cox"), len(text)))
    pair = encode_pair(represented, tiny_tokenizer, max_length=8)
    assert pair.truncated and pair.mention_cut and len(pair.input_ids) == 8
    assert decode(tiny_tokenizer, pair.input_ids, pair.tail) == "cox"


def test_batched_tokenisation_equals_one_text_at_a_time(tiny_tokenizer, tmp_path) -> None:
    """``tokenize_texts`` (one batched call) gives what the single-text call gives, for the Hugging
    Face tokenizer and for the torch-free one that exported models use."""
    from biorelex.data.encoding import fit_pair, tokenize_texts
    from biorelex.inference.tokenizer import FastTokenizer

    tiny_tokenizer.save_pretrained(tmp_path)
    texts = [TEXT, "cox", "", TEXT.upper() + " " + TEXT, "aspirin"]
    for tokenizer in (tiny_tokenizer, FastTokenizer.from_directory(tmp_path)):
        batched = tokenize_texts(tokenizer, texts)
        assert len(batched) == len(texts)
        for text, (ids, offsets) in zip(texts, batched, strict=True):
            single = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            assert ids == list(single["input_ids"])
            assert offsets == [tuple(o) for o in single["offset_mapping"]]
        represented = spans(texts[3], "aspirin", "cox")
        ((ids, offsets),) = tokenize_texts(tokenizer, [represented.text])
        assert fit_pair(represented, ids, offsets, tokenizer, 9) == encode_pair(represented, tokenizer, 9)
    assert tokenize_texts(tiny_tokenizer, []) == []
