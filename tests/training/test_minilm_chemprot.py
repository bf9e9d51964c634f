"""Slow tier: the embedded MiniLM fine-tuned on a few hundred real ChemProt pairs, end to end."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from biorelex.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.corpus]


def test_minilm_on_chemprot_pairs_beats_the_majority_baseline(shared_data, tmp_path) -> None:
    """800 training pairs, 4 epochs: micro-F1 must be far above the all-negative baseline (0)."""
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "train",
            "configs/quick.toml",
            "-o",
            str(tmp_path / "run"),
            "--set",
            f"data.data_dir='{shared_data}'",
            "--set",
            "data.max_train_examples=800",
            "--set",
            "data.max_eval_examples=400",
            "--set",
            "train.epochs=4",
        ],
    )
    assert result.exit_code == 0, result.output
    import json

    scores = json.loads((tmp_path / "run" / "test" / "scores.json").read_text())
    assert scores["pairs"] == 400
    gold_positive = sum(scores["per_class"][name]["support"] for name in scores["positive"])
    assert gold_positive > 0  # the all-negative baseline scores micro-F1 0 on these pairs
    assert scores["micro_f1"] > 0.15, scores["micro_f1"]  # measured 0.299 on the CI machine type
