"""``attention_pool``: attention-weighted sum over every token of the last layer.

Su & Vijay-Shanker (2020): instead of [CLS], score each token with a small learned attention
(``v^T tanh(W h_t)``), softmax over the real tokens, and classify the weighted sum. The weights are
exposed by :meth:`attention_weights` so the top-weighted words can be shown.
"""

from __future__ import annotations

import torch
from torch import nn

from biorelex.models.heads.base import HEADS, HeadInputs, RelationHead


@HEADS.register("attention_pool")
class AttentionPoolHead(RelationHead):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__(hidden_size, num_labels, dropout)
        self.projection = nn.Linear(hidden_size, hidden_size)
        self.score = nn.Linear(hidden_size, 1, bias=False)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def attention_weights(self, inputs: HeadInputs) -> torch.Tensor:
        """Softmax weights over tokens, 0 on padding: ``(batch, seq)``."""
        scores = self.score(torch.tanh(self.projection(inputs.hidden))).squeeze(-1)  # (batch, seq)
        scores = scores.masked_fill(inputs.attention_mask == 0, torch.finfo(scores.dtype).min)
        return torch.softmax(scores, dim=-1)

    def forward(self, inputs: HeadInputs) -> torch.Tensor:
        weights = self.attention_weights(inputs)  # (batch, seq)
        pooled = torch.bmm(weights.unsqueeze(1), inputs.hidden).squeeze(1)  # (batch, hidden)
        return self.classifier(self.dropout(pooled))  # (batch, labels)
