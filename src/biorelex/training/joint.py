"""Training the joint NER+RE model: the shared loop of :mod:`biorelex.training.trainer` with the
joint loss ``L_NER + lambda * L_RE`` and lambda ramped 0 -> 1 ("entity pre-training").

Sentences are batched by length like relation pairs; checkpoints, resume, early stopping on the dev
RE strict micro-F1 (NER F1 while lambda is still ramping), the metrics log and learning curve are
those of the relation trainer. Dev and test are scored end to end (predicted entities).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from biorelex.config import DataConfig, RunConfig
from biorelex.data.examples import steps_per_epoch
from biorelex.data.tagging import TaggedSentence, TaggingReport, relation_labels, tag_documents, tag_labels
from biorelex.document import Document
from biorelex.errors import ConfigError
from biorelex.evaluation.joint import joint_scores
from biorelex.inference.extractor import Extractor
from biorelex.inference.predictor import default_device
from biorelex.models.joint.model import JointExample, JointModel
from biorelex.models.serialization import write_json
from biorelex.training.data import load_documents
from biorelex.training.trainer import (
    EpochCallback,
    TrainResult,
    check_resume,
    fit,
    peak_rss_mb,
    start_run,
)

logger = logging.getLogger(__name__)


def re_weight(step: int, ramp_steps: int) -> float:
    """lambda at optimizer ``step``: linear 0 -> 1 over ``ramp_steps`` (1 from the start when 0)."""
    if ramp_steps <= 0:
        return 1.0
    return min(1.0, step / ramp_steps)


def _encode(
    model: JointModel, documents: Sequence[Document], sentences: Sequence[TaggedSentence]
) -> list[JointExample]:
    texts = {d.id: d.text for d in documents}
    return [model.encode(s, texts[s.document_id]) for s in sentences if s.words]


def train_joint_model(
    config: RunConfig,
    train_documents: Sequence[Document],
    dev_documents: Sequence[Document] | None,
    output_dir: Path,
    resume: bool = False,
    callbacks: Sequence[EpochCallback] = (),
) -> tuple[JointModel, list[dict[str, Any]], dict[str, Any]]:
    """Fine-tune a :class:`JointModel`; returns the best model, the history and the run's facts."""
    train_config, joint = config.train, config.joint
    device = torch.device(default_device())
    report = TaggingReport()
    tagged = tag_documents(train_documents, report, joint.splitter)

    def create() -> JointModel:
        tags = tag_labels(e.type for s in tagged for e in s.entities)
        relations = relation_labels(r.type for s in tagged for r in s.relations)
        symmetric = {r.type for d in train_documents for r in d.relations if r.symmetric}
        return JointModel.create(config.model, joint, tags, relations, sorted(symmetric))

    model, state = start_run(output_dir, resume, train_config.seed, JointModel.load, create)
    model.to(device)
    train_examples = _encode(model, train_documents, tagged)
    if not train_examples:
        raise ConfigError("the training documents hold no sentences with words")
    truncated = sum(1 for e in train_examples if e.truncated_words)
    if truncated:
        logger.warning(
            "%d training sentences exceed model.max_length=%d sub-words", truncated, config.model.max_length
        )
    logger.info("tagging: %s", report.to_dict())
    per_epoch = steps_per_epoch(len(train_examples), train_config.batch_size, train_config.grad_accumulation)
    ramp_steps = round(joint.ramp_epochs * per_epoch)

    def batch_loss(indices: list[int], step: int) -> torch.Tensor:
        examples = [train_examples[i] for i in indices]
        batch = {k: v.to(device) for k, v in model.collate(examples).items()}
        weight = re_weight(step, ramp_steps)
        source = joint.re_entities
        if source == "gold_during_ramp":
            source = "gold" if weight < 1.0 else "predicted"
        output = model(batch, examples, weight, source)
        assert output.loss is not None
        return output.loss

    def evaluate_dev() -> tuple[dict[str, Any], float | None]:
        if not dev_documents:
            return {}, None
        predicted = Extractor(model, train_config.eval_batch_size, False).predict(dev_documents)
        dev = joint_scores(dev_documents, predicted)
        items = {"dev_ner_f1": dev["ner"]["micro_f1"], "dev_micro_f1": dev["re_strict"]["micro_f1"]}
        # while lambda ramps, RE is not trained yet: select on NER + RE so the ramp epochs compete fairly
        return items, dev["re_strict"]["micro_f1"] + 1e-3 * dev["ner"]["micro_f1"]

    fit(
        model,
        config,
        output_dir,
        state,
        [len(e) for e in train_examples],
        batch_loss,
        evaluate_dev,
        {"run": config.model_dump(), "tagging": report.to_dict()},
        callbacks,
        epoch_facts=lambda step: {"re_weight": re_weight(step, ramp_steps)},
    )
    best = JointModel.load(output_dir / "model", device)
    facts = {
        "train_sentences": len(train_examples),
        "tagging": report.to_dict(),
        "truncated_sentences": truncated,
        "best_epoch": state["best_epoch"],
        "steps": state["step"],
        "seconds_training": round(state["seconds_training"], 2),
        "train_sentences_per_s": (
            round(state["examples_seen"] / state["seconds_training"], 2)
            if state["seconds_training"]
            else None
        ),
    }
    return best, state["history"], facts


