"""The contract every registered head keeps (shape, gradients, padding-invariance)."""

from __future__ import annotations

import pytest
import torch

from biorelex.models.heads import HEADS, HeadInputs

NUM_LABELS = 3


def test_registry_contents() -> None:
    assert HEADS.names() == ["attention_pool", "cls", "entity_pool", "entity_start", "relex"]


def batch(lengths: list[int], seq: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 100, (len(lengths), seq), generator=generator)
    mask = torch.zeros(len(lengths), seq, dtype=torch.long)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
        ids[row, length:] = 0
    head_mask = torch.zeros_like(mask)
    tail_mask = torch.zeros_like(mask)
    head_mask[:, 1:3] = 1
    tail_mask[:, 4:5] = 1
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "head_start": torch.full((len(lengths),), 1),
        "tail_start": torch.full((len(lengths),), 4),
        "head_mask": head_mask,
        "tail_mask": tail_mask,
    }


def head_inputs(encoder, data: dict[str, torch.Tensor]) -> HeadInputs:
    hidden = encoder(input_ids=data["input_ids"], attention_mask=data["attention_mask"]).last_hidden_state
    return HeadInputs(
        hidden,
        data["attention_mask"],
        data["head_start"],
        data["tail_start"],
        data["head_mask"],
        data["tail_mask"],
    )


def run(encoder, head, data: dict[str, torch.Tensor]) -> torch.Tensor:
    return head(head_inputs(encoder, data))


@pytest.mark.parametrize("name", HEADS.names())
def test_output_shape_and_gradients(tiny_bert, name: str) -> None:
    torch.manual_seed(0)
    head = HEADS.get(name)(hidden_size=32, num_labels=NUM_LABELS)
    logits = run(tiny_bert, head, batch([7, 9], 9))
    assert logits.shape == (2, NUM_LABELS)
    logits.sum().backward()
    for pname, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, (
            f"{name}.{pname} gets no gradient"
        )
    assert tiny_bert.embeddings.word_embeddings.weight.grad is not None


@pytest.mark.parametrize("name", HEADS.names())
def test_batch_predicts_what_single_examples_predict(tiny_bert, name: str) -> None:
    torch.manual_seed(0)
    head = HEADS.get(name)(hidden_size=32, num_labels=NUM_LABELS).eval()
    data = batch([6, 9], 9)
    with torch.no_grad():
        together = run(tiny_bert, head, data)
        for row, length in enumerate([6, 9]):
            single = {k: v[row : row + 1] for k, v in data.items()}
            single = {k: (v[:, :length] if v.dim() == 2 else v) for k, v in single.items()}
            alone = run(tiny_bert, head, single)
            torch.testing.assert_close(alone, together[row : row + 1], atol=1e-5, rtol=1e-4)


def test_attention_pool_ignores_padding(tiny_bert) -> None:
    head = HEADS.get("attention_pool")(hidden_size=32, num_labels=NUM_LABELS).eval()
    inputs = head_inputs(tiny_bert, batch([5, 9], 9))
    weights = head.attention_weights(inputs)
    assert torch.all(weights[0, 5:] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))
