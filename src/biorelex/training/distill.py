"""Knowledge distillation: a smaller student learns a trained teacher's soft labels (+ the gold ones).

The student is, by default, the teacher's encoder cut to its first ``distill.layers`` layers with
the teacher's head copied over (the DistilBERT / "first k layers" initialisation), optionally with
the least important ``1 - distill.ffn_keep`` of every layer's feed-forward neurons removed
(:mod:`biorelex.models.pruning`) before training starts. ``distill.student`` may instead name a
trained relation classifier (an earlier student, say), which starts with its own encoder and head,
pruned too when ``ffn_keep < 1`` (prune a distilled student, then distil again); or any encoder,
in which case a fresh head is trained on top of it.

Loss per pair (Hinton et al.): ``alpha * T^2 * KL(p_teacher^T || p_student^T) + (1 - alpha) * CE``,
where ``p^T`` is the softmax at temperature ``T``; pairs from ``distill.unlabeled`` files have no
gold label and contribute the KL term only. The teacher's outputs are computed once, before
training, and cached in ``teacher_outputs.safetensors`` so a resumed run does not recompute them.

Everything else (optimiser, schedule, checkpoints, ``--resume``, dev selection, reports) is the
trainer's: :func:`distill` is :func:`~biorelex.training.trainer.train` with :class:`DistillHooks`.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from biorelex.config import RunConfig
from biorelex.data.candidates import Candidate
from biorelex.data.examples import LabelSet
from biorelex.errors import ConfigError
from biorelex.inference.predictor import TorchClassifier, default_device
from biorelex.models.relation_model import RelationModel, RelationOutput
from biorelex.models.serialization import MODEL_FILE
from biorelex.training.data import unlabeled_pairs
from biorelex.training.trainer import EpochCallback, TrainResult, train

logger = logging.getLogger(__name__)

TEACHER_FILE = "teacher_outputs.safetensors"


def _layer_list(encoder: Any) -> nn.ModuleList:
    """The encoder's stack of transformer layers (BERT/RoBERTa/ELECTRA or DistilBERT layout)."""
    for path in ("encoder.layer", "transformer.layer", "layers"):
        module: Any = encoder
        for name in path.split("."):
            module = getattr(module, name, None)
            if module is None:
                break
        if isinstance(module, nn.ModuleList):
            return module
    raise ConfigError(
        f"cannot find the layer stack of {type(encoder).__name__}; name a student encoder in distill.student"
    )


def truncated_student(teacher: RelationModel, layers: int) -> RelationModel:
    """A copy of ``teacher`` keeping the first ``layers`` encoder layers (head and tokenizer copied)."""
    encoder = copy.deepcopy(teacher.encoder)
    stack = _layer_list(encoder)
    total = len(stack)
    if layers > total:
        raise ConfigError(f"distill.layers = {layers} but the teacher's encoder has only {total} layers")
    del stack[layers:]
    encoder.config.num_hidden_layers = layers
    config = teacher.config.model_copy(
        update={"encoder": f"{teacher.config.encoder} (first {layers} of {total} layers)"}
    )
    return RelationModel(encoder, teacher.tokenizer, copy.deepcopy(teacher.head), teacher.labels, config)


def pruned_student(
    student: RelationModel, candidates: list[Candidate], keep: float, pairs: int, seed: int
) -> int:
    """Prune ``student``'s feed-forward blocks to the fraction ``keep`` in place; the new size.

    Neuron importance is measured on a seeded sample of ``pairs`` of ``candidates``.
    """
    import random

    from biorelex.inference.predictor import encode_for
    from biorelex.models.pruning import example_batches, neuron_importance, prune_feed_forward

    sample = random.Random(seed).sample(candidates, min(pairs, len(candidates)))
    examples = sorted(encode_for(student, student.labels, sample), key=len)  # little padding
    before = student.encoder.config.intermediate_size
    batches = example_batches(examples, student.tokenizer.pad_token_id or 0)
    importance = neuron_importance(student.encoder, batches)
    size = prune_feed_forward(student.encoder, importance, keep)
    student.config = student.config.model_copy(
        update={"encoder": f"{student.config.encoder}, feed-forward {size} of {before} neurons"}
    )
    return size


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_log_probs: torch.Tensor,
    gold: torch.Tensor,
    has_gold: torch.Tensor,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """Mean over the batch of ``alpha * T^2 * KL + (1 - alpha) * CE`` (CE only where ``has_gold``).

    Shapes: ``student_logits, teacher_log_probs (batch, classes)``; ``gold, has_gold (batch,)``.
    ``teacher_log_probs`` are log-softmax outputs; dividing them by ``T`` and renormalising gives
    the teacher's temperature-``T`` distribution exactly (the softmax is shift-invariant).
    """
    student = student_logits.float()
    teacher_soft = torch.softmax(teacher_log_probs.float() / temperature, dim=-1)
    student_log_soft = torch.log_softmax(student / temperature, dim=-1)
    kl = nn.functional.kl_div(student_log_soft, teacher_soft, reduction="none").sum(-1) * temperature**2
    ce = nn.functional.cross_entropy(student, gold.clamp(min=0), reduction="none") * has_gold.float()
    return (alpha * kl + (1.0 - alpha) * ce).mean()


