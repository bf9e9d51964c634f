"""The predictor's PyTorch precisions (bf16 autocast against fp32), concurrent workers, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.data import formats
from biorelex.errors import ConfigError
from biorelex.inference.predictor import (
    Predictor,
    TorchClassifier,
    batched_scores,
    load_classifier,
    threads_per_worker,
)


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """``workers`` shares the CPU threads among the workers through torch's process-wide setting."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


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
    done = CliRunner().invoke(
        app, ["predict", str(model_dir), str(test), "-o", str(out), "--workers", "2", "--batch-size", "2"]
    )
    assert done.exit_code == 0, done.output
    assert len(list(formats.read(out))) == len(list(formats.read(test)))
    done = CliRunner().invoke(app, ["evaluate", str(model_dir), str(test), "--precision", "half"])
    assert done.exit_code != 0 and "precision must be one of" in done.output


def test_workers_score_batches_concurrently_with_the_sequential_results(trained_tiny_run) -> None:
    model_dir = trained_tiny_run / "run" / "model"
    sequential = Predictor.from_directory(model_dir, device="cpu", batch_size=2)
    concurrent = Predictor.from_directory(model_dir, device="cpu", batch_size=2, workers=2)
    assert isinstance(concurrent.classifier, TorchClassifier) and concurrent.classifier.workers == 2
    examples = _examples(trained_tiny_run, sequential)
    assert len(examples) > 4
    expected = sequential.predict_examples(examples)
    got = concurrent.predict_examples(examples)
    assert np.abs(got.probabilities - expected.probabilities).max() < 1e-5
    assert np.array_equal(got.predicted, expected.predicted)


def test_batched_scores_runs_batches_in_worker_threads_and_keeps_the_order() -> None:
    import threading

    seen: set[str] = set()

    def forward(batch: list) -> np.ndarray:
        seen.add(threading.current_thread().name)
        return np.array([[float(len(e)), 1.0] for e in batch], dtype=np.float32)

    examples = ["a" * n for n in (5, 1, 9, 3, 7, 2, 8)]  # anything with a length
    got = batched_scores(examples, 2, 2, forward, progress=False, workers=3)  # type: ignore[arg-type]
    assert got[:, 0].tolist() == [5, 1, 9, 3, 7, 2, 8]  # back in the order given
    assert seen and all(name.startswith("biorelex-forward") for name in seen)


def test_threads_are_shared_among_workers_and_bad_worker_counts_are_refused(trained_tiny_run) -> None:
    assert threads_per_worker(4, 2) == 2 and threads_per_worker(3, 2) == 1 and threads_per_worker(1, 3) == 1
    assert threads_per_worker(None, 1) is None and threads_per_worker(6, 1) == 6
    assert threads_per_worker(None, 2) is not None and threads_per_worker(None, 2) >= 1
    model_dir = trained_tiny_run / "run" / "model"
    for bad in (0, -1, True):
        with pytest.raises(ConfigError, match="workers must be a positive integer"):
            load_classifier(model_dir, "cpu", workers=bad)  # type: ignore[arg-type]
    done = CliRunner().invoke(
        app, ["evaluate", str(model_dir), str(trained_tiny_run / "corpus" / "test.jsonl"), "--workers", "0"]
    )
    assert done.exit_code != 0 and "workers must be a positive integer" in done.output
    assert "Traceback" not in done.output
