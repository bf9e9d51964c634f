"""Feed-forward pruning: which neurons go, exactness when they carry nothing, save/load, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from transformers import BertConfig, BertModel

from biorelex.errors import ConfigError
from biorelex.models.pruning import (
    feed_forward_blocks,
    kept_neurons,
    neuron_importance,
    prune_feed_forward,
)


def _batches(lengths: tuple[int, ...] = (9, 8, 7, 9, 8, 7), batch_size: int = 3):
    """Batches of random ids of the given lengths, right-padded with 0 (mask 0)."""
    generator = torch.Generator().manual_seed(1)
    rows = [torch.randint(5, 100, (n,), generator=generator) for n in lengths]
    batches = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        width = max(len(r) for r in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        mask = torch.zeros(len(chunk), width, dtype=torch.long)
        for i, row in enumerate(chunk):
            ids[i, : len(row)], mask[i, : len(row)] = row, 1
        batches.append({"input_ids": ids, "attention_mask": mask})
    return batches


def _hidden(encoder, input_ids: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return encoder(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state


def test_neurons_without_output_weights_are_pruned_first_and_the_output_is_unchanged(tiny_bert) -> None:
    # zero the output weights of neurons 0..17 of every layer: they cannot change the output
    for _, output in feed_forward_blocks(tiny_bert):
        with torch.no_grad():
            output.dense.weight[:, :18] = 0.0
    ids = torch.randint(5, 100, (2, 11), generator=torch.Generator().manual_seed(3))
    before = _hidden(tiny_bert, ids)
    importance = neuron_importance(tiny_bert, _batches())
    assert [tuple(s.shape) for s in importance] == [(37,), (37,)]
    assert all(float(s[:18].max()) == 0.0 and float(s[18:].min()) > 0.0 for s in importance)
    size = prune_feed_forward(tiny_bert, importance, keep=19 / 37)
    assert size == 19 and tiny_bert.config.intermediate_size == 19
    for intermediate, output in feed_forward_blocks(tiny_bert):
        assert intermediate.dense.weight.shape == (19, 32) and intermediate.dense.bias.shape == (19,)
        assert output.dense.weight.shape == (32, 19)
    assert torch.allclose(_hidden(tiny_bert, ids), before, atol=1e-5)


def test_pruning_keeps_the_top_scored_neurons_in_their_order(tiny_bert) -> None:
    original = [inter.dense.weight.detach().clone() for inter, _ in feed_forward_blocks(tiny_bert)]
    scores = [torch.zeros(37) for _ in range(2)]
    scores[0][[30, 2, 11]] = torch.tensor([3.0, 2.0, 1.0])
    scores[1][[5, 6, 36]] = torch.tensor([1.0, 5.0, 2.0])
    prune_feed_forward(tiny_bert, scores, keep=3 / 37)
    blocks = feed_forward_blocks(tiny_bert)
    assert torch.equal(blocks[0][0].dense.weight, original[0][[2, 11, 30]])
    assert torch.equal(blocks[1][0].dense.weight, original[1][[5, 6, 36]])


def test_a_pruned_encoder_saves_and_loads_with_identical_outputs(tiny_bert, tmp_path) -> None:
    from transformers import AutoModel

    prune_feed_forward(tiny_bert, neuron_importance(tiny_bert, _batches()), keep=0.5)
    tiny_bert.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert loaded.config.intermediate_size == kept_neurons(37, 0.5) == 18
    ids = torch.randint(5, 100, (3, 8), generator=torch.Generator().manual_seed(4))
    assert torch.allclose(_hidden(loaded, ids), _hidden(tiny_bert, ids), atol=1e-6)


def test_padding_does_not_count_towards_importance(tiny_bert) -> None:
    alone = neuron_importance(tiny_bert, _batches((5,), 1))
    padded = neuron_importance(tiny_bert, _batches((5, 12), 2))
    separately = neuron_importance(tiny_bert, _batches((5, 12), 1))
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(padded, separately, strict=True))
    assert not all(torch.allclose(a, b, atol=1e-5) for a, b in zip(alone, padded, strict=True))


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"\(0, 1\]"):
        kept_neurons(10, 0.0)
    with pytest.raises(ConfigError, match="BERT-layout"):
        feed_forward_blocks(nn.Linear(2, 2))
    with pytest.raises(ConfigError, match="training pairs"):
        neuron_importance(
            BertModel(
                BertConfig(
                    vocab_size=10,
                    hidden_size=8,
                    num_hidden_layers=1,
                    num_attention_heads=2,
                    intermediate_size=4,
                )
            ),
            [],
        )
