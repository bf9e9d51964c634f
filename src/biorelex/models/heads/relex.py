"""``relex``: the RelEx-BERT design, sentence -> BERT -> dropout -> dense.

The sentence representation is BERT's pooled output (a trained tanh layer over [CLS]), then
dropout and a dense classifier. One binary model per entity-type pair / relation type is a
training arrangement (``per_type_binary``), not a different head.
"""

from __future__ import annotations

import torch
from torch import nn

from biorelex.models.heads.base import HEADS, HeadInputs, RelationHead


@HEADS.register("relex")
class RelexHead(RelationHead):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__(hidden_size, num_labels, dropout)
        self.pooler = nn.Linear(hidden_size, hidden_size)
        self.dense = nn.Linear(hidden_size, num_labels)

    def forward(self, inputs: HeadInputs) -> torch.Tensor:
        sentence = torch.tanh(self.pooler(inputs.hidden[:, 0]))  # (batch, hidden)
        return self.dense(self.dropout(sentence))  # (batch, labels)
