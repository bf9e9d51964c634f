"""Teacher-student self-training for relation classification (scarce labels + unlabeled pairs).

Round 0 trains a supervised teacher on the labelled pairs (``data.train_fraction`` of the training
split, or all of it). Each following round lets the current model label an unlabeled pool —
candidate pairs of ``self_train.unlabeled`` files and, with ``data.train_fraction < 1``, the
training documents left out (their labels hidden) — keeps the confident pseudo-labels
(``self_train.threshold``, class balance ``self_train.balance``, cap ``self_train.max_pseudo``)
and trains a student on labelled + pseudo-labelled pairs, which becomes the next round's teacher.

Every round is a normal run directory (``round0``, ``round1``... with ``model/``, dev and test
reports) and the whole run is resumable: finished rounds are skipped, an interrupted round resumes
from its checkpoint, and a round's pseudo-labels are cached in ``pseudo_labels.json``.
``selftrain.json`` lists per round the pseudo-label counts (and their accuracy when the pool's
hidden gold labels are known), dev and test micro-F1; the final model is the round with the best
dev micro-F1 (test never chooses), and ``selftrain_rounds.png`` plots the rounds.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biorelex.config import RunConfig
from biorelex.data.candidates import Candidate
from biorelex.data.examples import LabelSet, candidate_config, iter_candidates
from biorelex.errors import ConfigError
from biorelex.models.relation_model import RelationModel, RelationOutput
from biorelex.models.serialization import load_metadata, read_json, write_json
from biorelex.training.data import training_documents, unlabeled_pairs
from biorelex.training.trainer import train

logger = logging.getLogger(__name__)

PSEUDO_FILE = "pseudo_labels.json"


def select_pseudo_labels(
    probabilities: np.ndarray,
    labeled_counts: Sequence[int],
    threshold: float,
    balance: str = "labeled",
    max_pseudo: int = 0,
) -> list[tuple[int, int, float]]:
    """``(row, class, confidence)`` of the pairs to pseudo-label, most confident first.

    ``probabilities``: ``(pairs, classes)``; ``labeled_counts``: labelled pairs per class. A row is
    eligible when its top probability reaches ``threshold``. With ``balance = "labeled"`` class ``c``
    keeps at most ``ceil(share_c * K)`` rows, ``share_c`` its share of the labelled pairs and ``K``
    the eligible rows (capped at ``max_pseudo``). With ``"uniform"`` the ``K`` rows are shared
    equally among the classes with labelled pairs, and a class with fewer eligible rows than its
    share passes the rest on to the others (class-balanced self-training). With ``"none"``: the
    ``K`` most confident rows.
    """
    return _select(probabilities, labeled_counts, threshold, balance, max_pseudo)[0]


def selection_limits(
    probabilities: np.ndarray,
    labeled_counts: Sequence[int],
    threshold: float,
    balance: str = "labeled",
    max_pseudo: int = 0,
) -> tuple[list[int], list[int] | None]:
    """Per class: pool pairs reaching ``threshold`` and, unless ``balance = "none"``, the cap.

    A class whose eligible pairs exceed its cap is limited by the cap, not the threshold: lowering
    ``threshold`` cannot add pseudo-labels of that class (see :func:`select_pseudo_labels`).
    """
    _, eligible, caps = _select(probabilities, labeled_counts, threshold, balance, max_pseudo)
    return eligible, caps


def _select(
    probabilities: np.ndarray,
    labeled_counts: Sequence[int],
    threshold: float,
    balance: str,
    max_pseudo: int,
) -> tuple[list[tuple[int, int, float]], list[int], list[int] | None]:
    """The chosen ``(row, class, confidence)`` (:func:`select_pseudo_labels`), the rows reaching
    ``threshold`` per class and, unless ``balance = "none"``, each class's cap
    (:func:`selection_limits`), from one pass over ``probabilities``."""
    if probabilities.ndim != 2 or probabilities.shape[1] != len(labeled_counts):
        raise ConfigError(
            f"teacher probabilities of shape {probabilities.shape} do not match {len(labeled_counts)} classes"
        )
    if balance not in ("labeled", "uniform", "none"):
        raise ConfigError(f"self_train.balance must be 'labeled', 'uniform' or 'none', got {balance!r}")
    classes = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    eligible = [int(i) for i in np.argsort(-confidence, kind="stable") if confidence[i] >= threshold]
    counted = Counter(int(classes[row]) for row in eligible)
    per_class = [counted.get(c, 0) for c in range(len(labeled_counts))]
    budget = min(len(eligible), max_pseudo) if max_pseudo else len(eligible)
    caps: list[int] | None
    if balance == "none":
        caps = None
        rows = eligible[:budget]
    else:
        if balance == "uniform":
            available = [n if count else 0 for n, count in zip(per_class, labeled_counts, strict=True)]
            caps = _equal_shares(available, budget)
        else:
            total = sum(labeled_counts)
            caps = [math.ceil(count / total * budget) if total else 0 for count in labeled_counts]
        taken = [0] * len(labeled_counts)
        rows = []
        for row in eligible:
            label = int(classes[row])
            if taken[label] < caps[label]:
                taken[label] += 1
                rows.append(row)
        rows = rows[:budget]
    chosen = [(row, int(classes[row]), float(confidence[row])) for row in rows]
    return chosen, per_class, caps


def _equal_shares(available: Sequence[int], budget: int) -> list[int]:
    """Caps summing to at most ``budget``, as equal as ``available`` (rows per class) allows.

    Classes are filled from the scarcest: each takes ``min(available, ceil(left / classes left))``,
    so what a scarce class cannot use goes to the others. A class with nothing available gets 0.
    """
    caps = [0] * len(available)
    wanting = sorted((c for c, n in enumerate(available) if n > 0), key=lambda c: available[c])
    left = budget
    for position, c in enumerate(wanting):
        caps[c] = min(available[c], math.ceil(left / (len(wanting) - position)))
        left -= caps[c]
    return caps


class SelfTrainHooks:
    """:class:`~biorelex.training.trainer.TrainingHooks` adding pseudo-labelled pairs to a round."""

    def __init__(self, labels: LabelSet, pseudo: list[Candidate], teacher_dir: Path) -> None:
        self.labels = labels
        self.pseudo = pseudo
        self.teacher_dir = teacher_dir

    def prepare(self, candidates: list[Candidate]) -> list[Candidate]:
        return candidates + self.pseudo

    def create_model(self, config: RunConfig, labels: LabelSet, entity_types: set[str]) -> RelationModel:
        if config.self_train.student_init == "teacher":
            return RelationModel.load(self.teacher_dir, "cpu")
        return RelationModel.create(config.model, labels, entity_types)

    def loss(self, output: RelationOutput, batch: dict[str, Any], indices: list[int]) -> Any:
        assert output.loss is not None
        return output.loss


def _pool(config: RunConfig, rest: list[Any]) -> tuple[list[Candidate], list[str | None | bool]]:
    """The unlabeled candidate pairs (labels stripped) and their hidden gold labels (``False`` = unknown)."""
    pool: list[Candidate] = []
    hidden: list[str | None | bool] = []
    if config.self_train.unlabeled_rest and rest:
        for candidate in iter_candidates(rest, candidate_config(config.data.candidates, rest)):
            hidden.append(candidate.label)
            pool.append(dataclasses.replace(candidate, label=None))
    for path in config.self_train.unlabeled:
        pairs = unlabeled_pairs(path, config.data.candidates)
        pool += pairs
        hidden += [False] * len(pairs)
    return pool, hidden


def _pseudo_label(
    config: RunConfig,
    teacher_dir: Path,
    labels: LabelSet,
    pool: list[Candidate],
    hidden: list[str | None | bool],
    labeled_counts: list[int],
    round_dir: Path,
    resume: bool,
) -> tuple[list[Candidate], dict[str, Any]]:
    """Label ``pool`` with the teacher, keep the confident pairs; cached in ``round_dir``."""
    from biorelex.inference.predictor import TorchClassifier, default_device, torch_predict_proba

    settings = config.self_train
    cache = round_dir / PSEUDO_FILE
    cached = read_json(cache) if resume and cache.exists() else None
    same_teacher = cached is not None and Path(cached.get("teacher", "")).resolve() == teacher_dir.resolve()
    stored: dict[str, Any]
    if cached is not None and cached.get("pool") == len(pool) and same_teacher:
        logger.info("pseudo-labels reloaded from %s", cache)
        stored = cached
        chosen = [(int(r), labels.labels.index(lab), float(p)) for r, lab, p in stored["chosen"]]
    else:
        logger.info("teacher %s labels %d unlabeled pairs", teacher_dir, len(pool))
        teacher = RelationModel.load(teacher_dir / "model", default_device())
        examples = TorchClassifier(teacher).encode(pool)
        probabilities = torch_predict_proba(teacher, examples, config.train.eval_batch_size)
        chosen, eligible, caps = _select(
            probabilities, labeled_counts, settings.threshold, settings.balance, settings.max_pseudo
        )
        stored = {
            "teacher": str(teacher_dir.resolve()),
            "pool": len(pool),
            "eligible_per_class": dict(zip(labels.labels, eligible, strict=True)),
            "cap_per_class": None if caps is None else dict(zip(labels.labels, caps, strict=True)),
            "chosen": [[row, labels.labels[c], round(p, 6)] for row, c, p in chosen],
        }
        write_json(cache, stored)
    pseudo = [
        dataclasses.replace(pool[row], label=None if c == 0 else labels.labels[c]) for row, c, _ in chosen
    ]
    counts = Counter(labels.labels[c] for _, c, _ in chosen)
    known = [(labels.labels[c], hidden[row]) for row, c, _ in chosen if hidden[row] is not False]
    facts: dict[str, Any] = {
        "pool": len(pool),
        "pseudo_labels": len(pseudo),
        "pseudo_per_class": {name: counts.get(name, 0) for name in labels.labels},
    }
    if "eligible_per_class" in stored:  # caches written before these facts lack them
        facts["eligible_per_class"] = stored["eligible_per_class"]
        caps_of = stored["cap_per_class"]
        if caps_of is not None:
            facts["cap_per_class"] = caps_of
            capped = [name for name in labels.labels if stored["eligible_per_class"][name] > caps_of[name]]
            facts["capped_classes"] = capped
            if capped:
                logger.info(
                    "pseudo-labels of %s are limited by the class cap (self_train.balance = %r"
                    " and max_pseudo), not by the threshold %.2f",
                    ", ".join(capped),
                    settings.balance,
                    settings.threshold,
                )
    if known:
        facts["pseudo_accuracy"], facts["pseudo_accuracy_per_class"] = _pseudo_accuracy(known, labels.labels)
    return pseudo, facts


def _pseudo_accuracy(
    known: list[tuple[str, str | None | bool]], names: Sequence[str]
) -> tuple[float, dict[str, float]]:
    """Of the pseudo-labels whose hidden gold label is known (``None`` = the negative ``names[0]``),
    the share that is right: overall and per predicted class."""
    right: Counter[str] = Counter()
    given: Counter[str] = Counter()
    for predicted, gold in known:
        given[predicted] += 1
        right[predicted] += (gold or names[0]) == predicted
    per_class = {name: round(right[name] / given[name], 4) for name in names if given[name]}
    return round(sum(right.values()) / len(known), 4), per_class


def run_facts(result_summary: dict[str, Any]) -> dict[str, Any]:
    """Training pairs, dev and test micro-F1 and seconds of a run's ``results.json`` summary."""
    scores = result_summary.get("scores", {})
    return {
        "train_pairs": result_summary.get("train_pairs"),
        "dev_micro_f1": scores.get("dev", {}).get("micro_f1"),
        "test_micro_f1": scores.get("test", {}).get("micro_f1"),
        "seconds": result_summary.get("wall_seconds"),
    }


