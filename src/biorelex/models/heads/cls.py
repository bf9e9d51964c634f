"""``cls``: [CLS] -> dropout -> linear (BioBERT / BLUE)."""

from __future__ import annotations

import torch
from torch import nn

from biorelex.models.heads.base import HEADS, HeadInputs, RelationHead


@HEADS.register("cls")
class ClsHead(RelationHead):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__(hidden_size, num_labels, dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, inputs: HeadInputs) -> torch.Tensor:
        cls = inputs.hidden[:, 0]  # (batch, hidden)
        return self.classifier(self.dropout(cls))  # (batch, labels)
