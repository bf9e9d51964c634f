"""Structured pruning of an encoder's feed-forward blocks, for a smaller and faster student.

In a BERT layer the feed-forward block (``intermediate.dense``: H -> I, then ``output.dense``:
I -> H) holds two thirds of the matrix FLOPs per token (``4HI`` against ``8H^2`` for attention
with ``I = 4H``). Removing the least important intermediate neurons shrinks both matrices and
keeps a plain encoder: every layer keeps the same number of neurons, so ``config.intermediate_size``
describes the result, ``save_pretrained``/``from_pretrained`` round-trip it, and the ONNX export
and int8 quantisation see ordinary (smaller) ``MatMul``s.

Importance of neuron ``j`` in a layer: ``mean |a_j| * ||W_out[:, j]||_2``, the mean absolute
activation over the real (non-padding) tokens of a sample of training pairs, times the norm of
the weights through which it reaches the residual stream, i.e. the size of its typical
contribution to the layer's output. A neuron that is never active or whose output weights are
zero scores 0 and goes first. Distillation afterwards (``biorelex distill``) recovers the loss.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
from torch import nn

from biorelex.data.examples import PairExample, collate
from biorelex.errors import ConfigError

logger = logging.getLogger(__name__)


def feed_forward_blocks(encoder: Any) -> list[tuple[Any, Any]]:
    """``(intermediate, output)`` modules of every layer of a BERT-layout encoder.

    ``intermediate.dense`` maps H -> I (followed by the activation inside ``intermediate``) and
    ``output.dense`` maps I -> H. Encoders of another layout are refused with a ConfigError.
    """
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    blocks: list[tuple[Any, Any]] = []
    for index, layer in enumerate(layers or []):
        intermediate = getattr(layer, "intermediate", None)
        output = getattr(layer, "output", None)
        if not (
            isinstance(getattr(intermediate, "dense", None), nn.Linear)
            and isinstance(getattr(output, "dense", None), nn.Linear)
        ):
            raise ConfigError(f"layer {index} of {type(encoder).__name__} has no intermediate/output.dense")
        blocks.append((intermediate, output))
    if not blocks:
        raise ConfigError(
            f"feed-forward pruning needs a BERT-layout encoder (encoder.layer[i].intermediate); "
            f"{type(encoder).__name__} is not one: set distill.ffn_keep = 1.0"
        )
    return blocks


def example_batches(
    examples: Sequence[PairExample], pad_id: int, batch_size: int = 32
) -> Iterator[dict[str, torch.Tensor]]:
    """Collated batches (``input_ids``, ``attention_mask``...) of ``examples``, in order."""
    for start in range(0, len(examples), batch_size):
        yield collate(list(examples[start : start + batch_size]), pad_id)


def neuron_importance(encoder: Any, batches: Iterable[dict[str, torch.Tensor]]) -> list[torch.Tensor]:
    """Per layer, a ``(I,)`` tensor of ``mean |activation| * ||output weight column||`` (see module).

    ``batches`` hold ``input_ids`` and ``attention_mask`` (``(batch, seq)``); padding is not counted.
    """
    blocks = feed_forward_blocks(encoder)
    device = next(encoder.parameters()).device
    sums = [torch.zeros(out.dense.in_features, dtype=torch.float64) for _, out in blocks]
    count = 0
    mask_holder: dict[str, torch.Tensor] = {}

    def hook(index: int) -> Any:
        def record(_module: nn.Module, _inputs: Any, activation: torch.Tensor) -> None:
            mask = mask_holder["mask"].unsqueeze(-1).to(activation.dtype)  # (batch, seq, 1)
            sums[index] += (activation.abs() * mask).sum(dim=(0, 1)).double().cpu()

        return record

    handles = [inter.register_forward_hook(hook(i)) for i, (inter, _) in enumerate(blocks)]
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.inference_mode():
            for batch in batches:
                mask_holder["mask"] = batch["attention_mask"].to(device)
                encoder(input_ids=batch["input_ids"].to(device), attention_mask=mask_holder["mask"])
                count += int(batch["attention_mask"].sum())
    finally:
        for handle in handles:
            handle.remove()
        encoder.train(was_training)
    if count == 0:
        raise ConfigError("feed-forward pruning needs training pairs to measure neuron importance")
    return [
        (total / count).float() * out.dense.weight.detach().float().norm(dim=0).cpu()
        for total, (_, out) in zip(sums, blocks, strict=True)
    ]


def _restricted(linear: nn.Linear, index: torch.Tensor, dim: int) -> nn.Linear:
    """``linear`` keeping the output (``dim=0``: rows and bias) or input (``dim=1``) features ``index``."""
    weight = linear.weight.index_select(dim, index)
    new = nn.Linear(weight.shape[1], weight.shape[0], bias=linear.bias is not None)
    new = new.to(device=linear.weight.device, dtype=linear.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(weight)
        if linear.bias is not None:
            new.bias.copy_(linear.bias[index] if dim == 0 else linear.bias)
    return new


def kept_neurons(intermediate_size: int, keep: float) -> int:
    """How many of ``intermediate_size`` neurons a fraction ``keep`` leaves (at least 1)."""
    if not 0.0 < keep <= 1.0:
        raise ConfigError(f"the kept fraction of feed-forward neurons must be in (0, 1], got {keep}")
    return max(1, round(intermediate_size * keep))


def prune_feed_forward(encoder: Any, importance: Sequence[torch.Tensor], keep: float) -> int:
    """Keep the most important fraction ``keep`` of every layer's intermediate neurons, in place.

    The kept neurons stay in their original order; ``encoder.config.intermediate_size`` is set to
    the new size, which is returned.
    """
    blocks = feed_forward_blocks(encoder)
    if len(importance) != len(blocks):
        raise ConfigError(f"{len(importance)} importance vectors for {len(blocks)} layers")
    size = kept_neurons(blocks[0][1].dense.in_features, keep)
    for scores, (intermediate, output) in zip(importance, blocks, strict=True):
        if scores.shape != (output.dense.in_features,):
            raise ConfigError(
                f"importance of shape {tuple(scores.shape)} for {output.dense.in_features} neurons"
            )
        index = torch.topk(scores, size).indices.sort().values.to(intermediate.dense.weight.device)
        intermediate.dense = _restricted(intermediate.dense, index, dim=0)
        output.dense = _restricted(output.dense, index, dim=1)
    before = encoder.config.intermediate_size
    encoder.config.intermediate_size = size
    logger.info("feed-forward blocks pruned from %d to %d neurons per layer", before, size)
    return size
