"""The shared contract of every relation head."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from biorelex.registry import Registry


@dataclass
class HeadInputs:
    """What a head sees of one batch of candidate pairs.

    Attributes:
        hidden: last encoder layer, ``(batch, seq, hidden)``.
        attention_mask: 1 for real tokens, ``(batch, seq)``.
        head_start: token index of the head entity's first token (or its start marker), ``(batch,)``.
        tail_start: the same for the tail entity, ``(batch,)``.
        head_mask: 1 on the head mention's tokens, ``(batch, seq)``.
        tail_mask: 1 on the tail mention's tokens, ``(batch, seq)``.
    """

    hidden: torch.Tensor
    attention_mask: torch.Tensor
    head_start: torch.Tensor
    tail_start: torch.Tensor
    head_mask: torch.Tensor
    tail_mask: torch.Tensor


class RelationHead(nn.Module):
    """Base class: ``forward(inputs) -> logits (num_pairs, num_labels)``."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.num_labels = num_labels
        self.dropout = nn.Dropout(dropout)

    def forward(self, inputs: HeadInputs) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


HEADS: Registry[type[RelationHead]] = Registry("head")


def gather_positions(hidden: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Hidden states at one position per row: ``(batch, seq, hidden), (batch,) -> (batch, hidden)``."""
    index = positions.view(-1, 1, 1).expand(-1, 1, hidden.size(-1))  # (batch, 1, hidden)
    return hidden.gather(1, index).squeeze(1)


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the hidden states where ``mask`` is 1: ``(batch, seq, hidden) -> (batch, hidden)``."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)  # (batch, seq, 1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
