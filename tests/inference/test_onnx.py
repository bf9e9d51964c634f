"""ONNX export: parity with PyTorch, int8, torch-free prediction, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.data import formats
from biorelex.errors import ConfigError
from biorelex.inference.onnx import OnnxClassifier, export_onnx
from biorelex.inference.predictor import Predictor, load_classifier

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(trained_tiny_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx")
    model = trained_tiny_run / "run" / "model"
    export_onnx(model, root / "fp32")
    export_onnx(model, root / "int8", quantize="int8")
    return model, root


def _test_documents(trained_tiny_run):
    return list(formats.read(trained_tiny_run / "corpus" / "test.jsonl"))


def test_onnx_fp32_logits_equal_pytorch_within_1e_4(exported, trained_tiny_run) -> None:
    import torch

    model_dir, root = exported
    torch_classifier = load_classifier(model_dir, "cpu", progress=False)
    onnx_classifier = OnnxClassifier.load(root / "fp32", progress=False)
    documents = _test_documents(trained_tiny_run)
    examples = Predictor(torch_classifier).examples(documents)
    onnx_examples = Predictor(onnx_classifier).examples(documents)
    # the torch-free tokenizer encodes exactly as the Hugging Face one
    assert [e.encoded for e in onnx_examples] == [e.encoded for e in examples]
    from biorelex.data.examples import collate

    with torch.inference_mode():
        expected = torch_classifier.model(collate(examples, 0)).logits.numpy()
    got = onnx_classifier.logits(onnx_examples, batch_size=5)  # other batch sizes and lengths than traced
    assert got.shape == expected.shape == (len(examples), len(onnx_classifier.labels.labels))
    assert np.abs(got - expected).max() < 1e-4
    metadata = json.loads((root / "fp32" / "biorelex.json").read_text())
    assert metadata["parity_fp32_max_abs_diff"] < 1e-4
    assert metadata["kind"] == "onnx_relation_classifier" and metadata["precision"] == "fp32"


def test_onnx_batch_results_equal_single_example_results(exported, trained_tiny_run) -> None:
    classifier = OnnxClassifier.load(exported[1] / "fp32", progress=False)
    examples = Predictor(classifier).examples(_test_documents(trained_tiny_run))
    batched = classifier.predict_proba(examples, batch_size=16)
    single = np.concatenate([classifier.predict_proba([e], batch_size=1) for e in examples])
    assert np.abs(batched - single).max() < 1e-5
    assert np.allclose(batched.sum(axis=1), 1.0, atol=1e-5)


def test_concurrent_workers_on_one_session_give_the_sequential_results(exported, trained_tiny_run) -> None:
    documents = _test_documents(trained_tiny_run)
    for precision in ("fp32", "int8"):
        sequential = OnnxClassifier.load(exported[1] / precision, num_threads=2, progress=False)
        concurrent = OnnxClassifier.load(exported[1] / precision, num_threads=2, progress=False, workers=3)
        examples = Predictor(sequential).examples(documents)
        assert len(examples) > 3 * 2  # more batches of 2 than workers
        expected = sequential.predict_proba(examples, batch_size=2)
        # the same batches, so int8's per-batch activation scales are the same too
        assert np.abs(concurrent.predict_proba(examples, batch_size=2) - expected).max() < 1e-6
        assert (
            concurrent.session.get_session_options().intra_op_num_threads == 1
        )  # 2 threads // 3, at least 1


def test_the_graph_has_eager_attention_without_nan_guards(exported) -> None:
    import onnx

    _, root = exported
    ops = [node.op_type for node in onnx.load(str(root / "fp32" / "model.onnx")).graph.node]
    assert ops.count("Softmax") == 2  # one per layer of the tiny encoder
    assert "IsNaN" not in ops  # the SDPA export's per-layer guard over (batch, heads, seq, seq)


def test_int8_model_has_int8_matmuls_loads_and_predicts_like_fp32(exported, trained_tiny_run) -> None:
    _, root = exported
    fp32 = OnnxClassifier.load(root / "fp32", progress=False)
    int8 = OnnxClassifier.load(root / "int8", progress=False)
    assert int8.precision == "int8"
    import onnx

    ops = {node.op_type for node in onnx.load(str(root / "int8" / "model.onnx")).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops  # the MatMuls really run in int8
    assert "MatMulInteger" not in {n.op_type for n in onnx.load(str(root / "fp32" / "model.onnx")).graph.node}
    examples = Predictor(int8).examples(_test_documents(trained_tiny_run))
    p8, p32 = int8.predict_proba(examples), fp32.predict_proba(examples)
    assert np.isfinite(p8).all() and np.allclose(p8.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(p8.argmax(1) == p32.argmax(1)) >= 0.75
    assert not np.array_equal(p8, p32)  # it really is another graph


def test_exported_folder_predicts_in_a_process_where_torch_cannot_be_imported(
    exported, trained_tiny_run, tmp_path
) -> None:
    _, root = exported
    output = tmp_path / "predicted.jsonl"
    script = textwrap.dedent(
        f"""
        import sys

        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked in this test")
                return None

        sys.meta_path.insert(0, NoTorch())
        from biorelex.data import formats
        from biorelex.inference.predictor import Predictor

        predictor = Predictor.from_directory({str(root / "int8")!r})
        documents = predictor.predict(list(formats.read({str(trained_tiny_run / "corpus" / "test.jsonl")!r})))
        formats.write(documents, {str(output)!r}, "jsonl")
        assert "torch" not in sys.modules
        print("relations", sum(len(d.relations) for d in documents))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = Predictor.from_directory(root / "int8").predict(_test_documents(trained_tiny_run))
    written = list(formats.read(output, "jsonl"))
    assert [d.relations for d in written] == [d.relations for d in expected]
    assert f"relations {sum(len(d.relations) for d in expected)}" in done.stdout


def test_export_refuses_what_it_cannot_export(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not a biorelex model directory"):
        export_onnx(tmp_path, tmp_path / "out")
    (tmp_path / "svm").mkdir()
    (tmp_path / "svm" / "biorelex.json").write_text('{"kind": "svm"}')
    with pytest.raises(ConfigError, match="only a single relation classifier"):
        export_onnx(tmp_path / "svm", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_export_then_predict_with_the_exported_folder(trained_tiny_run, tmp_path) -> None:
    runner = CliRunner()
    model = trained_tiny_run / "run" / "model"
    done = runner.invoke(app, ["export", str(model), str(tmp_path / "onnx"), "--onnx", "--quantize", "int8"])
    assert done.exit_code == 0, done.output
    assert "int8" in done.output
    test = trained_tiny_run / "corpus" / "test.jsonl"
    done = runner.invoke(app, ["predict", str(tmp_path / "onnx"), str(test), "-o", str(tmp_path / "p.jsonl")])
    assert done.exit_code == 0, done.output
    assert len(list(formats.read(tmp_path / "p.jsonl"))) == 24
    done = runner.invoke(app, ["export", str(model), str(tmp_path / "x"), "--quantize", "int4"])
    assert done.exit_code != 0 and "int8" in done.output
