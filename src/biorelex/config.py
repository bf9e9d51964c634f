"""Run configuration: pydantic models loaded from TOML, with dotted ``--set key=value`` overrides.

A config has three sections, ``[model]``, ``[data]`` and ``[train]``; every field has a default,
so an empty file is a valid config (embedded encoder, ``cls`` head, ChemProt BLURB split). The
resolved config is written as JSON next to the weights it produced.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from biorelex.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(_Section):
    """What is trained.

    Attributes:
        encoder: hub id, local directory, or ``embedded:all-MiniLM-L6-v2`` (the default).
        task: ``classify`` (relation classification between given entities) or ``joint``
            (entities and relations from raw text; settings in ``[joint]``).
        head: a registered head (``cls``, ``relex``, ``attention_pool``, ``entity_start``,
            ``entity_pool``) or ``svm`` for the classical baseline.
        representation: ``mask`` (BLUE ``@TYPE$``), ``markers`` (typed punctuation markers),
            ``special`` (typed markers as new special tokens) or ``none``.
        max_length: sub-word budget per pair, special tokens included.
        dropout: dropout before the classifier.
        per_type_binary: train one binary model per relation type and combine them (RelEx-BERT).
    """

    encoder: str = "embedded:all-MiniLM-L6-v2"
    task: Literal["classify", "joint"] = "classify"
    head: str = "cls"
    representation: Literal["mask", "markers", "special", "none"] = "mask"
    max_length: int = 128
    dropout: float = 0.1
    per_type_binary: bool = False

    @field_validator("max_length")
    @classmethod
    def _length(cls, value: int) -> int:
        if value < 8:
            raise ValueError("max_length must be at least 8 sub-words")
        return value


class DataConfig(_Section):
    """Where the examples come from.

    Either ``corpus`` (a catalogued corpus of ``data_dir``, e.g. ``chemprot-blurb``) with split
    names, or explicit ``train``/``dev``/``test`` paths (any readable format).

    Attributes:
        candidates: a candidate preset (``chemprot``, ``ddi``...) or ``pairs`` (documents of
            exactly one pair each, as BLURB/BLUE files); ``auto`` picks ``pairs`` when every
            document has two entities.
        positive_labels: the classes micro-F1 is computed over; empty = every non-negative label.
        max_train_examples: take only the first N training pairs (quick runs); 0 = all. The joint
            model reads whole documents: for it, the first N documents.
        max_eval_examples: the same for dev and test.
        max_dev_examples: cap the dev pairs alone (model selection and the dev report), the test
            set stays whole; 0 = ``max_eval_examples``.
        train_fraction: keep this fraction of the training documents (label-scarcity experiments),
            drawn with ``train_fraction_seed``; the rest is what ``self-train`` may use unlabeled.
        concept_relations: ``keep`` concept-level relations (BC5CDR's document-level CID) as read,
            or ``sentence``: replace each by mention relations between its concepts' mentions
            that share a sentence (the sentence-level setting; see ``biorelex.data.concepts``).
        cv_dev_fraction: ``cv`` only: hold out this fraction of each training fold's documents
            (drawn with ``train.seed``) as that fold's dev set, so the epoch is chosen (and early
            stopping works) without the test fold; 0 = no dev set, the last epoch is scored.
        splitter: sentence splitter for documents without given sentences (``concept_relations``,
            and the joint model's raw text: it sets ``joint.splitter`` too).
    """

    corpus: str | None = "chemprot-blurb"
    data_dir: str | None = None
    train: str | None = "train"
    dev: str | None = "dev"
    test: str | None = "test"
    format: str | None = None
    candidates: str = "auto"
    lenient: bool = False
    positive_labels: list[str] = []
    max_train_examples: int = 0
    max_eval_examples: int = 0
    max_dev_examples: int = 0
    train_fraction: float = 1.0
    train_fraction_seed: int = 0
    concept_relations: Literal["keep", "sentence"] = "keep"
    cv_dev_fraction: float = 0.0
    splitter: str = "pysbd"

    def eval_limit(self, split: str) -> int:
        """Pairs of ``split`` (dev or test) to evaluate; 0 = all."""
        if split == "dev" and self.max_dev_examples:
            return self.max_dev_examples
        return self.max_eval_examples

    @field_validator("train_fraction")
    @classmethod
    def _fraction(cls, value: float) -> float:
        if not 0.0 < value <= 1.0:
            raise ValueError("train_fraction is a fraction in (0, 1]")
        return value

    @field_validator("cv_dev_fraction")
    @classmethod
    def _dev_fraction(cls, value: float) -> float:
        if not 0.0 <= value < 1.0:
            raise ValueError("cv_dev_fraction is a fraction in [0, 1)")
        return value

    @field_validator("corpus", "data_dir", "train", "dev", "test", "format", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        """TOML has no null: ``""`` or ``"none"`` switches a field off (``--set data.dev=''``)."""
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value


class TrainConfig(_Section):
    """How it is trained (defaults: the budget used in ``benchmarks/``)."""

    epochs: int = 3
    batch_size: int = 32
    eval_batch_size: int = 64
    lr: float = 5e-5
    head_lr: float | None = None
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    grad_accumulation: int = 1
    class_weights: Literal["none", "balanced", "sqrt"] = "none"
    early_stopping_patience: int = 0
    group_by_length: bool = True
    seed: int = 13
    amp: bool = True
    max_steps: int = 0
    num_threads: int = 0
    tensorboard: bool = False


class DistillConfig(_Section):
    """Knowledge distillation (``biorelex distill``); ignored by ``train``.

    Attributes:
        student: an encoder (hub id, directory, ``embedded:...``) for the student, or a trained
            biorelex relation classifier's directory (it starts with its encoder and head; ``layers``
            is then not applied); empty = the teacher's own encoder cut to its first ``layers``
            layers (head copied from the teacher).
        layers: encoder layers kept in the default student.
        ffn_keep: fraction of every layer's feed-forward neurons the student keeps (1.0 = all;
            BERT-layout encoders); the least important ones (``biorelex.models.pruning``, measured on
            ``prune_pairs`` training pairs) are removed before distillation starts.
        prune_pairs: training pairs (a seeded sample) on which neuron importance is measured.
        temperature: softmax temperature of the teacher and student distributions in the KL term.
        alpha: weight of the KL term; ``1 - alpha`` weighs the cross-entropy with the gold labels.
        unlabeled: extra files (any readable format, entities given) whose candidate pairs are
            learnt from the teacher's soft labels alone.
    """

    student: str = ""
    layers: int = 3
    ffn_keep: float = 1.0
    prune_pairs: int = 1024
    temperature: float = 2.0
    alpha: float = 0.5
    unlabeled: list[str] = []

    @field_validator("layers")
    @classmethod
    def _positive_layers(cls, value: int) -> int:
        if value < 1:
            raise ValueError("the student keeps at least 1 layer")
        return value

    @field_validator("ffn_keep")
    @classmethod
    def _fraction_kept(cls, value: float) -> float:
        if not 0.0 < value <= 1.0:
            raise ValueError("ffn_keep is the fraction of feed-forward neurons kept, in (0, 1]")
        return value

    @field_validator("prune_pairs")
    @classmethod
    def _positive_pairs(cls, value: int) -> int:
        if value < 1:
            raise ValueError("prune_pairs must be at least 1")
        return value

    @field_validator("alpha")
    @classmethod
    def _unit_alpha(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError("alpha is a weight between 0 and 1")
        return value

    @field_validator("temperature")
    @classmethod
    def _positive_temperature(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("temperature must be positive")
        return value


class SelfTrainConfig(_Section):
    """Teacher-student self-training (``biorelex self-train``); ignored by ``train``.

    Attributes:
        rounds: student generations after the supervised teacher (round 0).
        threshold: a pseudo-label is kept when the teacher's top probability reaches it.
        balance: ``labeled`` caps each class's share of the kept pseudo-labels at its share of
            the labelled training pairs (most confident first), so the confident majority class
            cannot swamp the rare ones; ``uniform`` shares them equally among the classes (a
            class short of confident pairs passes its share on), so rare classes get more than
            their labelled share; ``none`` keeps every pair above the threshold.
        max_pseudo: keep at most this many pseudo-labels per round (most confident first); 0 = all.
        unlabeled: files (any readable format, entities given; relations ignored) whose candidate
            pairs are pseudo-labelled.
        unlabeled_rest: with ``data.train_fraction < 1``, the training documents left out become
            unlabeled pairs too (their labels hidden).
        student_init: ``encoder`` trains each student afresh from the configured encoder (classic
            self-training); ``teacher`` starts it from the previous round's model.
    """

    rounds: int = 2
    threshold: float = 0.9
    balance: Literal["labeled", "uniform", "none"] = "labeled"
    max_pseudo: int = 0
    unlabeled: list[str] = []
    unlabeled_rest: bool = True
    student_init: Literal["encoder", "teacher"] = "encoder"

    @field_validator("rounds", "max_pseudo")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 or more")
        return value

    @field_validator("threshold")
    @classmethod
    def _probability(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError("threshold is a probability between 0 and 1")
        return value


class JointConfig(_Section):
    """The joint NER+RE model of Giorgi et al. (2019) (``model.task = "joint"``).

    The defaults are the paper's design; the switches give its ablations.

    Attributes:
        ner_hidden: hidden size of the NER FFNN (encoder -> FFNN -> BIOES tags).
        label_embedding_dim: size of the learned embeddings of the (argmax) NER labels
            concatenated to the hidden states for RE.
        label_embeddings: ablation switch: ``false`` feeds the hidden states alone.
        word_shape_dim: size of a learned embedding of each word's shape (lower, Title, UPPER,
            mixed case, digits, letters+digits, punctuation) joined to its hidden state before
            the NER FFNN and the RE projections. It gives back the case cue that an uncased
            tokenizer (the embedded MiniLM's) throws away. 0 (the default, the paper's design) = off.
        ffnn: ``separate`` FFNN_head and FFNN_tail projections, one ``shared`` FFNN, or ``none``.
        ffnn_size: output size m of the FFNN projections.
        scorer: ``biaffine`` (U, W, b) or ``linear`` (W, b only).
        ramp_epochs: lambda of L = L_NER + lambda * L_RE rises linearly 0 -> 1 over this many
            epochs ("entity pre-training"); 0 = lambda is 1 from the start (the ablation).
        re_entities: which entities form RE candidates while training: ``predicted`` (the
            argmax tags, as at inference), ``gold``, or ``gold_during_ramp`` (gold while lambda < 1,
            predicted afterwards; the default, because early predictions are noise).
        splitter: sentence splitter for documents without given sentences; saved with the model so
            extraction splits raw text as training did. Follows ``data.splitter`` unless set here.
    """

    ner_hidden: int = 256
    label_embedding_dim: int = 64
    label_embeddings: bool = True
    word_shape_dim: int = 0
    ffnn: Literal["separate", "shared", "none"] = "separate"
    ffnn_size: int = 256
    scorer: Literal["biaffine", "linear"] = "biaffine"
    ramp_epochs: float = 1.0
    re_entities: Literal["predicted", "gold", "gold_during_ramp"] = "gold_during_ramp"
    splitter: str = "pysbd"

    @field_validator("word_shape_dim")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 (off) or a positive embedding size")
        return value


class RunConfig(_Section):
    """A whole run: model, data and training (and distillation settings for ``distill``)."""

    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    distill: DistillConfig = DistillConfig()
    self_train: SelfTrainConfig = SelfTrainConfig()
    joint: JointConfig = JointConfig()

    @model_validator(mode="before")
    @classmethod
    def _one_splitter(cls, data: Any) -> Any:
        """``data.splitter`` also sets ``joint.splitter`` (one knob); two different values are refused."""
        if not isinstance(data, dict):
            return data
        section = data.get("data")
        chosen = section.get("splitter") if isinstance(section, dict) else None
        joint = data.get("joint")
        if chosen is None or (joint is not None and not isinstance(joint, dict)):
            return data
        if joint and joint.get("splitter") not in (None, chosen):
            raise ValueError(
                f"data.splitter ({chosen!r}) and joint.splitter ({joint['splitter']!r}) differ; "
                "set data.splitter alone"
            )
        return {**data, "joint": {**(joint or {}), "splitter": chosen}}


# settings a resumed run may change: they touch neither what is trained nor how (the number of
# self-training rounds decides how many runs follow, not what any one round trains)
RESUME_MAY_DIFFER = frozenset(
    {"train.eval_batch_size", "train.num_threads", "train.tensorboard", "self_train.rounds"}
)


def _parse_value(raw: str) -> Any:
    """A ``--set`` value: a TOML literal when it parses as one (``3e-5``, ``true``, ``["a"]``), else text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides to a config dictionary (new dictionary returned)."""
    result = json.loads(json.dumps(data))
    for override in overrides:
        if "=" not in override:
            raise ConfigError(f"override {override!r} must look like section.key=value")
        key, raw = override.split("=", 1)
        parts = key.strip().split(".")
        if len(parts) < 2 or not all(parts):
            raise ConfigError(f"override key {key!r} must be dotted, e.g. train.lr")
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r}: {part!r} is not a section")
        node[parts[-1]] = _parse_value(raw.strip())
    return result


def _validate(data: dict[str, Any], source: str) -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"invalid config ({source}): {problems}") from None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Read a TOML config (or the defaults when ``path`` is None) and apply overrides."""
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        source = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if overrides:
        data = apply_overrides(data, overrides)
        source += " + overrides"
    return _validate(data, source)


def config_from_dict(data: dict[str, Any]) -> RunConfig:
    """Validate a config dictionary (as written next to a model)."""
    return _validate(data, "dictionary")
