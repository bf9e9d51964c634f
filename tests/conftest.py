"""Shared fixtures: the tiny committed corpora and the shared benchmark data."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorelex.data.corpora import data_dir

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $BIORELEX_DATA); tests needing it are skipped where it is absent."""
    root = data_dir()
    if not (root / "README.md").exists():
        pytest.skip(f"shared corpora not found at {root}")
    return root


@pytest.fixture(scope="session")
def _tiny_bert_session():
    """A tiny random BERT (transformers' test-size config), built once per session."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    return BertModel(config, add_pooling_layer=False).eval()


@pytest.fixture
def tiny_bert(_tiny_bert_session):
    """A deep copy per test, so no test sees another's training."""
    import copy

    return copy.deepcopy(_tiny_bert_session)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A BERT WordPiece tokenizer over the small committed vocabulary (no network)."""
    from transformers import BertTokenizerFast

    tokens = (FIXTURES / "tiny_vocab.txt").read_text(encoding="utf-8").split()
    return BertTokenizerFast(vocab={token: i for i, token in enumerate(tokens)}, do_lower_case=True)
