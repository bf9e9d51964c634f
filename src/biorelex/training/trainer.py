"""The training loop: one plain, readable function.

AdamW (no decay on biases and LayerNorm), linear warm-up then linear decay, gradient clipping and
accumulation, length-grouped shuffled batches with dynamic padding, optional class weights, mixed
precision on GPU, dev evaluation after every epoch with early stopping, a metrics log (JSONL, and
TensorBoard when asked) and a learning-curve PNG. After every epoch a checkpoint (weights,
optimizer, scheduler, RNG state, history) is written atomically; ``resume=True`` continues from it
and reaches the same weights as an uninterrupted run (on CPU).

Output directory::

    model/            the best model on dev (the last one without dev)
    checkpoint/       the latest epoch, for --resume
    metrics.jsonl     one line per epoch
    learning_curve.png
    dev/ test/        evaluation reports (scores.json, predictions.jsonl, errors.tsv, confusion.png)
    results.json      the run's summary: setting, scores, throughput, wall time, peak memory
"""

from __future__ import annotations

import json
import logging
import math
import resource
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from biorelex.config import RESUME_MAY_DIFFER, RunConfig, TrainConfig
from biorelex.data.candidates import Candidate
from biorelex.data.examples import (
    EncodingStats,
    LabelSet,
    PairExample,
    batch_indices,
    candidate_config,
    collate,
    iter_candidates,
    steps_per_epoch,
)
from biorelex.document import Document
from biorelex.errors import ConfigError
from biorelex.evaluation.evaluate import Evaluation, evaluate, write_report
from biorelex.evaluation.metrics import classification_scores, plot_learning_curve
from biorelex.inference.predictor import (
    BinaryEnsemble,
    PairClassifier,
    PairKey,
    Predictor,
    ScoredMember,
    TorchClassifier,
    default_device,
)
from biorelex.models.heads import HEADS
from biorelex.models.relation_model import RelationModel, RelationOutput
from biorelex.models.serialization import (
    atomic_directory,
    load_optimizer,
    read_json,
    save_optimizer,
    write_json,
)
from biorelex.training.data import load_documents, training_documents

logger = logging.getLogger(__name__)

EpochCallback = Callable[[int, dict[str, Any]], None]


class TrainingHooks(Protocol):
    """What a variant of fine-tuning (distillation, self-training) changes in :func:`train`.

    ``labels`` fixes the label set; ``prepare`` sees (and may extend) the training candidates
    before encoding; ``create_model`` builds the initial model; ``loss`` replaces the cross-entropy
    of a batch (``indices`` are the batch's positions in the prepared candidate list).
    """

    labels: LabelSet

    def prepare(self, candidates: list[Candidate]) -> list[Candidate]: ...

    def create_model(self, config: RunConfig, labels: LabelSet, entity_types: set[str]) -> RelationModel: ...

    def loss(
        self, output: RelationOutput, batch: dict[str, torch.Tensor], indices: list[int]
    ) -> torch.Tensor: ...


@dataclass(frozen=True)
class KeptMember:
    """What a finished per-type binary member leaves beyond its run directory.

    ``scores[split][pair key]`` is its P(type) on that split's evaluated pairs (see
    :class:`ScoredMember`); ``facts`` and ``history`` are what :func:`train_model` returned.
    """

    facts: dict[str, Any]
    history: list[dict[str, Any]]
    scores: dict[str, dict[PairKey, float]]


class MemberStore(Protocol):
    """Keeps finished ``per_type_binary`` members where a new machine can find them.

    Training one binary model per relation type can outlast a session, and run directories may not
    outlive a machine. After each member trains, :func:`train` hands ``keep`` its facts, history and
    dev/test scores; a member whose run directory has no checkpoint is taken from ``restore`` (given
    the keys of the pairs it must score, per split) instead of being trained again. The combined
    model is then scored from kept scores; it cannot be saved while any member has no weights.
    """

    def restore(self, name: str, pairs: dict[str, list[PairKey]]) -> KeptMember | None: ...

    def keep(self, name: str, member: KeptMember) -> None: ...


