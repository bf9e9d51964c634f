"""Scores against hand-computed examples, and the bootstrap on known cases."""

from __future__ import annotations

import numpy as np
import pytest

from biorelex.evaluation.metrics import classification_scores, paired_bootstrap

LABELS = ["no_relation", "A", "B", "C"]
POSITIVE = ["A", "B", "C"]


def test_micro_f1_over_positive_classes_by_hand() -> None:
    # gold:      A  A  B  none none C
    # predicted: A  B  B  A    none none
    gold = [1, 1, 2, 0, 0, 3]
    predicted = [1, 2, 2, 1, 0, 0]
    scores = classification_scores(gold, predicted, LABELS, POSITIVE)
    # TP = 2 (A, B); predicted positive = 4; gold positive = 4
    assert scores["micro_precision"] == pytest.approx(2 / 4)
    assert scores["micro_recall"] == pytest.approx(2 / 4)
    assert scores["micro_f1"] == pytest.approx(0.5)
    # A: P 1/2 R 1/2 F 1/2; B: P 1/2 R 1/1 F 2/3; C never predicted: P 0 R 0 F 0
    assert scores["per_class"]["A"]["f1"] == pytest.approx(0.5)
    assert scores["per_class"]["B"]["f1"] == pytest.approx(2 / 3)
    assert scores["per_class"]["C"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert scores["accuracy"] == pytest.approx(3 / 6)
    assert scores["confusion"][1] == [0, 1, 1, 0]  # gold A: once A, once B


def test_only_negative_predictions_score_zero_not_nan() -> None:
    scores = classification_scores([1, 2, 0], [0, 0, 0], LABELS, POSITIVE)
    assert scores["micro_precision"] == 0.0
    assert scores["micro_recall"] == 0.0
    assert scores["micro_f1"] == 0.0
    assert scores["accuracy"] == pytest.approx(1 / 3)


def test_binary_f1_is_micro_f1_with_one_positive_class() -> None:
    labels = ["no_relation", "related"]
    gold = [1, 1, 1, 0, 0]
    predicted = [1, 1, 0, 1, 0]
    scores = classification_scores(gold, predicted, labels, ["related"])
    assert scores["micro_f1"] == pytest.approx(2 / 3)  # P 2/3, R 2/3


def test_auc_from_probabilities() -> None:
    labels = ["no_relation", "related"]
    probabilities = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    scores = classification_scores([1, 0, 0, 1], [1, 0, 1, 1], labels, ["related"], probabilities)
    assert scores["auc_roc"]["per_class"]["related"] == pytest.approx(1.0)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 gold labels but 2 predictions"):
        classification_scores([0, 1, 1], [0, 1], LABELS, POSITIVE)


def test_bootstrap_identical_systems_is_not_significant() -> None:
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, 300)
    predicted = np.where(rng.random(300) < 0.7, gold, rng.integers(0, 4, 300))
    result = paired_bootstrap(gold, predicted, predicted, [1, 2, 3], samples=200)
    assert result["delta"] == 0.0
    assert result["p_value"] == 1.0


def test_bootstrap_perfect_versus_poor_is_significant() -> None:
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 4, 300)
    poor = np.where(rng.random(300) < 0.3, gold, rng.integers(0, 4, 300))
    result = paired_bootstrap(gold, gold, poor, [1, 2, 3], samples=500)
    assert result["f1_a"] == 1.0
    assert result["delta"] > 0.3
    assert result["p_value"] < 0.01
    assert result["p_a_not_better"] < 0.005  # A (perfect) beats B in (almost) every resample
    assert result["ci_low"] > 0


def test_bootstrap_needs_aligned_systems() -> None:
    with pytest.raises(ValueError, match="same pairs"):
        paired_bootstrap([0, 1], [0, 1], [0], [1])
