"""Attention inspection (Giorgi et al. 2019, Figure 2): heat maps of chosen layers and heads.

Works for any biorelex model with an ``encoder`` and a ``tokenizer`` (joint model, relation
classifier). The encoder is switched to eager attention, the implementation that returns weights.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from biorelex.errors import ConfigError

logger = logging.getLogger(__name__)


def attention_maps(model: Any, text: str) -> tuple[list[str], np.ndarray]:
    """Sub-word tokens of ``text`` and attention weights ``(layers, heads, tokens, tokens)``."""
    encoder, tokenizer = model.encoder, model.tokenizer
    if hasattr(encoder, "set_attn_implementation"):
        encoder.set_attn_implementation("eager")
    encoded = tokenizer(text, return_tensors="pt", truncation=True, max_length=model.config.max_length)
    device = next(encoder.parameters()).device
    with torch.inference_mode():
        output = encoder(**{k: v.to(device) for k, v in encoded.items()}, output_attentions=True)
    if not output.attentions:
        raise ConfigError("this encoder does not return attention weights")
    weights = (
        torch.stack([a[0] for a in output.attentions]).float().cpu().numpy()
    )  # (layers, heads, seq, seq)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
    return tokens, weights


def plot_attention(tokens: Sequence[str], weights: np.ndarray, path: Path, title: str) -> None:
    """One heat map (rows attend to columns) as PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from biorelex.data.formats._io import atomic_write

    size = max(4.0, 0.28 * len(tokens) + 1.5)
    figure, axis = plt.subplots(figsize=(size, size))
    image = axis.imshow(weights, cmap="viridis", vmin=0.0)
    axis.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
    axis.set_yticks(range(len(tokens)), tokens, fontsize=7)
    axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
    figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
    plt.close(figure)


def explain(
    model: Any, text: str, output_dir: str | Path, layers: Sequence[int] = (), heads: Sequence[int] = ()
) -> list[Path]:
    """Heat maps of ``layers`` x ``heads`` (default: the last layer, every head averaged and each head)."""
    tokens, weights = attention_maps(model, text)
    n_layers, n_heads = weights.shape[:2]
    chosen_layers = list(layers) or [n_layers - 1]
    for index in chosen_layers:
        if not -n_layers <= index < n_layers:
            raise ConfigError(
                f"layer {index} does not exist: the encoder has {n_layers} layers (0..{n_layers - 1})"
            )
    for index in heads:
        if not 0 <= index < n_heads:
            raise ConfigError(
                f"head {index} does not exist: the encoder has {n_heads} heads (0..{n_heads - 1})"
            )
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for layer in chosen_layers:
        layer = layer % n_layers
        path = output_dir / f"layer{layer}_mean.png"
        plot_attention(tokens, weights[layer].mean(0), path, f"layer {layer}, mean over {n_heads} heads")
        written.append(path)
        for head in heads:
            path = output_dir / f"layer{layer}_head{head}.png"
            plot_attention(tokens, weights[layer, head], path, f"layer {layer}, head {head}")
            written.append(path)
    logger.info("wrote %d attention maps to %s", len(written), output_dir)
    return written
