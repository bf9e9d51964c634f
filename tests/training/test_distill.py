"""Distillation: the loss against hand-computed values, the truncated student, and a run end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.config import load_config
from biorelex.errors import ConfigError
from biorelex.inference.predictor import Predictor, load_classifier
from biorelex.models.relation_model import RelationModel
from biorelex.training.distill import distill, distillation_loss, truncated_student


def test_distillation_loss_matches_a_hand_computed_example() -> None:
    student = torch.tensor([[2.0, 0.0]])
    teacher = torch.log(torch.tensor([[0.5, 0.5]]))
    gold = torch.tensor([0])
    # alpha = 1: only T^2 * KL(teacher || student) at T = 2
    p_s = torch.softmax(student / 2, -1)[0]
    kl = sum(0.5 * math.log(0.5 / float(p_s[i])) for i in range(2))
    got = distillation_loss(student, teacher, gold, torch.tensor([1]), temperature=2.0, alpha=1.0)
    assert float(got) == pytest.approx(4 * kl, rel=1e-5)
    # alpha = 0: plain cross-entropy with the gold class
    ce = -math.log(math.exp(2) / (math.exp(2) + 1))
    got = distillation_loss(student, teacher, gold, torch.tensor([1]), temperature=2.0, alpha=0.0)
    assert float(got) == pytest.approx(ce, rel=1e-5)
    # a pair without a gold label contributes only the KL term
    got = distillation_loss(student, teacher, gold, torch.tensor([0]), temperature=2.0, alpha=0.5)
    assert float(got) == pytest.approx(0.5 * 4 * kl, rel=1e-5)
    # a student equal to the teacher has zero KL
    got = distillation_loss(teacher.clone(), teacher, gold, torch.tensor([0]), temperature=3.0, alpha=1.0)
    assert abs(float(got)) < 1e-6


def test_truncated_student_keeps_the_first_layers_and_copies_the_head(trained_tiny_run) -> None:
    teacher = RelationModel.load(trained_tiny_run / "run" / "model")
    student = truncated_student(teacher, 1)
    assert len(student.encoder.encoder.layer) == 1 and student.encoder.config.num_hidden_layers == 1
    assert len(teacher.encoder.encoder.layer) == 2  # the teacher is untouched
    first_student = student.encoder.encoder.layer[0].state_dict()
    for name, value in teacher.encoder.encoder.layer[0].state_dict().items():
        assert torch.equal(first_student[name], value)
    for name, value in teacher.head.state_dict().items():
        assert torch.equal(student.head.state_dict()[name], value)
    with pytest.raises(ConfigError, match="only 2 layers"):
        truncated_student(teacher, 5)


def _config(trained_tiny_run, *extra: str):
    corpus = trained_tiny_run / "corpus"
    return load_config(
        None,
        [
            "data.corpus=''",
            f"data.train='{corpus}/train.jsonl'",
            f"data.dev='{corpus}/dev.jsonl'",
            f"data.test='{corpus}/test.jsonl'",
            "train.epochs=6",
            "train.batch_size=8",
            "train.lr=3e-3",
            "distill.layers=1",
            *extra,
        ],
    )


def test_distillation_run_lowers_its_loss_and_the_student_saves_and_loads(trained_tiny_run, tmp_path) -> None:
    extra = trained_tiny_run / "corpus" / "dev.jsonl"  # read as unlabeled text: relations are dropped
    result = distill(
        _config(trained_tiny_run, f"distill.unlabeled=['{extra}']"),
        trained_tiny_run / "run" / "model",
        tmp_path / "s",
    )
    history = [json.loads(line) for line in (tmp_path / "s" / "metrics.jsonl").read_text().splitlines()]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert result.summary["train_pairs"] == 48 + 16  # labelled + unlabeled pairs
    assert result.summary["distillation"]["student"] == "teacher's first 1 layers"
    assert (tmp_path / "s" / "teacher" / "teacher_outputs.safetensors").exists()
    student = load_classifier(tmp_path / "s" / "model", "cpu", progress=False)
    assert student.model.encoder.config.num_hidden_layers == 1
    documents = list(
        __import__("biorelex.data.formats", fromlist=["read"]).read(
            trained_tiny_run / "corpus" / "test.jsonl"
        )
    )
    predictor = Predictor(student)
    examples = predictor.examples(documents)
    again = Predictor(load_classifier(tmp_path / "s" / "model", "cpu", progress=False)).predict_examples(
        examples
    )
    assert np.allclose(predictor.predict_examples(examples).probabilities, again.probabilities, atol=1e-6)
    assert result.summary["scores"]["test"]["micro_f1"] > 0.5  # the student learnt the tiny task


def test_cli_distill_with_a_named_student_encoder(trained_tiny_run, tiny_encoder_dir, tmp_path) -> None:
    corpus = trained_tiny_run / "corpus"
    done = CliRunner().invoke(
        app,
        [
            "distill",
            str(trained_tiny_run / "run" / "model"),
            "-o",
            str(tmp_path / "s"),
            "--student",
            str(tiny_encoder_dir),
            "--set",
            "data.corpus=''",
            "--set",
            f"data.train='{corpus}/train.jsonl'",
            "--set",
            "data.dev=''",
            "--set",
            f"data.test='{corpus}/test.jsonl'",
            "--set",
            "train.epochs=1",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "test: micro-F1" in done.output
    done = CliRunner().invoke(app, ["distill", str(tmp_path), "-o", str(tmp_path / "t")])
    assert done.exit_code != 0 and "not a biorelex model directory" in done.output


def test_distillation_with_pruned_feed_forward_blocks_saves_loads_and_exports(
    trained_tiny_run, tmp_path
) -> None:
    from biorelex.inference.onnx import export_onnx

    result = distill(
        _config(trained_tiny_run, "distill.ffn_keep=0.5", "distill.prune_pairs=20"),
        trained_tiny_run / "run" / "model",
        tmp_path / "s",
    )
    assert result.summary["distillation"]["ffn_keep"] == 0.5
    student = load_classifier(tmp_path / "s" / "model", "cpu", progress=False)
    encoder = student.model.encoder
    assert encoder.config.num_hidden_layers == 1 and encoder.config.intermediate_size == 18  # of 37
    assert encoder.encoder.layer[0].intermediate.dense.weight.shape == (18, 32)
    assert "feed-forward 18 of 37 neurons" in student.model.config.encoder
    assert result.summary["scores"]["test"]["micro_f1"] > 0.5  # the pruned student still learns
    documents = list(
        __import__("biorelex.data.formats", fromlist=["read"]).read(
            trained_tiny_run / "corpus" / "test.jsonl"
        )
    )
    examples = Predictor(student).examples(documents)
    torch_probabilities = Predictor(student).predict_examples(examples).probabilities
    export_onnx(tmp_path / "s" / "model", tmp_path / "onnx")
    exported = Predictor(load_classifier(tmp_path / "onnx", "cpu", progress=False))
    assert np.allclose(exported.predict_examples(examples).probabilities, torch_probabilities, atol=1e-4)


def test_ffn_keep_outside_the_unit_interval_is_refused(trained_tiny_run) -> None:
    with pytest.raises(ConfigError, match="ffn_keep"):
        _config(trained_tiny_run, "distill.ffn_keep=0")


def test_a_trained_classifier_as_the_student_is_pruned_and_distilled_again(
    trained_tiny_run, tmp_path
) -> None:
    model = trained_tiny_run / "run" / "model"  # any trained relation classifier, e.g. an earlier student
    result = distill(
        _config(trained_tiny_run, f"distill.student='{model}'", "distill.ffn_keep=0.5", "train.epochs=2"),
        model,
        tmp_path / "s",
    )
    student = load_classifier(tmp_path / "s" / "model", "cpu", progress=False).model
    assert student.encoder.config.num_hidden_layers == 2  # its own depth: distill.layers is not applied
    assert student.encoder.config.intermediate_size == 18
    assert result.summary["distillation"]["student"] == str(model)
    (tmp_path / "svm").mkdir()
    (tmp_path / "svm" / "biorelex.json").write_text(json.dumps({"kind": "svm"}))
    with pytest.raises(ConfigError, match="is a 'svm' model; name a relation classifier"):
        distill(_config(trained_tiny_run, f"distill.student='{tmp_path / 'svm'}'"), model, tmp_path / "t")
