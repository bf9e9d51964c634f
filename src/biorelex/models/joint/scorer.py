"""The deep biaffine relation scorer of the joint model (Dozat & Manning 2017, as Giorgi et al. use it).

For head representation ``h`` and tail representation ``t`` (each of size m), the score of class c is
``h^T U_c t + W_c [h; t] + b_c`` with ``U: (m, |C|, m)``, ``W: (|C|, 2m)``, ``b: (|C|)``. The
``linear`` ablation keeps ``W`` and ``b`` only.
"""

from __future__ import annotations

import torch
from torch import nn


class BiaffineScorer(nn.Module):
    """Scores every ordered pair (i, j) of a sentence's words for every relation class."""

    def __init__(self, size: int, n_classes: int, bilinear: bool = True) -> None:
        super().__init__()
        self.size = size
        self.bilinear = nn.Parameter(torch.zeros(size, n_classes, size)) if bilinear else None
        self.linear = nn.Linear(2 * size, n_classes)

    def forward(self, heads: torch.Tensor, tails: torch.Tensor) -> torch.Tensor:
        """``heads``, ``tails``: (batch, words, m) -> scores (batch, head word, tail word, classes)."""
        weight = self.linear.weight  # (classes, 2m)
        from_head = heads @ weight[:, : self.size].T  # (batch, words, classes)
        from_tail = tails @ weight[:, self.size :].T  # (batch, words, classes)
        scores = from_head[:, :, None, :] + from_tail[:, None, :, :] + self.linear.bias  # (b, w, w, c)
        if self.bilinear is not None:
            scores = scores + torch.einsum("bim,mcn,bjn->bijc", heads, self.bilinear, tails)
        return scores


def projection(in_size: int, out_size: int, dropout: float) -> nn.Module:
    """FFNN_head / FFNN_tail: linear -> ReLU -> dropout."""
    return nn.Sequential(nn.Linear(in_size, out_size), nn.ReLU(), nn.Dropout(dropout))
