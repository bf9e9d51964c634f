"""k-fold cross-validation: the corpus's own folds (GAD, EU-ADR) or a split by document.

Each fold trains a fresh model on its train part for the configured epochs and is scored on its
test part. By default there is no dev set, so no early stopping: the last epoch's model is scored,
as BioBERT's fold scripts do. ``data.cv_dev_fraction`` holds out part of each training fold as its
dev set instead, so the epoch is chosen (and early stopping works) without looking at the test
fold. Finished folds are kept on disk, so an interrupted run resumes at the next fold, and a fold
stopped mid-training resumes from its last epoch checkpoint (same configuration only).
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biorelex.config import DataConfig, RunConfig
from biorelex.data.corpora import get_corpus
from biorelex.errors import ConfigError
from biorelex.models.serialization import read_json, write_json
from biorelex.training.data import document_folds, labeled_fraction, load_documents

if TYPE_CHECKING:
    from biorelex.training.trainer import EpochCallback

logger = logging.getLogger(__name__)


def given_folds(corpus: str | None) -> list[str]:
    """Fold names of a corpus that ships its folds (``fold1`` ... ``fold10``), else empty."""
    if corpus is None:
        return []
    names = [s.name.split("/")[0] for s in get_corpus(corpus).splits if s.name.endswith("/train")]
    return names


def cross_validate(
    config: RunConfig,
    output_dir: str | Path,
    folds: int = 10,
    keep_models: bool = False,
    on_fold: Callable[[str, dict[str, Any]], None] | None = None,
    callbacks: Sequence[EpochCallback] = (),
) -> dict[str, Any]:
    """Train and score every fold; returns (and writes ``cv.json``) per-fold and mean/std scores.

    ``on_fold(name, summary)`` is called as each fold finishes training (not for folds found done
    on disk), for instance to keep the fold's summary somewhere that outlives ``output_dir``.
    ``callbacks`` are passed to each fold's :func:`~biorelex.training.trainer.train`.
    """
    import shutil

    from biorelex.data.formats import jsonl
    from biorelex.training.trainer import train

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    names = given_folds(config.data.corpus)
    if names:
        plans = [(name, f"{name}/train", f"{name}/test") for name in names[:folds]]
        source = f"the {len(names)} folds shipped with {config.data.corpus}"
    else:
        documents = load_documents(config.data, config.data.train)
        if not documents:
            raise ConfigError("cv needs data.train (the documents to split into folds)")
        split_dir = output_dir / "splits"
        split_dir.mkdir(exist_ok=True)
        plans = []
        for k, (train_part, test_part) in enumerate(document_folds(documents, folds, config.train.seed), 1):
            train_path, test_path = split_dir / f"fold{k}.train.jsonl", split_dir / f"fold{k}.test.jsonl"
            if not test_path.exists():
                jsonl.write(train_part, train_path)
                jsonl.write(test_part, test_path)
            plans.append((f"fold{k}", str(train_path), str(test_path)))
        source = f"{folds} folds of {config.data.train} split by document (seed {config.train.seed})"
    results = []
    for name, train_split, test_split in plans:
        fold_dir = output_dir / name
        done = fold_dir / "results.json"
        if done.exists():
            logger.info("%s already done; skipping", name)
            results.append(json.loads(done.read_text(encoding="utf-8")))
            continue
        data = config.data.model_copy(
            update={
                "train": train_split,
                "dev": None,
                "test": test_split,
                "corpus": config.data.corpus if names else None,
                "format": None if names else "jsonl",
            }
        )
        if config.data.cv_dev_fraction:
            data = _hold_out_dev(data, name, output_dir / "splits", config.train.seed)
        fold_config = config.model_copy(update={"data": data})
        logger.info("cross-validation %s", name)
        result = train(fold_config, fold_dir, resume=_resumable(fold_dir), callbacks=callbacks)
        if not keep_models:
            shutil.rmtree(fold_dir / "checkpoint", ignore_errors=True)
        results.append(result.summary)
        if on_fold is not None:
            on_fold(name, result.summary)
    summary = summarise_folds(results)
    summary["setting"] = {"entities": "gold", "folds": source, **results[0]["setting"]}
    summary["setting"]["dev"] = (
        f"{config.data.cv_dev_fraction:g} of each training fold's documents (seed {config.train.seed}); "
        "the best dev epoch is scored"
        if config.data.cv_dev_fraction
        else "none; the last epoch is scored"
    )
    write_json(output_dir / "cv.json", summary)
    return summary


def _resumable(fold_dir: Path) -> bool:
    """Whether an interrupted fold left an epoch checkpoint to continue from (``train`` refuses one
    made with another configuration, so a fold's epochs never mix two configurations)."""
    state = fold_dir / "checkpoint" / "state.json"
    if not state.exists():
        return False
    logger.info("%s: resuming from its epoch-%d checkpoint", fold_dir.name, read_json(state)["epoch"])
    return True


def _hold_out_dev(data: DataConfig, fold: str, split_dir: Path, seed: int) -> DataConfig:
    """``data`` with ``cv_dev_fraction`` of the fold's training documents moved to a dev file."""
    from biorelex.data.formats import jsonl

    split_dir.mkdir(parents=True, exist_ok=True)
    train_path, dev_path = split_dir / f"{fold}.fit.jsonl", split_dir / f"{fold}.dev.jsonl"
    if not (train_path.exists() and dev_path.exists()):
        # as read (before any concept projection, which training applies to these files itself)
        documents = load_documents(data.model_copy(update={"concept_relations": "keep"}), data.train) or []
        dev, fit = labeled_fraction(documents, data.cv_dev_fraction, seed)
        if not fit:
            raise ConfigError(
                f"{fold}: cv_dev_fraction {data.cv_dev_fraction} leaves no training documents "
                f"({len(documents)} in the fold); lower data.cv_dev_fraction"
            )
        jsonl.write(fit, train_path)
        jsonl.write(dev, dev_path)
    return data.model_copy(update={"train": str(train_path), "dev": str(dev_path), "format": "jsonl"})


def summarise_folds(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation of each test score over folds, and of the best dev micro-F1
    when every fold chose its epoch on a dev set (``dev``)."""
    keys = ("micro_precision", "micro_recall", "micro_f1", "macro_f1", "accuracy", "auc_macro")
    per_fold = [r["scores"]["test"] for r in results]
    summary: dict[str, Any] = {"folds": len(per_fold), "per_fold": per_fold}
    for key in keys:
        values = [fold[key] for fold in per_fold if fold.get(key) is not None]
        if values:
            summary[key] = _mean_std(values)
    dev: list[float] = [r["best_dev_micro_f1"] for r in results if r.get("best_dev_micro_f1") is not None]
    if dev and len(dev) == len(results):  # each fold chose its epoch on a dev set
        summary["dev"] = {
            "best_epoch_per_fold": [r.get("best_epoch") for r in results],
            "micro_f1_per_fold": dev,
            "micro_f1": _mean_std(dev),
        }
    summary["train_examples_per_s"] = statistics.fmean(
        r["train_examples_per_s"] for r in results if r.get("train_examples_per_s")
    )
    return summary


def _mean_std(values: list[float]) -> dict[str, float]:
    """``{"mean", "std"}`` of per-fold values (sample std; 0 for a single fold)."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}