class DistillHooks:
    """:class:`~biorelex.training.trainer.TrainingHooks` for distillation from ``teacher_dir``."""

    def __init__(self, config: RunConfig, teacher_dir: str | Path, output_dir: Path) -> None:
        self.config = config
        self.teacher_dir = Path(teacher_dir)
        self.output_dir = output_dir
        self.teacher = RelationModel.load(self.teacher_dir, default_device())
        self.labels: LabelSet = self.teacher.labels
        self.teacher_log_probs: torch.Tensor | None = None
        self.has_gold: torch.Tensor | None = None
        self.train_candidates: list[Candidate] = []

    def prepare(self, candidates: list[Candidate]) -> list[Candidate]:
        """Append the unlabeled pairs and compute (or reload) the teacher's log-probabilities."""
        from safetensors.torch import load_file, save_file

        from biorelex.inference.predictor import torch_predict_proba
        from biorelex.models.serialization import atomic_directory

        unknown = {c.label for c in candidates if c.label is not None} - set(self.labels.labels)
        if unknown:
            raise ConfigError(
                f"training labels {sorted(unknown)} are not among the teacher's {list(self.labels.labels)}"
            )
        extra = [
            pair
            for path in self.config.distill.unlabeled
            for pair in unlabeled_pairs(path, self.config.data.candidates)
        ]
        everything = candidates + extra
        self.train_candidates = candidates
        has_gold = torch.tensor([1] * len(candidates) + [0] * len(extra))
        cache = self.output_dir / "teacher" / TEACHER_FILE
        if cache.exists():
            stored = load_file(str(cache))
            if stored["log_probs"].shape[0] == len(everything):
                logger.info("teacher outputs reloaded from %s", cache)
                self.teacher_log_probs, self.has_gold = stored["log_probs"], has_gold
                return everything
        logger.info("teacher %s scores %d training pairs", self.teacher_dir, len(everything))
        examples = TorchClassifier(self.teacher).encode(everything)
        probabilities = torch_predict_proba(self.teacher, examples, self.config.train.eval_batch_size)
        log_probs = torch.from_numpy(np.log(np.clip(probabilities, 1e-12, 1.0)))
        with atomic_directory(cache.parent) as temporary:
            save_file({"log_probs": log_probs.contiguous()}, str(temporary / TEACHER_FILE))
        self.teacher_log_probs, self.has_gold = log_probs, has_gold
        self.teacher.cpu()
        return everything

    def create_model(self, config: RunConfig, labels: LabelSet, entity_types: set[str]) -> RelationModel:
        student = config.distill.student
        if not student:
            model = truncated_student(self.teacher.cpu(), config.distill.layers)
        elif (Path(student) / MODEL_FILE).exists():
            model = self._trained_student(Path(student))
        else:
            model_config = self.teacher.config.model_copy(update={"encoder": student})
            model = RelationModel.create(model_config, labels, entity_types)
        if config.distill.ffn_keep < 1.0:
            pruned_student(
                model,
                self.train_candidates,
                config.distill.ffn_keep,
                config.distill.prune_pairs,
                config.train.seed,
            )
        return model

    def _trained_student(self, directory: Path) -> RelationModel:
        """A trained relation classifier (e.g. an earlier student) as the starting point, head and all."""
        from biorelex.models.serialization import load_metadata

        kind = load_metadata(directory).get("kind")
        if kind != "relation_classifier":
            raise ConfigError(f"distill.student {directory} is a {kind!r} model; name a relation classifier")
        model = RelationModel.load(directory, "cpu")
        if model.labels != self.labels:
            raise ConfigError(
                f"distill.student {directory} has labels {list(model.labels.labels)}, "
                f"the teacher {list(self.labels.labels)}"
            )
        mine, teachers = model.config, self.teacher.config
        for field in ("head", "representation", "max_length"):
            if getattr(mine, field) != getattr(teachers, field):
                raise ConfigError(
                    f"distill.student {directory} has model.{field} = {getattr(mine, field)!r}, "
                    f"the teacher {getattr(teachers, field)!r}; they must agree"
                )
        return model

    def loss(
        self, output: RelationOutput, batch: dict[str, torch.Tensor], indices: list[int]
    ) -> torch.Tensor:
        assert self.teacher_log_probs is not None and self.has_gold is not None, "prepare() runs first"
        device = output.logits.device
        return distillation_loss(
            output.logits,
            self.teacher_log_probs[indices].to(device),
            batch["labels"],
            self.has_gold[indices].to(device),
            self.config.distill.temperature,
            self.config.distill.alpha,
        )


def distill(
    config: RunConfig,
    teacher_dir: str | Path,
    output_dir: str | Path,
    resume: bool = False,
    callbacks: tuple[EpochCallback, ...] = (),
) -> TrainResult:
    """Train a student from ``teacher_dir`` on ``config``'s data; reports as :func:`train` writes them.

    The student keeps the teacher's representation, length budget and head type.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    hooks = DistillHooks(config, teacher_dir, output_dir)
    teacher_model = hooks.teacher.config
    config = config.model_copy(
        update={
            "model": config.model.model_copy(
                update={
                    "head": teacher_model.head,
                    "representation": teacher_model.representation,
                    "max_length": teacher_model.max_length,
                    "per_type_binary": False,
                }
            )
        }
    )
    result = train(config, output_dir, resume, callbacks, hooks)
    result.summary["distillation"] = {
        "teacher": str(teacher_dir),
        "student": config.distill.student or f"teacher's first {config.distill.layers} layers",
        "ffn_keep": config.distill.ffn_keep,
        "temperature": config.distill.temperature,
        "alpha": config.distill.alpha,
        "unlabeled": config.distill.unlabeled,
    }
    from biorelex.models.serialization import write_json

    write_json(output_dir / "results.json", result.summary)
    return result