@dataclass
class TrainResult:
    """What a run produced."""

    output_dir: Path
    classifier: PairClassifier
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def set_seed(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def class_weight_tensor(examples: Sequence[PairExample], n_classes: int, mode: str) -> torch.Tensor | None:
    """``balanced``: n / (classes * count); ``sqrt``: its square root; ``none``: None."""
    if mode == "none":
        return None
    counts = Counter(e.label for e in examples)
    weights = [len(examples) / (n_classes * max(counts.get(c, 0), 1)) for c in range(n_classes)]
    tensor = torch.tensor(weights, dtype=torch.float32)
    return tensor.sqrt() if mode == "sqrt" else tensor


def _optimizer(model: torch.nn.Module, config: RunConfig) -> torch.optim.Optimizer:
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        no_decay = name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name
        groups.setdefault((name.startswith("head."), no_decay), []).append(parameter)
    train = config.train
    param_groups = [
        {
            "params": params,
            "weight_decay": 0.0 if no_decay else train.weight_decay,
            "lr": (train.head_lr or train.lr) if is_head else train.lr,
        }
        for (is_head, no_decay), params in sorted(groups.items())
    ]
    return torch.optim.AdamW(param_groups, lr=train.lr)


def _schedule(optimizer: torch.optim.Optimizer, total: int, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _save_checkpoint(
    directory: Path,
    model: Any,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: dict[str, Any],
) -> None:
    from safetensors.torch import save_file

    with atomic_directory(directory) as temporary:
        model.save(temporary / "model")
        save_optimizer(optimizer, temporary)
        save_file({"cpu": torch.get_rng_state()}, str(temporary / "rng.safetensors"))
        write_json(temporary / "scheduler.json", scheduler.state_dict())
        write_json(temporary / "state.json", state)


def _dev_scores(model: RelationModel, examples: list[PairExample], batch_size: int) -> dict[str, Any]:
    from biorelex.inference.predictor import torch_predict_proba

    probabilities = torch_predict_proba(model, examples, batch_size, progress=False)
    labels = model.labels
    return classification_scores(
        [e.label for e in examples], probabilities.argmax(1).tolist(), labels.labels, labels.positive
    )


def train_model(
    config: RunConfig,
    labels: LabelSet,
    train_candidates: list[Candidate],
    dev_candidates: list[Candidate] | None,
    output_dir: Path,
    resume: bool = False,
    callbacks: Sequence[EpochCallback] = (),
    hooks: TrainingHooks | None = None,
) -> tuple[RelationModel, list[dict[str, Any]], dict[str, Any]]:
    """Fine-tune one :class:`RelationModel`; returns the best model, the history and throughput facts."""
    train_config = config.train
    device = torch.device(default_device())
    entity_types = {c.head.type for c in train_candidates} | {c.tail.type for c in train_candidates}

    def create() -> RelationModel:
        if hooks is not None:
            return hooks.create_model(config, labels, entity_types)
        return RelationModel.create(config.model, labels, entity_types)

    model, state = start_run(output_dir, resume, train_config.seed, RelationModel.load, create)
    model.to(device)
    encode = TorchClassifier(model).encode
    stats = EncodingStats()
    train_examples = encode(train_candidates, stats)
    dev_examples = encode(dev_candidates) if dev_candidates else []
    weights = class_weight_tensor(train_examples, len(labels.labels), train_config.class_weights)
    pad = model.tokenizer.pad_token_id or 0

    def batch_loss(indices: list[int], step: int) -> torch.Tensor:
        batch = {k: v.to(device) for k, v in collate([train_examples[i] for i in indices], pad).items()}
        output = model(batch, weights)
        loss = hooks.loss(output, batch, indices) if hooks is not None else output.loss
        assert loss is not None
        return loss

    def evaluate_dev() -> tuple[dict[str, Any], float | None]:
        if not dev_examples:
            return {}, None
        dev = _dev_scores(model, dev_examples, train_config.eval_batch_size)
        return {"dev_micro_f1": dev["micro_f1"], "dev_macro_f1": dev["macro_f1"]}, dev["micro_f1"]

    fit(
        model,
        config,
        output_dir,
        state,
        [len(e) for e in train_examples],
        batch_loss,
        evaluate_dev,
        {"run": config.model_dump()},
        callbacks,
    )
    seconds_training = state["seconds_training"]
    best = RelationModel.load(output_dir / "model", device)
    facts = {
        "train_pairs": len(train_examples),
        "train_encoding": stats.to_dict(),
        "best_epoch": state["best_epoch"],
        "best_dev_micro_f1": state["best"],
        "steps": state["step"],
        "seconds_training": round(seconds_training, 2),
        "train_examples_per_s": round(state["examples_seen"] / seconds_training, 2)
        if seconds_training
        else None,
    }
    return best, state["history"], facts


def config_differences(made_with: Path, config: RunConfig) -> list[str]:
    """The dotted settings in which ``config`` differs from the run configuration saved in
    ``made_with`` (a run's ``config.json``), as ``key: saved -> now``; the ``RESUME_MAY_DIFFER``
    settings are not counted. A missing file is one difference."""
    if not made_with.exists():
        return [f"{made_with} is missing"]

    def flat(value: Any, prefix: str = "") -> dict[str, Any]:
        if not isinstance(value, dict):
            return {prefix: value}
        return {
            k: v for key, item in value.items() for k, v in flat(item, f"{prefix}.{key}".lstrip(".")).items()
        }

    saved = flat(read_json(made_with))
    now = flat(json.loads(json.dumps(config.model_dump())))
    return [
        f"{key}: {saved.get(key, '(unset)')!r} -> {now.get(key, '(unset)')!r}"
        for key in sorted((saved.keys() | now.keys()) - RESUME_MAY_DIFFER)
        if saved.get(key, ...) != now.get(key, ...)
    ]


def check_resume(output_dir: Path, config: RunConfig) -> None:
    """Refuse ``--resume`` from a checkpoint trained with another configuration, so a run's epochs
    never mix two configurations (an epoch checkpoint of the run or of a per-type member counts)."""
    checkpoints = [output_dir / "checkpoint", *sorted(output_dir.glob("binary/*/checkpoint"))]
    if not any((checkpoint / "state.json").exists() for checkpoint in checkpoints):
        return
    differences = config_differences(output_dir / "config.json", config)
    if differences:
        raise ConfigError(
            f"{output_dir} holds an epoch checkpoint trained with another configuration than this run's "
            f"({'; '.join(differences)}): resume with the configuration it was trained with, or train "
            "afresh (without --resume) in another output directory, or delete this one"
        )


def start_run(
    output_dir: Path, resume: bool, seed: int, load: Callable[[Path], Any], create: Callable[[], Any]
) -> tuple[Any, dict[str, Any]]:
    """The model and loop state to start from: the checkpoint's with ``resume``, else a new model
    (``create()``, after seeding) and a fresh state."""
    checkpoint = output_dir / "checkpoint"
    if resume and (checkpoint / "state.json").exists():
        logger.info("resuming from %s", checkpoint)
        return load(checkpoint / "model"), read_json(checkpoint / "state.json")
    if resume:
        logger.info("no checkpoint in %s yet; starting from scratch", output_dir)
    set_seed(seed)
    state: dict[str, Any] = {"epoch": 0, "best": None, "best_epoch": None, "history": [], "bad_epochs": 0}
    return create(), state


def fit(
    model: Any,
    config: RunConfig,
    output_dir: Path,
    state: dict[str, Any],
    lengths: Sequence[int],
    batch_loss: Callable[[list[int], int], torch.Tensor],
    evaluate_dev: Callable[[], tuple[dict[str, Any], float | None]],
    save_extra: dict[str, Any],
    callbacks: Sequence[EpochCallback] = (),
    epoch_facts: Callable[[int], dict[str, Any]] | None = None,
) -> None:
    """The epochs of a run, shared by every trainer (relation classifier, joint model, variants).

    Builds AdamW and the linear schedule (restored from ``output_dir/checkpoint`` when ``state``
    is a resumed one), then per epoch: length-grouped shuffled batches of the examples whose
    lengths are ``lengths``, :func:`run_epoch` over ``batch_loss``, ``evaluate_dev()`` (entry
    items and the score that selects the best model; ``None`` without dev) and
    :func:`close_epoch`. ``epoch_facts(step)`` adds items to each metrics entry. ``state`` is
    updated in place (``step``, ``seconds_training``, ``examples_seen``, history, best epoch).
    """
    train_config = config.train
    device = next(model.parameters()).device
    checkpoint = output_dir / "checkpoint"
    per_epoch = steps_per_epoch(len(lengths), train_config.batch_size, train_config.grad_accumulation)
    total = train_config.max_steps or per_epoch * train_config.epochs
    optimizer = _optimizer(model, config)
    scheduler = _schedule(optimizer, total, int(train_config.warmup_ratio * total))
    if state["epoch"]:
        from safetensors.torch import load_file

        load_optimizer(optimizer, checkpoint)
        scheduler.load_state_dict(read_json(checkpoint / "scheduler.json"))
        torch.set_rng_state(load_file(str(checkpoint / "rng.safetensors"))["cpu"])
    scaler = torch.amp.GradScaler("cuda", enabled=train_config.amp and device.type == "cuda")
    writer = _tensorboard(output_dir) if train_config.tensorboard else None
    state.setdefault("step", 0)
    state.setdefault("seconds_training", 0.0)
    state.setdefault("examples_seen", 0)
    for epoch in range(state["epoch"] + 1, train_config.epochs + 1):
        if train_config.max_steps and state["step"] >= train_config.max_steps:
            break
        model.train()
        batches = batch_indices(
            lengths,
            train_config.batch_size,
            shuffle=True,
            group_by_length=train_config.group_by_length,
            seed=train_config.seed * 1000 + epoch,
        )
        started = time.perf_counter()
        losses, step, seen = run_epoch(
            model,
            batches,
            batch_loss,
            optimizer,
            scheduler,
            scaler,
            train_config,
            device,
            epoch,
            state["step"],
        )
        seconds = time.perf_counter() - started
        entry: dict[str, Any] = {
            "epoch": epoch,
            "step": step,
            "train_loss": float(np.mean(losses)) if losses else math.nan,
            **(epoch_facts(step) if epoch_facts is not None else {}),
            "lr": scheduler.get_last_lr()[0],
            "seconds": round(seconds, 2),
        }
        dev_items, score = evaluate_dev()
        entry.update(dev_items)
        state.update(
            step=step,
            seconds_training=state["seconds_training"] + seconds,
            examples_seen=state["examples_seen"] + seen,
        )
        stop = close_epoch(
            state,
            entry,
            score,
            model,
            output_dir,
            optimizer,
            scheduler,
            save_extra,
            writer,
            callbacks,
            train_config.early_stopping_patience,
        )
        if stop:
            break
    if writer is not None:
        writer.close()


def run_epoch(
    model: torch.nn.Module,
    batches: Sequence[list[int]],
    batch_loss: Callable[[list[int], int], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    train_config: TrainConfig,
    device: torch.device,
    epoch: int,
    step: int,
) -> tuple[list[float], int, int]:
    """One pass over ``batches`` (lists of example indices): forward under autocast on GPU,
    backward, gradient accumulation and clipping, optimizer and scheduler steps.

    ``batch_loss(indices, step)`` builds the batch and returns its loss. Returns the batch losses,
    the optimizer step reached and the number of examples seen.
    """
    use_amp = train_config.amp and device.type == "cuda"
    losses: list[float] = []
    seen = 0
    progress = tqdm(batches, desc=f"epoch {epoch}/{train_config.epochs}", unit="batch", leave=False)
    for index, indices in enumerate(progress):
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
            loss = batch_loss(indices, step)
        scaler.scale(loss / train_config.grad_accumulation).backward()
        losses.append(float(loss.detach()))
        seen += len(indices)
        if (index + 1) % train_config.grad_accumulation == 0 or index + 1 == len(batches):
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), train_config.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step()
            step += 1
            progress.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
            if train_config.max_steps and step >= train_config.max_steps:
                break
    return losses, step, seen


def close_epoch(
    state: dict[str, Any],
    entry: dict[str, Any],
    score: float | None,
    model: Any,
    output_dir: Path,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    save_extra: dict[str, Any],
    writer: Any,
    callbacks: Sequence[EpochCallback],
    patience: int,
) -> bool:
    """End-of-epoch bookkeeping shared by every training loop; returns True to stop early.

    Saves ``model/`` when ``score`` (the dev metric; ``None`` without dev) improved, then the
    checkpoint, the metrics log and learning curve, TensorBoard scalars and the callbacks.
    """
    epoch = entry["epoch"]
    logger.info("epoch %d: %s", epoch, json.dumps(entry))
    state["history"].append(entry)
    if score is None or state["best"] is None or score > state["best"]:
        state.update(best=score, best_epoch=epoch, bad_epochs=0)
        model.save(output_dir / "model", {**save_extra, "epoch": epoch})
    else:
        state["bad_epochs"] += 1
    state["epoch"] = epoch
    _save_checkpoint(output_dir / "checkpoint", model, optimizer, scheduler, state)
    _write_metrics(output_dir, state["history"])
    if writer is not None:
        for key, value in entry.items():
            if isinstance(value, float):
                writer.add_scalar(key, value, epoch)
    for callback in callbacks:
        callback(epoch, entry)
    if patience and score is not None and state["bad_epochs"] >= patience:
        logger.info("early stopping after epoch %d (best epoch %d)", epoch, state["best_epoch"])
        return True
    return False


def _write_metrics(output_dir: Path, history: list[dict[str, Any]]) -> None:
    from biorelex.data.formats._io import atomic_write

    with atomic_write(output_dir / "metrics.jsonl") as handle:
        for entry in history:
            handle.write(json.dumps(entry) + "\n")
    plot_learning_curve(history, output_dir / "learning_curve.png", f"{output_dir.name}: loss and dev F1")


def _tensorboard(output_dir: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("train.tensorboard = true needs TensorBoard: pip install tensorboard") from None
    return SummaryWriter(str(output_dir / "tensorboard"))


def _candidates(config: RunConfig, documents: list[Document]) -> list[Candidate]:
    return list(iter_candidates(documents, candidate_config(config.data.candidates, documents)))


def _limit(candidates: list[Candidate], limit: int) -> list[Candidate]:
    return candidates[:limit] if limit else candidates


def train(
    config: RunConfig,
    output_dir: str | Path,
    resume: bool = False,
    callbacks: Sequence[EpochCallback] = (),
    hooks: TrainingHooks | None = None,
    member_store: MemberStore | None = None,
) -> TrainResult:
    """Train the configured classifier, evaluate it on dev and test, and write every report.

    ``hooks`` (see :class:`TrainingHooks`) turn plain fine-tuning into a variant such as distillation.
    ``member_store`` (see :class:`MemberStore`) keeps ``per_type_binary`` members across machines.
    """
    if config.model.head != "svm":
        HEADS.get(config.model.head)  # an unknown head fails now, not after the data is read
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if config.train.num_threads:
        torch.set_num_threads(config.train.num_threads)
    data = config.data
    train_documents, _ = training_documents(data)
    dev_documents = load_documents(data, data.dev)
    test_documents = load_documents(data, data.test)
    train_candidates = _limit(_candidates(config, train_documents), data.max_train_examples)
    dev_candidates = (
        _limit(_candidates(config, dev_documents), data.eval_limit("dev")) if dev_documents else None
    )
    labels = LabelSet.from_labels((c.label for c in train_candidates), data.positive_labels)
    if hooks is not None:
        if config.model.head == "svm" or config.model.per_type_binary:
            raise ConfigError("distillation/self-training hooks need a single neural classifier")
        labels = hooks.labels
        train_candidates = hooks.prepare(train_candidates)
    logger.info(
        "labels %s (positive: %s), %d training pairs", labels.labels, labels.positive, len(train_candidates)
    )
    if resume:
        check_resume(output_dir, config)
    write_json(output_dir / "config.json", config.model_dump())
    history: list[dict[str, Any]] = []
    facts: dict[str, Any] = {}
    classifier: PairClassifier
    scorer: PairClassifier | None = None  # scores dev and test when not the classifier itself
    if config.model.head == "svm":
        from biorelex.models.svm import SvmClassifier

        svm_started = time.perf_counter()
        svm = SvmClassifier(labels, config.model.representation)
        svm.fit(svm.encode(train_candidates))
        seconds = time.perf_counter() - svm_started
        svm.save(output_dir / "model", {"run": config.model_dump()})
        facts = {
            "train_pairs": len(train_candidates),
            "seconds_training": round(seconds, 2),
            "train_examples_per_s": round(len(train_candidates) / seconds, 2),
        }
        classifier = svm
    elif config.model.per_type_binary:
        members: dict[str, TorchClassifier | ScoredMember] = {}
        # scores of the members kept in this run, reused by the final evaluation of dev and test
        just_kept: dict[str, ScoredMember] = {}
        # only a member store needs the scored pairs ahead of the final evaluation
        splits = _scored_splits(config, dev_documents, test_documents) if member_store is not None else {}
        pairs = _pair_keys(config, splits)
        for name in labels.labels[1:]:
            binary = LabelSet.from_labels([name])
            relabel = [_binary(c, name) for c in train_candidates]
            dev_relabel = [_binary(c, name) for c in dev_candidates] if dev_candidates else None
            member_dir = output_dir / "binary" / name.replace(":", "_").replace("/", "_")
            fresh = not (member_dir / "checkpoint" / "state.json").exists()
            kept = member_store.restore(name, pairs) if member_store is not None else None
            if kept is not None and fresh:
                logger.info("binary model for %s: kept scores restored, not retrained", name)
                members[name] = ScoredMember.from_splits(name, kept.scores)
                member_history, member_facts = kept.history, kept.facts
            else:
                logger.info("binary model for %s", name)
                model, member_history, member_facts = train_model(
                    config, binary, relabel, dev_relabel, member_dir, resume, callbacks
                )
                members[name] = classifier_member = TorchClassifier(model)
                if member_store is not None and kept is None:
                    scores = _member_scores(classifier_member, splits, config)
                    member_store.keep(name, KeptMember(member_facts, member_history, scores))
                    just_kept[name] = ScoredMember.from_splits(name, scores)
            history += [{**h, "member": name} for h in member_history]
            facts.setdefault("members", {})[name] = member_facts
        seconds = sum(f["seconds_training"] for f in facts["members"].values())
        seen = sum(f["train_examples_per_s"] * f["seconds_training"] for f in facts["members"].values())
        facts.update(
            train_pairs=len(train_candidates),
            seconds_training=round(seconds, 2),
            train_examples_per_s=round(seen / seconds, 2) if seconds else None,
        )
        encoding_model = None
        if not any(isinstance(m, TorchClassifier) for m in members.values()):
            entity_types = {c.head.type for c in train_candidates} | {c.tail.type for c in train_candidates}
            encoding_model = RelationModel.create(
                config.model, LabelSet.from_labels(labels.labels[1:2]), entity_types
            )
        ensemble = BinaryEnsemble(members, labels, encoding_model)
        if ensemble.restored:
            logger.warning(
                "members %s were restored from kept scores (no weights): scoring dev and test from "
                "them; no model is saved (retrain in one run directory for a usable model)",
                ensemble.restored,
            )
            facts["members_restored"] = ensemble.restored
        else:
            ensemble.save(output_dir / "model", {"run": config.model_dump()})
        classifier = ensemble
        if just_kept:
            # the same probabilities on the same pairs, without a second pass of those members
            scorer = BinaryEnsemble({**members, **just_kept}, labels, ensemble.encoding_model)
    else:
        model, history, facts = train_model(
            config, labels, train_candidates, dev_candidates, output_dir, resume, callbacks, hooks
        )
        classifier = TorchClassifier(model)
    predictor = Predictor(scorer or classifier, config.train.eval_batch_size, data.candidates)
    reports: dict[str, Any] = {}
    for split, documents in (("dev", dev_documents), ("test", test_documents)):
        if not documents:
            continue
        evaluation = _evaluate_split(predictor, documents, config, split)
        write_report(
            evaluation, output_dir / split, f"{config.model.head}/{config.model.representation} {split}"
        )
        reports[split] = _headline(evaluation)
    summary = {
        "setting": {
            "entities": "gold",
            "corpus": data.corpus,
            "candidates": data.candidates,
            "encoder": config.model.encoder,
            "head": config.model.head,
            "representation": config.model.representation,
            "per_type_binary": config.model.per_type_binary,
            "train_fraction": data.train_fraction,
            "device": default_device(),
            "threads": torch.get_num_threads(),
        },
        "labels": labels.to_dict(),
        **facts,
        "scores": reports,
        "wall_seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    write_json(output_dir / "results.json", summary)
    return TrainResult(output_dir, classifier, history, summary)


def _binary(candidate: Candidate, name: str) -> Candidate:
    import dataclasses

    return dataclasses.replace(candidate, label=name if candidate.label == name else None)


def _eval_documents(documents: list[Document], config: RunConfig, split: str) -> list[Document]:
    """The documents a split is scored on (a pair-per-document corpus may be capped)."""
    limit = config.data.eval_limit(split)
    if limit and all(len(d.entities) == 2 for d in documents):
        return documents[:limit]
    return documents


def _evaluate_split(
    predictor: Predictor, documents: list[Document], config: RunConfig, split: str
) -> Evaluation:
    documents = _eval_documents(documents, config, split)
    return evaluate(predictor, documents, {"split": split, "corpus": config.data.corpus})


def _scored_splits(
    config: RunConfig, dev: list[Document] | None, test: list[Document] | None
) -> dict[str, list[Document]]:
    splits = {"dev": dev, "test": test}
    return {s: _eval_documents(d, config, s) for s, d in splits.items() if d}


def scored_candidates(config: RunConfig) -> dict[str, list[Candidate]]:
    """Per split (dev, test), the candidate pairs a run's final evaluation scores, in its order."""
    data = config.data
    splits = _scored_splits(config, load_documents(data, data.dev), load_documents(data, data.test))
    return {split: _candidates(config, documents) for split, documents in splits.items()}


def _pair_keys(config: RunConfig, splits: dict[str, list[Document]]) -> dict[str, list[PairKey]]:
    """Per split, the keys of the candidate pairs :func:`evaluate` scores, in its order.

    Kept scores are looked up by key, so the keys must be unique over all the scored splits.
    """
    keys: dict[str, list[PairKey]] = {}
    seen: set[PairKey] = set()
    for split, documents in splits.items():
        keys[split] = [c.key for c in _candidates(config, documents)]
        unique = set(keys[split])
        if len(unique) != len(keys[split]) or not seen.isdisjoint(unique):
            raise ConfigError(
                f"{split}: candidate pairs repeat a (document id, head id, tail id) key, so binary "
                "members cannot be kept by their scores; give the documents unique ids"
            )
        seen |= unique
    return keys


def _member_scores(
    member: TorchClassifier, splits: dict[str, list[Document]], config: RunConfig
) -> dict[str, dict[PairKey, float]]:
    predictor = Predictor(member, config.train.eval_batch_size, config.data.candidates)
    scores: dict[str, dict[PairKey, float]] = {}
    for split, documents in splits.items():
        examples = predictor.examples(documents, gold=False)
        probabilities = member.predict_proba(examples, config.train.eval_batch_size)[:, 1]
        scores[split] = {e.candidate.key: float(p) for e, p in zip(examples, probabilities, strict=True)}
    return scores


def _headline(evaluation: Evaluation) -> dict[str, Any]:
    scores = evaluation.scores
    headline = {
        k: scores[k] for k in ("micro_precision", "micro_recall", "micro_f1", "macro_f1", "accuracy", "pairs")
    }
    auc = scores.get("auc_roc")
    headline["auc_macro"] = auc["macro"] if auc else None
    headline["per_class_f1"] = {k: v["f1"] for k, v in scores["per_class"].items()}
    return headline
