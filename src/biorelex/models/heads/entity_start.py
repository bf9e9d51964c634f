"""``entity_start``: concatenated hidden states at the two entities' start markers."""

from __future__ import annotations

import torch
from torch import nn

from biorelex.models.heads.base import HEADS, HeadInputs, RelationHead, gather_positions


@HEADS.register("entity_start")
class EntityStartHead(RelationHead):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__(hidden_size, num_labels, dropout)
        self.classifier = nn.Linear(2 * hidden_size, num_labels)

    def forward(self, inputs: HeadInputs) -> torch.Tensor:
        head = gather_positions(inputs.hidden, inputs.head_start)  # (batch, hidden)
        tail = gather_positions(inputs.hidden, inputs.tail_start)  # (batch, hidden)
        return self.classifier(self.dropout(torch.cat([head, tail], dim=-1)))  # (batch, labels)
