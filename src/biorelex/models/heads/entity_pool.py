"""``entity_pool``: mean-pooled mention tokens of both entities + [CLS]."""

from __future__ import annotations

import torch
from torch import nn

from biorelex.models.heads.base import HEADS, HeadInputs, RelationHead, masked_mean


@HEADS.register("entity_pool")
class EntityPoolHead(RelationHead):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__(hidden_size, num_labels, dropout)
        self.classifier = nn.Linear(3 * hidden_size, num_labels)

    def forward(self, inputs: HeadInputs) -> torch.Tensor:
        head = masked_mean(inputs.hidden, inputs.head_mask)  # (batch, hidden)
        tail = masked_mean(inputs.hidden, inputs.tail_mask)  # (batch, hidden)
        cls = inputs.hidden[:, 0]  # (batch, hidden)
        return self.classifier(self.dropout(torch.cat([cls, head, tail], dim=-1)))  # (batch, labels)
