"""Relation-classification scores as the benchmarks compute them.

- micro-P/R/F1 over the *positive classes* (ChemProt: CPR:3,4,5,6,9; DDI: its 4 types): a true
  positive is a pair whose predicted class is positive and equals the gold class; precision
  divides by pairs predicted positive, recall by gold-positive pairs. With one positive class
  this is binary F1 (GAD, EU-ADR).
- macro-F1 (mean of the positive classes' F1), per-class P/R/F1/support, accuracy over all pairs,
  one-vs-rest AUC-ROC from the class probabilities, the confusion matrix.
- :func:`paired_bootstrap`: significance of an F1 difference between two systems on the same pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _prf(tp: int, predicted: int, gold: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def micro_prf(gold: np.ndarray, predicted: np.ndarray, positive: np.ndarray) -> tuple[float, float, float]:
    """Micro precision, recall and F1 over positive class indices (vectorised)."""
    predicted_positive = np.isin(predicted, positive)
    tp = int(np.sum(predicted_positive & (predicted == gold)))
    return _prf(tp, int(predicted_positive.sum()), int(np.isin(gold, positive).sum()))


def micro_f1(gold: np.ndarray, predicted: np.ndarray, positive: np.ndarray) -> float:
    """Micro-F1 over positive class indices (used by the bootstrap)."""
    return micro_prf(gold, predicted, positive)[2]


def classification_scores(
    gold: Sequence[int],
    predicted: Sequence[int],
    labels: Sequence[str],
    positive: Sequence[str],
    probabilities: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every score of one evaluation (percentages are left to the reader: values are 0..1).

    Args:
        gold: gold class index per pair.
        predicted: predicted class index per pair.
        labels: class names by index.
        positive: names of the classes micro-F1 is computed over.
        probabilities: ``(pairs, classes)`` class probabilities for AUC (optional).
    """
    gold_array = np.asarray(gold, dtype=np.int64)
    predicted_array = np.asarray(predicted, dtype=np.int64)
    if gold_array.shape != predicted_array.shape:
        raise ValueError(f"{len(gold_array)} gold labels but {len(predicted_array)} predictions")
    positive_index = np.array([labels.index(name) for name in positive], dtype=np.int64)
    precision, recall, f1 = micro_prf(gold_array, predicted_array, positive_index)
    per_class: dict[str, dict[str, float]] = {}
    for index, name in enumerate(labels):
        class_tp = int(np.sum((predicted_array == index) & (gold_array == index)))
        p, r, f = _prf(class_tp, int(np.sum(predicted_array == index)), int(np.sum(gold_array == index)))
        per_class[name] = {"precision": p, "recall": r, "f1": f, "support": int(np.sum(gold_array == index))}
    scores: dict[str, Any] = {
        "micro_precision": precision,
        "micro_recall": recall,
        "micro_f1": f1,
        "macro_f1": float(np.mean([per_class[name]["f1"] for name in positive])) if len(positive) else 0.0,
        "accuracy": float(np.mean(gold_array == predicted_array)) if len(gold_array) else 0.0,
        "pairs": int(len(gold_array)),
        "per_class": per_class,
        "confusion": confusion_matrix(gold_array, predicted_array, len(labels)).tolist(),
        "labels": list(labels),
        "positive": list(positive),
    }
    if probabilities is not None:
        scores["auc_roc"] = one_vs_rest_auc(gold_array, np.asarray(probabilities), labels)
    return scores


def confusion_matrix(gold: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows = gold class, columns = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (gold, predicted), 1)
    return matrix


def one_vs_rest_auc(gold: np.ndarray, probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """AUC-ROC of each class against the rest, and their mean (classes with one outcome skipped)."""
    from sklearn.metrics import roc_auc_score

    per_class: dict[str, float] = {}
    for index, name in enumerate(labels):
        truth = gold == index
        if truth.all() or not truth.any():
            continue
        per_class[name] = float(roc_auc_score(truth, probabilities[:, index]))
    return {"per_class": per_class, "macro": float(np.mean(list(per_class.values()))) if per_class else None}


def paired_bootstrap(
    gold: Sequence[int] | np.ndarray,
    predicted_a: Sequence[int] | np.ndarray,
    predicted_b: Sequence[int] | np.ndarray,
    positive_index: Sequence[int],
    samples: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Paired bootstrap test of micro-F1(A) - micro-F1(B) (Berg-Kirkpatrick et al., 2012).

    Resample pairs with replacement ``samples`` times, scoring both systems on each resample.
    ``p_value`` is two-sided: twice the smaller share of resamples on either side of zero
    (capped at 1); ``p_a_not_better`` is the share of resamples where A does not beat B (the
    one-sided p-value of "A beats B"). Results written before 2026-11-23 call it ``p_a_better``.
    """
    gold_array = np.asarray(gold)
    a = np.asarray(predicted_a)
    b = np.asarray(predicted_b)
    if not (len(gold_array) == len(a) == len(b)):
        raise ValueError("the two systems must be scored on the same pairs (same length and order)")
    positive = np.asarray(positive_index)
    rng = np.random.default_rng(seed)
    n = len(gold_array)
    deltas = np.empty(samples)
    for k in range(samples):
        idx = rng.integers(0, n, n)
        deltas[k] = micro_f1(gold_array[idx], a[idx], positive) - micro_f1(gold_array[idx], b[idx], positive)
    observed = micro_f1(gold_array, a, positive) - micro_f1(gold_array, b, positive)
    not_better = float(np.mean(deltas <= 0))
    not_worse = float(np.mean(deltas >= 0))
    return {
        "f1_a": micro_f1(gold_array, a, positive),
        "f1_b": micro_f1(gold_array, b, positive),
        "delta": float(observed),
        "ci_low": float(np.percentile(deltas, 2.5)),
        "ci_high": float(np.percentile(deltas, 97.5)),
        "p_a_not_better": not_better,
        "p_value": min(1.0, 2 * min(not_better, not_worse)),
        "samples": samples,
    }


def plot_confusion(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], path: str | Path, title: str
) -> None:
    """Write the confusion matrix as a PNG (rows gold, columns predicted; row-normalised colours)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(matrix)
    normalised = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    size = max(4.0, 0.7 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title, fontsize=9)
    for i in range(len(labels)):
        for j in range(len(labels)):
            colour = "white" if normalised[i, j] > 0.5 else "black"
            axes.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8, color=colour)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def plot_learning_curve(history: Sequence[dict[str, Any]], path: str | Path, title: str) -> None:
    """Training loss and dev micro-F1 per epoch as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    figure, loss_axes = plt.subplots(figsize=(6, 4))
    loss_axes.plot(epochs, [h["train_loss"] for h in history], "o-", color="tab:red", label="train loss")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("train loss", color="tab:red")
    f1_axes = loss_axes.twinx()
    dev = [(h["epoch"], h["dev_micro_f1"]) for h in history if h.get("dev_micro_f1") is not None]
    if dev:
        f1_axes.plot(*zip(*dev, strict=True), "s-", color="tab:blue", label="dev micro-F1")
    f1_axes.set_ylabel("dev micro-F1", color="tab:blue")
    loss_axes.set_title(title, fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def save_figure(figure: Any, path: str | Path) -> None:
    """Write a figure atomically (temporary file, then rename)."""
    from biorelex.data.formats._io import atomic_write

    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, dpi=110, format="png")