def self_train(
    config: RunConfig,
    output_dir: str | Path,
    teacher: str | Path | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Round 0 (``teacher`` or a supervised run) then ``self_train.rounds`` student rounds.

    Returns (and writes to ``selftrain.json``) the per-round facts and the dev-selected round.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.model.head == "svm" or config.model.per_type_binary:
        raise ConfigError("self-training needs a single neural classifier (not svm or per_type_binary)")
    started = time.perf_counter()
    labeled, rest = training_documents(config.data)
    labeled_candidates = list(iter_candidates(labeled, candidate_config(config.data.candidates, labeled)))
    pool, hidden = _pool(config, rest)
    if not pool:
        raise ConfigError(
            "self-training has no unlabeled pairs: set self_train.unlabeled to files with entities, "
            "or data.train_fraction < 1 with self_train.unlabeled_rest = true"
        )
    logger.info("self-training: %d labelled pairs, %d unlabeled pairs", len(labeled_candidates), len(pool))
    rounds: list[dict[str, Any]] = []
    if teacher is not None:
        teacher_dir = Path(teacher)
        if not (teacher_dir / "model").is_dir():
            raise ConfigError(f"teacher {teacher_dir} is not a run directory with a model/ folder")
        summary = read_json(teacher_dir / "results.json") if (teacher_dir / "results.json").exists() else {}
    else:
        teacher_dir = output_dir / "round0"
        summary = finished_run(teacher_dir) if resume else None
        if summary is None:
            logger.info("round 0: supervised teacher")
            summary = train(config, teacher_dir, resume=resume).summary
    rounds.append({"round": 0, "model": str(teacher_dir), "pseudo_labels": 0, **run_facts(summary)})
    labels = LabelSet.from_dict(load_metadata(teacher_dir / "model")["labels"])
    counts = Counter(c.label or labels.labels[0] for c in labeled_candidates)
    labeled_counts = [counts.get(name, 0) for name in labels.labels]
    for number in range(1, config.self_train.rounds + 1):
        round_dir = output_dir / f"round{number}"
        round_dir.mkdir(parents=True, exist_ok=True)
        logger.info("round %d: pseudo-labels from %s", number, teacher_dir)
        pseudo, facts = _pseudo_label(
            config, teacher_dir, labels, pool, hidden, labeled_counts, round_dir, resume
        )
        summary = finished_run(round_dir) if resume else None
        if summary is None:
            hooks = SelfTrainHooks(labels, pseudo, teacher_dir / "model")
            summary = train(config, round_dir, resume=resume, hooks=hooks).summary
        rounds.append({"round": number, "model": str(round_dir), **facts, **run_facts(summary)})
        teacher_dir = round_dir
    report = _report(config, rounds, len(labeled_candidates), len(pool), time.perf_counter() - started)
    write_json(output_dir / "selftrain.json", report)
    _plot(rounds, output_dir / "selftrain_rounds.png")
    return report


def finished_run(run_dir: Path) -> dict[str, Any] | None:
    """The ``results.json`` summary of a finished run directory (one with its model), else None."""
    path = run_dir / "results.json"
    return read_json(path) if path.exists() and (run_dir / "model").is_dir() else None


def _report(
    config: RunConfig, rounds: list[dict[str, Any]], labeled: int, pool: int, seconds: float
) -> dict[str, Any]:
    scored = [r for r in rounds if r.get("dev_micro_f1") is not None]
    selected = max(scored, key=lambda r: r["dev_micro_f1"]) if scored else rounds[-1]
    supervised = rounds[0].get("test_micro_f1")
    chosen = selected.get("test_micro_f1")
    return {
        "setting": {
            "entities": "gold",
            "corpus": config.data.corpus,
            "encoder": config.model.encoder,
            "head": config.model.head,
            "representation": config.model.representation,
            "train_fraction": config.data.train_fraction,
            "train_fraction_seed": config.data.train_fraction_seed,
            "seed": config.train.seed,
            **config.self_train.model_dump(),
        },
        "labeled_pairs": labeled,
        "unlabeled_pairs": pool,
        "rounds": rounds,
        "selected_round": selected["round"],
        "selected_by": "dev micro-F1",
        "supervised_test_micro_f1": supervised,
        "selftrain_test_micro_f1": chosen,
        "gain": round(chosen - supervised, 4) if chosen is not None and supervised is not None else None,
        "wall_seconds": round(seconds, 1),
    }


def _plot(rounds: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from biorelex.evaluation.metrics import save_figure

    figure, axis = plt.subplots(figsize=(5, 3.5))
    for key, name in (("dev_micro_f1", "dev"), ("test_micro_f1", "test")):
        points = [(r["round"], r[key]) for r in rounds if r.get(key) is not None]
        if points:
            axis.plot(*zip(*points, strict=True), marker="o", label=f"{name} micro-F1")
    axis.set_xlabel("self-training round (0 = supervised teacher)")
    axis.set_ylabel("micro-F1")
    axis.legend()
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)