def evaluate_joint(
    extractor: Extractor, documents: Sequence[Document]
) -> tuple[dict[str, Any], list[Document]]:
    """End-to-end scores and predictions on gold ``documents``, with the extraction speed."""
    started = time.perf_counter()
    predicted = extractor.predict(documents)
    seconds = time.perf_counter() - started
    scores = joint_scores(documents, predicted, extractor.setting)
    sentences = sum(len(d.sentences) for d in predicted)
    tagging = TaggingReport()
    tag_documents(documents, tagging, extractor.model.joint.splitter)
    scores.update(
        sentences=sentences,
        extract_seconds=round(seconds, 2),
        sentences_per_s=round(sentences / seconds, 2) if seconds else None,
        gold_tagging=tagging.to_dict(),
    )
    return scores, predicted


def write_joint_report(scores: dict[str, Any], predicted: Sequence[Document], directory: Path) -> None:
    """``scores.json`` and ``predictions.jsonl`` (Documents with predicted entities and relations)."""
    from biorelex.data.formats import jsonl

    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "scores.json", scores)
    jsonl.write(predicted, directory / "predictions.jsonl")


def joint_headline(scores: dict[str, Any]) -> dict[str, Any]:
    """The figures of a :func:`evaluate_joint` report that ``results.json`` and the CLI show."""
    return {
        "setting": scores["setting"],
        "ner_f1": scores["ner"]["micro_f1"],
        "ner_macro_f1": scores["ner"]["macro_f1"],
        "re_f1_strict": scores["re_strict"]["micro_f1"],
        "re_macro_f1_strict": scores["re_strict"]["macro_f1"],
        "re_f1_boundaries": scores["re_boundaries"]["micro_f1"],
        "re_precision_strict": scores["re_strict"]["micro_precision"],
        "re_recall_strict": scores["re_strict"]["micro_recall"],
        "sentences_per_s": scores["sentences_per_s"],
    }


def _limit_documents(
    splits: dict[str, Sequence[Document] | None], data: DataConfig
) -> dict[str, Sequence[Document] | None]:
    """Apply ``data.max_train_examples`` / ``max_eval_examples`` / ``max_dev_examples``: the joint
    model reads whole documents, so for it they count the first N documents of each split."""
    limits = {
        "train": data.max_train_examples,
        "dev": data.eval_limit("dev"),
        "test": data.eval_limit("test"),
    }
    limited = dict(splits)
    for split, limit in limits.items():
        documents = splits.get(split)
        if limit and documents and len(documents) > limit:
            logger.info(
                "%s: the first %d of %d documents (data.max_*_examples)", split, limit, len(documents)
            )
            limited[split] = list(documents)[:limit]
    return limited


def train_joint(
    config: RunConfig,
    output_dir: str | Path,
    resume: bool = False,
    callbacks: Sequence[EpochCallback] = (),
    documents: dict[str, Sequence[Document] | None] | None = None,
) -> TrainResult:
    """Train the joint model on the configured splits (or the ``documents`` given per split),
    score it end to end on dev and test, and write every report and ``results.json``."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if config.train.num_threads:
        torch.set_num_threads(config.train.num_threads)
    data = config.data
    splits = documents or {
        name: load_documents(data, getattr(data, name)) for name in ("train", "dev", "test")
    }
    splits = _limit_documents(splits, data)
    train_documents = splits.get("train")
    if not train_documents:
        raise ConfigError("data.train is empty or not set: a training split is needed")
    if resume:
        check_resume(output_dir, config)
    write_json(output_dir / "config.json", config.model_dump())
    model, history, facts = train_joint_model(
        config, train_documents, splits.get("dev"), output_dir, resume, callbacks
    )
    extractor = Extractor(model, config.train.eval_batch_size)
    # the same model's RE over the gold mentions: how much of the end-to-end RE error is NER's
    with_gold = Extractor(model, config.train.eval_batch_size, entities="given")
    reports: dict[str, Any] = {}
    for split in ("dev", "test"):
        split_documents = splits.get(split)
        if not split_documents:
            continue
        scores, predicted = evaluate_joint(extractor, split_documents)
        write_joint_report(scores, predicted, output_dir / split)
        reports[split] = joint_headline(scores)
        scores, predicted = evaluate_joint(with_gold, split_documents)
        write_joint_report(scores, predicted, output_dir / f"{split}_gold_entities")
        reports[f"{split}_gold_entities"] = joint_headline(scores)
    summary = {
        "setting": {
            "task": "joint NER+RE",
            "entities": "predicted",
            "corpus": data.corpus,
            "encoder": config.model.encoder,
            "joint": config.joint.model_dump(),
            "device": default_device(),
            "threads": torch.get_num_threads(),
        },
        "tags": model.tags,
        "relations": model.relations,
        **facts,
        "scores": reports,
        "wall_seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    write_json(output_dir / "results.json", summary)
    return TrainResult(output_dir, extractor, history, summary)  # type: ignore[arg-type]
