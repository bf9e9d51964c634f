"""The training loop end to end on a tiny learnable corpus with the tiny encoder."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from biorelex.config import load_config
from biorelex.errors import ConfigError
from biorelex.inference.predictor import load_classifier
from biorelex.training.cv import cross_validate
from biorelex.training.trainer import train
from tests.conftest import tiny_config


def test_training_learns_the_tiny_corpus_and_writes_every_report(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    result = train(tiny_config(tiny_encoder_dir, pair_corpus), tmp_path / "run")
    run = tmp_path / "run"
    assert result.summary["scores"]["test"]["micro_f1"] > 0.9
    for name in ("metrics.jsonl", "learning_curve.png", "results.json", "config.json"):
        assert (run / name).exists(), name
    for split in ("dev", "test"):
        for name in ("scores.json", "predictions.jsonl", "errors.tsv", "confusion.png"):
            assert (run / split / name).exists(), f"{split}/{name}"
    history = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(history) == 30
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    scores = json.loads((run / "test" / "scores.json").read_text())
    assert scores["setting"]["entities"] == "gold"
    assert scores["setting"]["split"] == "test"


def test_resume_after_interrupt_reaches_the_same_weights(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    config = tiny_config(tiny_encoder_dir, pair_corpus, "train.epochs=4", "data.test=''")
    train(config, tmp_path / "straight")

    class Interrupt(Exception):
        pass

    def stop_after_two(epoch: int, entry: dict) -> None:
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, tmp_path / "resumed", callbacks=[stop_after_two])
    assert json.loads((tmp_path / "resumed" / "checkpoint" / "state.json").read_text())["epoch"] == 2
    other = tiny_config(tiny_encoder_dir, pair_corpus, "train.epochs=5", "data.test=''")
    with pytest.raises(ConfigError, match="train.epochs: 4 -> 5"):  # another schedule: never mixed
        train(other, tmp_path / "resumed", resume=True)
    # the evaluation batch size touches nothing trained: a resumed run may change it
    config = tiny_config(
        tiny_encoder_dir, pair_corpus, "train.epochs=4", "data.test=''", "train.eval_batch_size=3"
    )
    train(config, tmp_path / "resumed", resume=True)
    for part in ("checkpoint/model/head.safetensors", "checkpoint/model/encoder/model.safetensors"):
        straight = load_file(str(tmp_path / "straight" / part))
        resumed = load_file(str(tmp_path / "resumed" / part))
        for key in straight:
            torch.testing.assert_close(resumed[key], straight[key], rtol=0, atol=1e-6, msg=f"{part}:{key}")
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_early_stopping_stops_when_dev_stalls(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    config = tiny_config(tiny_encoder_dir, pair_corpus, "train.lr=0.0", "train.early_stopping_patience=2")
    result = train(config, tmp_path / "run")
    assert len(result.history) == 3  # epoch 1 sets the best; 2 and 3 do not improve


def test_class_weights_and_accumulation_train(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    config = tiny_config(
        tiny_encoder_dir,
        pair_corpus,
        "train.class_weights='balanced'",
        "train.grad_accumulation=2",
        "train.epochs=2",
    )
    result = train(config, tmp_path / "run")
    assert result.history[-1]["step"] == 2 * 3  # 48 pairs / 8 per batch / 2 accumulated


def test_per_type_binary_models_combine(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    config = tiny_config(tiny_encoder_dir, pair_corpus, "model.head='relex'", "model.per_type_binary=true")
    result = train(config, tmp_path / "run")
    assert sorted(result.summary["members"]) == ["CPR:3", "CPR:4"]
    assert result.summary["scores"]["test"]["micro_f1"] > 0.9
    loaded = load_classifier(tmp_path / "run" / "model", progress=False)
    assert type(loaded).__name__ == "BinaryEnsemble"


class _Store:
    """A MemberStore in memory (benchmarks/classify.py keeps them in a committed JSON)."""

    def __init__(self) -> None:
        self.kept: dict = {}

    def restore(self, name, pairs):
        return self.kept.get(name)

    def keep(self, name, member) -> None:
        self.kept[name] = member


def test_per_type_binary_members_kept_by_scores_resume_on_a_new_machine(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    config = tiny_config(
        tiny_encoder_dir, pair_corpus, "model.head='relex'", "model.per_type_binary=true", "train.epochs=6"
    )
    store = _Store()
    first = train(config, tmp_path / "first", member_store=store)
    assert sorted(store.kept) == ["CPR:3", "CPR:4"]
    assert (tmp_path / "first" / "model").exists()
    kept = store.kept["CPR:3"]
    assert set(kept.scores) == {"dev", "test"}
    assert all(0.0 <= p <= 1.0 for p in kept.scores["test"].values())
    # a new machine (empty run directory) with one member kept: trains the other, restores the first
    partial = _Store()
    partial.kept["CPR:3"] = kept
    second = train(config, tmp_path / "second", member_store=partial)
    assert sorted(partial.kept) == ["CPR:3", "CPR:4"]  # the retrained member is kept too
    assert not (tmp_path / "second" / "binary" / "CPR_3").exists()
    assert second.summary["members_restored"] == ["CPR:3"]
    assert not (tmp_path / "second" / "model").exists()  # no weights for CPR:3, so no model
    assert second.summary["members"]["CPR:3"] == first.summary["members"]["CPR:3"]
    for split in ("dev", "test"):
        a = (tmp_path / "first" / split / "predictions.jsonl").read_text()
        b = (tmp_path / "second" / split / "predictions.jsonl").read_text()
        rows_a = [json.loads(line) for line in a.splitlines()]
        rows_b = [json.loads(line) for line in b.splitlines()]
        assert len(rows_a) == len(rows_b) > 0
        for ra, rb in zip(rows_a, rows_b, strict=True):
            assert ra["predicted"] == rb["predicted"]
            assert ra["probabilities"] == pytest.approx(rb["probabilities"], abs=1e-5)
    assert second.summary["scores"] == first.summary["scores"]
    # everything kept: nothing trains, the scores are the same
    third = train(config, tmp_path / "third", member_store=store)
    assert not (tmp_path / "third" / "binary").exists()
    assert third.summary["scores"] == first.summary["scores"]
    # a member kept by scores refuses pairs it was not kept with, naming the member
    with pytest.raises(ConfigError, match="CPR:3"):
        third.classifier.predict_proba(third.classifier.encode(_training_candidates(config)), 8)


def test_per_type_binary_evaluation_reuses_the_kept_scores(
    tiny_encoder_dir, pair_corpus, tmp_path, monkeypatch
) -> None:
    from biorelex.inference.predictor import TorchClassifier

    config = tiny_config(tiny_encoder_dir, pair_corpus, "model.head='relex'", "model.per_type_binary=true")
    scored: list[int] = []
    real = TorchClassifier.predict_proba

    def counting(self, examples, batch_size=64):
        scored.append(len(examples))
        return real(self, examples, batch_size)

    monkeypatch.setattr(TorchClassifier, "predict_proba", counting)
    plain = train(config, tmp_path / "plain")
    passes_plain = len(scored)
    scored.clear()
    kept = train(config, tmp_path / "kept", member_store=_Store())
    # each member scores dev and test once, for the store; the evaluation reads those scores
    assert len(scored) == passes_plain == 2 * 2
    assert kept.summary["scores"] == plain.summary["scores"]
    for split in ("dev", "test"):
        assert (tmp_path / "kept" / split / "predictions.jsonl").read_text() == (
            tmp_path / "plain" / split / "predictions.jsonl"
        ).read_text()
    # the returned and saved ensemble has its weights: it scores pairs no kept score covers
    examples = kept.classifier.encode(_training_candidates(config))
    assert kept.classifier.predict_proba(examples, 8).shape == (len(examples), 3)
    assert (tmp_path / "kept" / "model" / "biorelex.json").exists()


def _training_candidates(config):
    """Candidate pairs of the training split, which no kept score covers (dev and test only)."""
    from biorelex.data.examples import candidate_config, iter_candidates
    from biorelex.training.data import load_documents

    documents = load_documents(config.data, config.data.train)
    return list(iter_candidates(documents, candidate_config("auto", documents)))


def test_svm_baseline_behind_the_same_api(pair_corpus, tmp_path) -> None:
    config = tiny_config("unused", pair_corpus, "model.head='svm'", "model.representation='mask'")
    result = train(config, tmp_path / "run")
    assert result.summary["scores"]["test"]["micro_f1"] == 1.0
    loaded = load_classifier(tmp_path / "run" / "model")
    assert type(loaded).__name__ == "SvmClassifier"


def test_cross_validation_by_document(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    config = tiny_config(tiny_encoder_dir, pair_corpus, "model.head='svm'")
    summary = cross_validate(config, tmp_path / "cv", folds=3)
    assert summary["folds"] == 3
    assert len(summary["per_fold"]) == 3
    assert 0.0 <= summary["micro_f1"]["std"] <= summary["micro_f1"]["mean"] + 1e-9
    assert json.loads((tmp_path / "cv" / "cv.json").read_text())["folds"] == 3
    assert "dev" not in summary  # no dev set: the last epoch is scored, no dev figure to report


def test_cross_validation_reports_each_fold_and_resumes_from_fold_summaries_alone(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    config = tiny_config(tiny_encoder_dir, pair_corpus, "model.head='svm'")
    kept: dict[str, dict] = {}
    first = cross_validate(config, tmp_path / "cv", folds=3, on_fold=lambda name, s: kept.update({name: s}))
    assert sorted(kept) == ["fold1", "fold2", "fold3"]
    # a new machine: only the fold summaries survive (the split files are re-made by seed)
    fresh = tmp_path / "fresh"
    for name in ("fold1", "fold2"):
        (fresh / name).mkdir(parents=True)
        (fresh / name / "results.json").write_text(json.dumps(kept[name]))
    trained: list[str] = []
    second = cross_validate(config, fresh, folds=3, on_fold=lambda name, s: trained.append(name))
    assert trained == ["fold3"]
    assert second["per_fold"] == first["per_fold"]
    assert second["micro_f1"] == first["micro_f1"]


def test_cross_validation_resumes_an_interrupted_fold_from_its_epoch_checkpoint(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    config = tiny_config(tiny_encoder_dir, pair_corpus, "train.epochs=3", "data.dev=''")
    straight = cross_validate(config, tmp_path / "straight", folds=2)

    class Interrupt(Exception):
        pass

    def stop_in_fold_two(epoch: int, entry: dict) -> None:
        if (tmp_path / "resumed" / "fold1" / "results.json").exists() and epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        cross_validate(config, tmp_path / "resumed", folds=2, callbacks=[stop_in_fold_two])
    state = json.loads((tmp_path / "resumed" / "fold2" / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 2
    other = tiny_config(tiny_encoder_dir, pair_corpus, "train.epochs=3", "data.dev=''", "train.lr=1e-3")
    with pytest.raises(ConfigError, match="another configuration"):
        cross_validate(other, tmp_path / "resumed", folds=2)  # never mixes two configurations' epochs
    trained: list[int] = []
    resumed = cross_validate(
        config, tmp_path / "resumed", folds=2, callbacks=[lambda e, _: trained.append(e)]
    )
    assert trained == [3]  # fold 1 was done; fold 2 continued from its epoch-2 checkpoint
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "resumed" / "fold2" / "metrics.jsonl").open()]
    assert epochs == [1, 2, 3]
    for fold_straight, fold_resumed in zip(straight["per_fold"], resumed["per_fold"], strict=True):
        assert fold_resumed["micro_f1"] == pytest.approx(fold_straight["micro_f1"], abs=1e-9)
        assert fold_resumed["auc_macro"] == pytest.approx(fold_straight["auc_macro"], abs=1e-6)


def test_missing_training_split_is_a_clear_error(tmp_path) -> None:
    config = load_config(None, ["data.corpus=''", "data.train=''"])
    with pytest.raises(ConfigError, match="data.train"):
        train(config, tmp_path / "run")


def test_cross_validation_holds_out_a_dev_set_from_each_training_fold(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    from biorelex.data.formats import jsonl

    config = tiny_config(tiny_encoder_dir, pair_corpus, "model.head='svm'", "data.cv_dev_fraction=0.25")
    summary = cross_validate(config, tmp_path / "cv", folds=3)
    assert "best dev epoch" in summary["setting"]["dev"]
    splits = tmp_path / "cv" / "splits"
    for k in (1, 2, 3):
        fold = [d.id for d in jsonl.read(splits / f"fold{k}.train.jsonl")]
        fit = [d.id for d in jsonl.read(splits / f"fold{k}.fit.jsonl")]
        dev = [d.id for d in jsonl.read(splits / f"fold{k}.dev.jsonl")]
        test = {d.id for d in jsonl.read(splits / f"fold{k}.test.jsonl")}
        assert sorted(fit + dev) == sorted(fold)  # nothing dropped, nothing twice
        assert len(dev) == round(0.25 * len(fold))
        assert not test & set(dev)
    fold_results = json.loads((tmp_path / "cv" / "fold1" / "results.json").read_text())
    assert "dev" in fold_results["scores"]


def test_cross_validation_reports_each_folds_best_dev_epoch_and_f1(
    tiny_encoder_dir, pair_corpus, tmp_path
) -> None:
    config = tiny_config(
        tiny_encoder_dir, pair_corpus, "data.cv_dev_fraction=0.25", "train.epochs=2", "data.dev=''"
    )
    summary = cross_validate(config, tmp_path / "cv", folds=3)
    folds = [json.loads((tmp_path / "cv" / f"fold{k}" / "results.json").read_text()) for k in (1, 2, 3)]
    assert summary["dev"]["micro_f1_per_fold"] == [f["best_dev_micro_f1"] for f in folds]
    assert summary["dev"]["best_epoch_per_fold"] == [f["best_epoch"] for f in folds]
    assert set(summary["dev"]["best_epoch_per_fold"]) <= {1, 2}
    values = summary["dev"]["micro_f1_per_fold"]
    assert summary["dev"]["micro_f1"]["mean"] == pytest.approx(sum(values) / 3)


def test_cv_dev_fraction_must_leave_training_documents() -> None:
    with pytest.raises(ConfigError, match="cv_dev_fraction"):
        load_config(None, ["data.cv_dev_fraction=1.0"])


def test_resume_check_counts_a_per_type_members_checkpoint(tiny_encoder_dir, pair_corpus, tmp_path) -> None:
    from biorelex.training.trainer import check_resume

    config = tiny_config(tiny_encoder_dir, pair_corpus, "model.per_type_binary=true")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(config.model_dump()), encoding="utf-8")
    other = tiny_config(tiny_encoder_dir, pair_corpus, "model.per_type_binary=true", "model.dropout=0.3")
    check_resume(run, other)  # no checkpoint yet: nothing to mix
    (run / "binary" / "CPR_3" / "checkpoint").mkdir(parents=True)
    (run / "binary" / "CPR_3" / "checkpoint" / "state.json").write_text("{}", encoding="utf-8")
    check_resume(run, config)
    with pytest.raises(ConfigError, match=r"model\.dropout: 0\.1 -> 0\.3"):
        check_resume(run, other)
    (run / "config.json").unlink()
    with pytest.raises(ConfigError, match="config.json is missing"):
        check_resume(run, config)
