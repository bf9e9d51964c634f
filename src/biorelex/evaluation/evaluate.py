"""Evaluate a pair classifier on gold-entity data and write the report a paper would quote.

A report directory holds ``scores.json`` (every score plus the *setting*: gold entities, scope,
split, candidate pairs, truncations), ``predictions.jsonl`` (one line per pair: keys, gold,
predicted, probabilities; what :func:`compare_runs` aligns), ``errors.tsv`` (misclassified pairs
with both labels and scores) and ``confusion.png``.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biorelex.data.examples import EncodingStats
from biorelex.data.formats._io import atomic_write
from biorelex.document import Document
from biorelex.errors import ConfigError
from biorelex.evaluation.metrics import classification_scores, paired_bootstrap, plot_confusion
from biorelex.inference.predictor import Prediction, Predictor

logger = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Scores of one classifier on one split, with the predictions behind them."""

    scores: dict[str, Any]
    prediction: Prediction
    setting: dict[str, Any] = field(default_factory=dict)


def evaluate(
    predictor: Predictor, documents: list[Document], setting: dict[str, Any] | None = None
) -> Evaluation:
    """Score ``predictor`` on the candidate pairs of ``documents`` (gold entities given)."""
    stats = EncodingStats()
    examples = predictor.examples(documents, stats)
    if not examples:
        raise ConfigError("no candidate pairs to evaluate (check data.candidates and the entity types)")
    prediction = predictor.predict_examples(examples)
    labels = predictor.labels
    gold = [e.label for e in examples]
    scores = classification_scores(
        gold, prediction.predicted.tolist(), labels.labels, labels.positive, prediction.probabilities
    )
    full_setting = {
        "entities": "gold",
        "documents": len(documents),
        "encoding": stats.to_dict(),
        **(setting or {}),
    }
    scores["setting"] = full_setting
    return Evaluation(scores, prediction, full_setting)


def write_report(evaluation: Evaluation, directory: str | Path, title: str = "") -> Path:
    """Write ``scores.json``, ``predictions.jsonl``, ``errors.tsv`` and ``confusion.png``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    scores = evaluation.scores
    labels = scores["labels"]
    with atomic_write(directory / "scores.json") as handle:
        json.dump(scores, handle, indent=2, sort_keys=True)
        handle.write("\n")
    prediction = evaluation.prediction
    with atomic_write(directory / "predictions.jsonl") as handle:
        for example, probabilities, predicted in zip(
            prediction.examples, prediction.probabilities, prediction.predicted, strict=True
        ):
            record = {
                "document": example.candidate.document.id,
                "head": example.candidate.head.id,
                "tail": example.candidate.tail.id,
                "gold": labels[example.label] if example.label >= 0 else None,
                "predicted": labels[int(predicted)],
                "probabilities": [round(float(p), 5) for p in probabilities],
            }
            handle.write(json.dumps(record) + "\n")
    with atomic_write(directory / "errors.tsv") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["document", "head", "tail", "gold", "predicted", "p_gold", "p_predicted", "text"])
        for example, probabilities, predicted in zip(
            prediction.examples, prediction.probabilities, prediction.predicted, strict=True
        ):
            if example.label < 0 or int(predicted) == example.label:
                continue
            writer.writerow(
                [
                    example.candidate.document.id,
                    example.candidate.head.id,
                    example.candidate.tail.id,
                    labels[example.label],
                    labels[int(predicted)],
                    f"{probabilities[example.label]:.4f}",
                    f"{probabilities[int(predicted)]:.4f}",
                    example.represented.text.replace("\t", " ").replace("\n", " "),
                ]
            )
    setting = evaluation.setting
    caption = title or f"{setting.get('split', '')} micro-F1 {100 * scores['micro_f1']:.2f}"
    plot_confusion(scores["confusion"], labels, directory / "confusion.png", caption)
    logger.info("evaluation report written to %s", directory)
    return directory


def _read_predictions(directory: Path) -> tuple[list[str], dict[tuple[str, str, str], tuple[str, str]]]:
    path = directory / "predictions.jsonl" if directory.is_dir() else directory
    if not path.exists():
        raise ConfigError(f"{directory}: no predictions.jsonl (run `biorelex evaluate ... -o DIR` first)")
    scores_path = path.parent / "scores.json"
    if not scores_path.exists():
        raise ConfigError(f"{path.parent}: no scores.json beside the predictions")
    positive = json.loads(scores_path.read_text(encoding="utf-8"))["positive"]
    rows: dict[tuple[str, str, str], tuple[str, str]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
                rows[(record["document"], record["head"], record["tail"])] = (
                    record["gold"],
                    record["predicted"],
                )
            except (json.JSONDecodeError, KeyError) as exc:
                raise ConfigError(f"{path}, line {number}: not a prediction record ({exc})") from None
    return positive, rows


def compare_runs(run_a: str | Path, run_b: str | Path, samples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Paired bootstrap of micro-F1(A) - micro-F1(B) over the pairs both runs predicted."""
    positive_a, rows_a = _read_predictions(Path(run_a))
    positive_b, rows_b = _read_predictions(Path(run_b))
    if sorted(positive_a) != sorted(positive_b):
        raise ConfigError(f"the runs score different positive classes: {positive_a} vs {positive_b}")
    keys = sorted(rows_a)
    if set(keys) != set(rows_b):
        raise ConfigError(
            f"the runs predicted different pairs ({len(rows_a)} vs {len(rows_b)}; "
            f"{len(set(rows_a) ^ set(rows_b))} differ): compare runs on the same split"
        )
    names = sorted({v for key in keys for v in (*rows_a[key], *rows_b[key]) if v is not None})
    index = {name: i for i, name in enumerate(names)}
    gold = np.array([index.get(rows_a[k][0], -1) if rows_a[k][0] else -1 for k in keys])
    mismatched = [k for k in keys if rows_a[k][0] != rows_b[k][0]]
    if mismatched:
        raise ConfigError(
            f"the runs disagree on the gold label of {len(mismatched)} pairs, e.g. {mismatched[0]}"
        )
    predicted_a = np.array([index[rows_a[k][1]] for k in keys])
    predicted_b = np.array([index[rows_b[k][1]] for k in keys])
    positive_index = [index[p] for p in positive_a if p in index]
    result = paired_bootstrap(gold, predicted_a, predicted_b, positive_index, samples, seed)
    result["pairs"] = len(keys)
    return result
