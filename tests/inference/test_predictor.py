"""The predictor's PyTorch precisions: bf16 autocast against fp32, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.data import formats
from biorelex.errors import ConfigError
from biorelex.inference.predictor import Predictor, TorchClassifier, load_classifier


def _examples(trained_tiny_run, predictor: Predictor):
    return predictor.examples(list(formats.read(trained_tiny_run / "corpus" / "test.jsonl")))


def test_bf16_predictions_are_close_to_fp32_and_really_run_in_bf16(trained_tiny_run) -> None:
    model_dir = trained_tiny_run / "run" / "model"
    fp32 = Predictor.from_directory(model_dir, device="cpu")
    bf16 = Predictor.from_directory(model_dir, device="cpu", precision="bf16")
    assert isinstance(bf16.classifier, TorchClassifier) and bf16.classifier.precision == "bf16"
    examples = _examples(trained_tiny_run, fp32)
    p32 = fp32.predict_examples(examples).probabilities
    p16 = bf16.predict_examples(examples).probabilities
    assert np.isfinite(p16).all() and np.allclose(p16.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(p16 - p32).max() < 0.05  # bf16 keeps 8 bits of mantissa
    assert not np.array_equal(p16, p32)  # the matrix products really ran in bf16
    assert np.mean(p16.argmax(1) == p32.argmax(1)) >= 0.9
    # batch == single under bf16 too (each pair is padded only to its batch's longest)
    single = np.concatenate([bf16.predict_examples([e]).probabilities for e in examples[:6]])
    batched = bf16.predict_examples(examples[:6]).probabilities
    assert np.abs(single - batched).max() < 0.02
    assert next(bf16.classifier.model.parameters()).dtype == torch.float32  # weights stay fp32


def test_unknown_or_inapplicable_precisions_are_refused(trained_tiny_run, tmp_path) -> None:
    model_dir = trained_tiny_run / "run" / "model"
    with pytest.raises(ConfigError, match=r"precision must be one of \['fp32', 'bf16'\]"):
        load_classifier(model_dir, "cpu", precision="fp8")
    from biorelex.inference.onnx import export_onnx

    export_onnx(model_dir, tmp_path / "onnx")
    with pytest.raises(ConfigError, match="applies to PyTorch models"):
        load_classifier(tmp_path / "onnx", precision="bf16")


def test_cli_predict_and_evaluate_with_bf16(trained_tiny_run, tmp_path) -> None:
    model_dir = trained_tiny_run / "run" / "model"
    test = trained_tiny_run / "corpus" / "test.jsonl"
    out = tmp_path / "predicted.jsonl"
    done = CliRunner().invoke(
        app, ["predict", str(model_dir), str(test), "-o", str(out), "--precision", "bf16"]
    )
    assert done.exit_code == 0, done.output
    assert len(list(formats.read(out))) == len(list(formats.read(test)))
    done = CliRunner().invoke(app, ["evaluate", str(model_dir), str(test), "--precision", "bf16"])
    assert done.exit_code == 0 and "micro_f1" in done.output, done.output
    done = CliRunner().invoke(app, ["evaluate", str(model_dir), str(test), "--precision", "half"])
    assert done.exit_code != 0 and "precision must be one of" in done.output
