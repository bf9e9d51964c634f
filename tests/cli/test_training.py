"""The train / evaluate / predict / compare / cv commands on a tiny corpus with the tiny encoder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.data.formats import read

runner = CliRunner()


def write_config(path: Path, encoder: Path, corpus: Path, head: str = "entity_start") -> Path:
    path.write_text(
        f"""
[model]
encoder = "{encoder}"
head = "{head}"
representation = "markers"

[data]
corpus = ""
train = "{corpus}/train.jsonl"
dev = "{corpus}/dev.jsonl"
test = "{corpus}/test.jsonl"

[train]
epochs = 3
batch_size = 8
lr = 3e-3
""",
        encoding="utf-8",
    )
    return path


def test_train_evaluate_predict_compare(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    config = write_config(tmp_path / "run.toml", tiny_encoder_dir, pair_corpus)
    trained = runner.invoke(
        app, ["train", str(config), "-o", str(tmp_path / "run"), "--set", "train.epochs=2"]
    )
    assert trained.exit_code == 0, trained.output
    assert "test: micro-F1" in trained.output
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 2  # the override applied
    refused = runner.invoke(
        app, ["train", str(config), "-o", str(tmp_path / "run"), "--set", "train.epochs=3", "--resume"]
    )
    assert refused.exit_code == 2
    assert "train.epochs: 2 -> 3" in " ".join(refused.output.split())  # never mixes two schedules

    model = tmp_path / "run" / "model"
    evaluated = runner.invoke(
        app, ["evaluate", str(model), str(pair_corpus / "test.jsonl"), "-o", str(tmp_path / "eval")]
    )
    assert evaluated.exit_code == 0, evaluated.output
    scores = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert scores["pairs"] == 16
    assert (tmp_path / "eval" / "confusion.png").exists()

    predicted = runner.invoke(
        app, ["predict", str(model), str(pair_corpus / "test.jsonl"), "-o", str(tmp_path / "out.jsonl")]
    )
    assert predicted.exit_code == 0, predicted.output
    documents = list(read(tmp_path / "out.jsonl", "jsonl"))
    assert len(documents) == 16
    assert all(r.score is not None and 0 <= r.score <= 1 for d in documents for r in d.relations)

    # the same predictions in the BioCreative evaluation's format, told by the output's name
    as_chemprot = runner.invoke(
        app,
        ["predict", str(model), str(pair_corpus / "test.jsonl"), "-o", str(tmp_path / "pred_abstracts.tsv")],
    )
    assert as_chemprot.exit_code == 0, as_chemprot.output
    assert "(chemprot)" in as_chemprot.output
    rows = (tmp_path / "pred_relations.tsv").read_text().splitlines()
    assert sorted(rows) == sorted(
        f"{d.id}\t{r.type}\tArg1:{r.head}\tArg2:{r.tail}" for d in documents for r in d.relations
    )

    svm = runner.invoke(
        app,
        [
            "train",
            str(config),
            "-o",
            str(tmp_path / "svm"),
            "--set",
            "model.head=svm",
            "--set",
            "model.representation=mask",
        ],
    )
    assert svm.exit_code == 0, svm.output
    compared = runner.invoke(
        app, ["compare", str(tmp_path / "svm" / "test"), str(tmp_path / "eval"), "--samples", "200"]
    )
    assert compared.exit_code == 0, compared.output
    result = json.loads(compared.stdout.strip().splitlines()[-1])
    assert result["pairs"] == 16 and 0.0 <= result["p_value"] <= 1.0


def test_cv_command(pair_corpus, tmp_path) -> None:
    config = write_config(tmp_path / "run.toml", Path("unused"), pair_corpus, head="svm")
    result = runner.invoke(app, ["cv", str(config), "-o", str(tmp_path / "cv"), "--folds", "2"])
    assert result.exit_code == 0, result.output
    assert "2-fold F1" in result.output
    assert "dev F1" not in result.output  # no dev set: the last epoch is scored


def test_cv_command_reports_the_dev_chosen_epochs(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    config = write_config(tmp_path / "run.toml", tiny_encoder_dir, pair_corpus)
    arguments = ["cv", str(config), "-o", str(tmp_path / "cv"), "--folds", "2"]
    result = runner.invoke(app, [*arguments, "--set", "data.cv_dev_fraction=0.25", "--set", "train.epochs=2"])
    assert result.exit_code == 0, result.output
    assert re.search(
        r"dev F1 of the chosen epochs [\d.]+ \+- [\d.]+ \(epochs per fold: [12], [12]\)", result.output
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "missing.toml"], "config file not found"),
        (["train", "--set", "train.lr=fast"], "train.lr"),
        # before any data is read (here there is none to read)
        (["train", "--set", "model.head=nope"], "unknown head 'nope'; registered: attention_pool, cls"),
        (["evaluate", "no-such-model", "x.jsonl"], "not a biorelex model directory"),
        (["compare", "a", "b"], "no predictions.jsonl"),
    ],
)
def test_errors_are_messages_not_tracebacks(
    arguments: list[str], message: str, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_train_keeps_binary_members_and_a_new_run_directory_restores_them(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    config = write_config(tmp_path / "run.toml", tiny_encoder_dir, pair_corpus, head="relex")
    kept = tmp_path / "kept.json"
    common = ["--set", "model.per_type_binary=true", "--set", "train.epochs=1", "--keep-members", str(kept)]
    first = runner.invoke(app, ["train", str(config), "-o", str(tmp_path / "a"), *common])
    assert first.exit_code == 0, first.output
    assert sorted(json.loads(kept.read_text())) == ["CPR:3", "CPR:4"]
    again = runner.invoke(app, ["train", str(config), "-o", str(tmp_path / "b"), *common])
    assert again.exit_code == 0, again.output
    assert "no model saved: members ['CPR:3', 'CPR:4'] were restored from kept scores" in again.output
    test_line = [line for line in first.output.splitlines() if line.startswith("test: micro-F1")]
    assert test_line and test_line[0] in again.output  # the same scores, from the kept ones


def test_keep_members_without_per_type_binary_is_a_clear_error(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    config = write_config(tmp_path / "run.toml", tiny_encoder_dir, pair_corpus)
    result = runner.invoke(
        app, ["train", str(config), "-o", str(tmp_path / "run"), "--keep-members", str(tmp_path / "k.json")]
    )
    assert result.exit_code != 0
    assert "--keep-members needs model.per_type_binary = true" in result.output
    assert not (tmp_path / "k.json").exists()
