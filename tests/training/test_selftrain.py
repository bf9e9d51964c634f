"""Self-training: pseudo-label selection by hand, the labelled fraction, and two rounds end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.config import load_config
from biorelex.errors import ConfigError
from biorelex.training.data import labeled_fraction
from biorelex.training.selftrain import (
    PSEUDO_FILE,
    _pseudo_accuracy,
    select_pseudo_labels,
    selection_limits,
    self_train,
)
from tests.conftest import tiny_config, write_pair_corpus

PROBABILITIES = np.array(
    [
        [0.95, 0.05, 0.00],  # negative, confident
        [0.99, 0.01, 0.00],  # negative, most confident
        [0.97, 0.02, 0.01],  # negative
        [0.09, 0.91, 0.00],  # class 1, confident
        [0.40, 0.60, 0.00],  # class 1, below the threshold
        [0.05, 0.03, 0.92],  # class 2, confident
    ]
)


def test_threshold_alone_keeps_the_confident_rows_most_confident_first() -> None:
    chosen = select_pseudo_labels(PROBABILITIES, [2, 1, 1], threshold=0.9, balance="none")
    assert [row for row, _, _ in chosen] == [1, 2, 0, 5, 3]
    assert [label for _, label, _ in chosen] == [0, 0, 0, 2, 1]
    assert chosen[0][2] == pytest.approx(0.99)
    capped = select_pseudo_labels(PROBABILITIES, [2, 1, 1], threshold=0.9, balance="none", max_pseudo=2)
    assert [row for row, _, _ in capped] == [1, 2]


def test_labeled_balance_caps_each_class_at_its_labelled_share() -> None:
    # labelled shares 50% / 25% / 25% of K = 5 eligible rows: caps ceil(2.5) = 3, ceil(1.25) = 2, 2
    chosen = select_pseudo_labels(PROBABILITIES, [2, 1, 1], threshold=0.9)
    assert sorted(row for row, _, _ in chosen) == [0, 1, 2, 3, 5]
    # a labelled set with 1 negative in 4: the negative class keeps ceil(0.25 * 5) = 2 of its 3 rows
    chosen = select_pseudo_labels(PROBABILITIES, [1, 2, 1], threshold=0.9)
    assert [row for row, label, _ in chosen if label == 0] == [1, 2]
    assert {row for row, label, _ in chosen if label != 0} == {3, 5}
    # a class never labelled gets no pseudo-labels
    chosen = select_pseudo_labels(PROBABILITIES, [3, 1, 0], threshold=0.9)
    assert all(label != 2 for _, label, _ in chosen)
    with pytest.raises(ConfigError, match="do not match"):
        select_pseudo_labels(PROBABILITIES, [1, 1], threshold=0.9)


def test_uniform_balance_shares_the_budget_equally_and_passes_on_what_a_class_cannot_use() -> None:
    # budget 3 of 5 eligible rows (3 / 1 / 1 per class): equal caps 1 / 1 / 1, so both rare classes
    # get their confident row, where "labeled" (shares 2/1/1: caps 2/1/1) spends 2 on negatives
    chosen = select_pseudo_labels(PROBABILITIES, [2, 1, 1], threshold=0.9, balance="uniform", max_pseudo=3)
    assert [row for row, _, _ in chosen] == [1, 5, 3]
    labeled = select_pseudo_labels(PROBABILITIES, [2, 1, 1], threshold=0.9, max_pseudo=3)
    assert [row for row, _, _ in labeled] == [1, 2, 5]
    # budget 4 at 0.5 (eligible 3 / 2 / 1): class 2 can use 1 of its share, class 1 takes 2, negatives 1
    assert selection_limits(PROBABILITIES, [2, 1, 1], 0.5, balance="uniform", max_pseudo=4) == (
        [3, 2, 1],
        [1, 2, 1],
    )
    # no budget limit: every class keeps all its eligible rows; a class never labelled keeps none
    assert selection_limits(PROBABILITIES, [2, 1, 1], 0.9, balance="uniform")[1] == [3, 1, 1]
    chosen = select_pseudo_labels(PROBABILITIES, [3, 1, 0], threshold=0.9, balance="uniform")
    assert sorted(row for row, _, _ in chosen) == [0, 1, 2, 3]
    with pytest.raises(ConfigError, match="'uniform'"):
        select_pseudo_labels(PROBABILITIES, [2, 1, 1], threshold=0.9, balance="equal")


def test_selection_limits_say_whether_the_threshold_or_the_class_cap_binds() -> None:
    # at 0.9: 3 negative, 1 class-1 and 1 class-2 rows are eligible; shares 2/1/1 of 5 give caps 3/2/2
    assert selection_limits(PROBABILITIES, [2, 1, 1], threshold=0.9) == ([3, 1, 1], [3, 2, 2])
    # 1 negative in 4 labelled: the negative cap is 2 < its 3 eligible rows, so the cap binds there
    eligible, caps = selection_limits(PROBABILITIES, [1, 2, 1], threshold=0.9)
    assert caps is not None and eligible[0] > caps[0]
    assert (
        len([r for r, label, _ in select_pseudo_labels(PROBABILITIES, [1, 2, 1], 0.9) if label == 0])
        == caps[0]
    )
    # lowering the threshold adds the 0.60 row to class 1, but cannot add negatives past their cap
    eligible, caps = selection_limits(PROBABILITIES, [1, 2, 1], threshold=0.5)
    assert eligible == [3, 2, 1] and caps == [2, 3, 2]
    # max_pseudo shrinks every cap; without class balance there are no caps
    assert selection_limits(PROBABILITIES, [2, 1, 1], threshold=0.9, max_pseudo=2)[1] == [1, 1, 1]
    assert selection_limits(PROBABILITIES, [2, 1, 1], threshold=0.9, balance="none") == ([3, 1, 1], None)


def test_pseudo_label_accuracy_is_reported_per_predicted_class() -> None:
    # (predicted, hidden gold); a gold of None is the negative class
    known = [
        ("CPR:4", "CPR:4"),
        ("CPR:4", None),
        ("no_relation", None),
        ("no_relation", "CPR:3"),
        ("CPR:3", "CPR:3"),
    ]
    overall, per_class = _pseudo_accuracy(known, ["no_relation", "CPR:3", "CPR:4", "CPR:9"])
    assert overall == 0.6  # 3 of 5
    assert per_class == {"no_relation": 0.5, "CPR:3": 1.0, "CPR:4": 0.5}


def test_labeled_fraction_is_reproducible_and_partitions_the_documents() -> None:
    documents = list(range(40))
    kept, rest = labeled_fraction(documents, 0.25, seed=3)  # type: ignore[arg-type]
    assert len(kept) == 10 and sorted(kept + rest) == documents
    assert kept == sorted(kept)  # original order kept
    assert labeled_fraction(documents, 0.25, seed=3)[0] == kept  # type: ignore[arg-type]
    assert labeled_fraction(documents, 0.25, seed=4)[0] != kept  # type: ignore[arg-type]
    assert labeled_fraction(documents, 1.0) == (documents, [])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="train_fraction"):
        load_config(None, ["data.train_fraction=0"])


def test_self_training_runs_two_rounds_end_to_end(tiny_encoder_dir, tmp_path) -> None:
    corpus = write_pair_corpus(tmp_path / "corpus", {"train": 64, "dev": 16, "test": 24}, seed=5)
    extra = write_pair_corpus(tmp_path / "extra", {"pool": 16}, seed=9) / "pool.jsonl"
    config = tiny_config(
        tiny_encoder_dir,
        corpus,
        "train.epochs=30",
        "data.train_fraction=0.5",
        "self_train.rounds=2",
        "self_train.threshold=0.4",
        f"self_train.unlabeled=['{extra}']",
    )
    report = self_train(config, tmp_path / "st")
    rounds = report["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert report["labeled_pairs"] == 32 and report["unlabeled_pairs"] == 32 + 16
    assert rounds[0]["train_pairs"] == 32
    for entry in rounds[1:]:
        assert 0 < entry["pseudo_labels"] <= 48
        assert entry["train_pairs"] == 32 + entry["pseudo_labels"]
        assert sum(entry["pseudo_per_class"].values()) == entry["pseudo_labels"]
        assert 0.0 <= entry["pseudo_accuracy"] <= 1.0  # the 32 left-out pairs' hidden labels are known
        per_class = entry["pseudo_accuracy_per_class"]
        # the classes whose pseudo-labels include a left-out pair (the extra pool's labels are unknown)
        assert set(per_class) <= {name for name, count in entry["pseudo_per_class"].items() if count}
        assert all(0.0 <= share <= 1.0 for share in per_class.values())
        assert entry["dev_micro_f1"] is not None and entry["test_micro_f1"] is not None
        assert (tmp_path / "st" / f"round{entry['round']}" / "model").is_dir()
    best = max(rounds, key=lambda r: r["dev_micro_f1"])
    assert report["selected_round"] == best["round"]
    assert report["gain"] == pytest.approx(best["test_micro_f1"] - rounds[0]["test_micro_f1"], abs=1e-4)
    assert json.loads((tmp_path / "st" / "selftrain.json").read_text())["rounds"] == rounds
    assert (tmp_path / "st" / "selftrain_rounds.png").stat().st_size > 0
    cached = json.loads((tmp_path / "st" / "round1" / PSEUDO_FILE).read_text())
    assert len(cached["chosen"]) == rounds[1]["pseudo_labels"]
    for entry in rounds[1:]:  # which classes the cap limited, not the threshold
        assert set(entry["eligible_per_class"]) == set(entry["pseudo_per_class"])
        for name, taken in entry["pseudo_per_class"].items():
            assert taken <= min(entry["eligible_per_class"][name], entry["cap_per_class"][name])
            assert (name in entry["capped_classes"]) == (
                entry["eligible_per_class"][name] > entry["cap_per_class"][name]
            )
    # resuming a finished run trains nothing again and reports the same rounds
    again = self_train(config, tmp_path / "st", resume=True)
    assert again["rounds"] == rounds


def test_cli_self_train_from_a_given_teacher(trained_tiny_run, tiny_encoder_dir, tmp_path) -> None:
    corpus = trained_tiny_run / "corpus"
    done = CliRunner().invoke(
        app,
        [
            "self-train",
            "-o",
            str(tmp_path / "st"),
            "--teacher",
            str(trained_tiny_run / "run"),
            "--rounds",
            "1",
            "--threshold",
            "0.6",
            "--unlabeled",
            str(corpus / "dev.jsonl"),
            "--set",
            "model.head='entity_start'",
            "--set",
            "model.representation='markers'",
            "--set",
            f"model.encoder='{tiny_encoder_dir}'",
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
    assert "round 0 (supervised)" in done.output and "round 1, " in done.output
    assert "pseudo-labels" in done.output and "selected round" in done.output
    # without any unlabeled pairs there is nothing to self-train on: a clear error, no traceback
    done = CliRunner().invoke(
        app,
        [
            "self-train",
            "-o",
            str(tmp_path / "x"),
            "--set",
            "data.corpus=''",
            "--set",
            f"data.train='{corpus}/train.jsonl'",
        ],
    )
    assert done.exit_code != 0 and "no unlabeled pairs" in done.output


def test_an_interrupted_round_resumes_with_another_number_of_rounds(tiny_encoder_dir, tmp_path) -> None:
    from biorelex.training.trainer import check_resume

    corpus = write_pair_corpus(tmp_path / "corpus", {"train": 8, "dev": 4, "test": 4}, seed=5)
    config = tiny_config(tiny_encoder_dir, corpus, "self_train.rounds=2", "self_train.threshold=0.7")
    round_dir = tmp_path / "st" / "round2"  # stopped during its first epoch: a checkpoint, no model
    (round_dir / "checkpoint").mkdir(parents=True)
    (round_dir / "checkpoint" / "state.json").write_text("{}", encoding="utf-8")
    (round_dir / "config.json").write_text(json.dumps(config.model_dump()), encoding="utf-8")
    more = tiny_config(tiny_encoder_dir, corpus, "self_train.rounds=4", "self_train.threshold=0.7")
    check_resume(round_dir, more)  # how many rounds follow does not change what round 2 trains
    other = tiny_config(tiny_encoder_dir, corpus, "self_train.rounds=4", "self_train.threshold=0.9")
    with pytest.raises(ConfigError, match=r"self_train\.threshold: 0\.7 -> 0\.9"):
        check_resume(round_dir, other)
