"""The predictor: Documents -> candidate pairs -> tensors -> class probabilities -> scored Documents.

One object serves the CLI (``predict``, ``evaluate``), the Python API and, later, the server. It
wraps any pair classifier this package trains: a :class:`RelationModel`, the per-type binary
ensemble (RelEx-BERT) or the SVM baseline; :func:`load_classifier` picks by the saved ``kind``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from biorelex.data.candidates import Candidate
from biorelex.data.examples import (
    NEGATIVE_LABEL,
    EncodingStats,
    LabelSet,
    PairExample,
    batch_indices,
    build_examples,
    candidate_config,
    collate,
    iter_candidates,
)
from biorelex.document import Document, Relation
from biorelex.errors import ConfigError

logger = logging.getLogger(__name__)


class PairClassifier(Protocol):
    """What the predictor needs of a classifier."""

    labels: LabelSet

    def encode(
        self, candidates: Iterable[Candidate], stats: EncodingStats | None = None
    ) -> list[PairExample]:
        """Represent and encode candidates the way this classifier was trained."""
        ...

    def predict_proba(self, examples: Sequence[PairExample], batch_size: int = 64) -> np.ndarray:
        """``(pairs, classes)`` probabilities (or normalised scores), in the order given."""
        ...

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None: ...


def batched_scores(
    examples: Sequence[PairExample],
    n_classes: int,
    batch_size: int,
    forward: Callable[[list[PairExample]], np.ndarray],
    progress: bool = True,
    desc: str = "predict",
    workers: int = 1,
) -> np.ndarray:
    """``forward`` over length-sorted batches (each padded by ``forward`` to its own longest pair);
    the ``(pairs, n_classes)`` results come back in the order given. Serves every backend.

    ``workers > 1`` runs that many batches at once from a thread pool: onnxruntime and PyTorch
    release the GIL in their kernels, so on a small CPU two batches on one thread each can keep the
    cores busier than one batch split over two threads (measured in benchmarks/RESULTS.md). The
    batches are the same as with ``workers=1``, and so are the results, up to float rounding where
    the backend's thread count changes a reduction's order.
    """
    from contextlib import ExitStack

    from tqdm.auto import tqdm

    result = np.zeros((len(examples), n_classes), dtype=np.float32)
    if not examples:
        return result
    batches = batch_indices([len(e) for e in examples], batch_size, shuffle=False, group_by_length=True)

    def score(indices: list[int]) -> np.ndarray:
        return forward([examples[i] for i in indices])

    with ExitStack() as stack:
        if check_workers(workers) == 1:
            scored: Iterable[np.ndarray] = map(score, batches)
        else:
            from concurrent.futures import ThreadPoolExecutor

            pool = stack.enter_context(ThreadPoolExecutor(workers, thread_name_prefix="biorelex-forward"))
            scored = pool.map(score, batches)  # in the order given, however the workers finish
        bar = tqdm(scored, total=len(batches), desc=desc, unit="batch", disable=not progress, leave=False)
        for indices, scores in zip(batches, bar, strict=True):
            result[indices] = scores
    return result


def check_workers(workers: int) -> int:
    """``workers`` if it is a positive integer, else a ConfigError."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer (concurrent batches), got {workers!r}")
    return workers


def threads_per_worker(num_threads: int | None, workers: int) -> int | None:
    """Intra-op threads for each of ``workers`` concurrent batches.

    ``num_threads`` (all the cores available to this process when not given) shared evenly, at
    least one each; ``None`` with one worker leaves the backend's own default alone.
    """
    if check_workers(workers) == 1:
        return num_threads or None
    import os

    total = num_threads or len(os.sched_getaffinity(0))
    return max(1, total // workers)


TORCH_PRECISIONS = ("fp32", "bf16")


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`TORCH_PRECISIONS`, else a ConfigError saying what is."""
    if precision not in TORCH_PRECISIONS:
        raise ConfigError(f"precision must be one of {list(TORCH_PRECISIONS)}, got {precision!r}")
    return precision


def torch_predict_proba(
    model: Any,
    examples: Sequence[PairExample],
    batch_size: int = 64,
    progress: bool = True,
    precision: str = "fp32",
    workers: int = 1,
) -> np.ndarray:
    """Batched forward passes of a :class:`RelationModel` (length-sorted, dynamic padding;
    ``workers`` concurrent batches, see :func:`batched_scores`).

    On a GPU the forward runs under fp16 autocast; ``precision="bf16"`` runs it under bfloat16
    autocast on either device (matrix products in bf16, reductions such as LayerNorm and softmax
    kept in fp32 by autocast), which is faster on CPUs with bf16 instructions (AVX512-BF16, AMX).
    """
    import torch

    model.eval()
    device = model.device
    pad = model.tokenizer.pad_token_id or 0
    dtype = torch.bfloat16 if check_precision(precision) == "bf16" else torch.float16
    autocast = precision == "bf16" or device.type == "cuda"

    def forward(batch_examples: list[PairExample]) -> np.ndarray:
        batch = {k: v.to(device) for k, v in collate(batch_examples, pad).items() if k != "labels"}
        with (
            torch.inference_mode(),
            torch.autocast(device_type=device.type, dtype=dtype, enabled=autocast),
        ):
            logits = model(batch).logits
        result: np.ndarray = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return result

    return batched_scores(examples, len(model.labels.labels), batch_size, forward, progress, workers=workers)


def encode_for(
    model: Any, labels: LabelSet, candidates: Iterable[Candidate], stats: EncodingStats | None = None
) -> list[PairExample]:
    """Encode candidates with ``model``'s tokenizer, representation and length budget."""
    config = model.config
    return build_examples(
        candidates, model.tokenizer, labels, config.representation, config.max_length, stats
    )


class TorchClassifier:
    """A :class:`RelationModel` behind the :class:`PairClassifier` protocol."""

    def __init__(self, model: Any, progress: bool = True, precision: str = "fp32", workers: int = 1) -> None:
        self.model = model
        self.labels: LabelSet = model.labels
        self.progress = progress
        self.precision = check_precision(precision)
        self.workers = check_workers(workers)

    def encode(
        self, candidates: Iterable[Candidate], stats: EncodingStats | None = None
    ) -> list[PairExample]:
        return encode_for(self.model, self.labels, candidates, stats)

    def predict_proba(self, examples: Sequence[PairExample], batch_size: int = 64) -> np.ndarray:
        return torch_predict_proba(
            self.model, examples, batch_size, self.progress, self.precision, self.workers
        )

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        self.model.save(directory, extra)


PairKey = tuple[str, str, str]


class ScoredMember:
    """A binary ensemble member known only by its kept scores, P(its type), on fixed pairs.

    A member's weights live in its run directory, which may not outlive a machine; what a run can
    keep elsewhere (``MemberStore`` in :mod:`biorelex.training.trainer`) is each finished member's
    probability on the dev and test pairs, which is all that scoring the combined model on those
    splits needs. It scores those pairs (by :attr:`Candidate.key`) and refuses any other.
    """

    def __init__(self, name: str, scores: dict[PairKey, float]) -> None:
        self.name = name
        self.scores = scores

    @classmethod
    def from_splits(cls, name: str, scores: Mapping[str, Mapping[PairKey, float]]) -> ScoredMember:
        """A member from its scores per split (as a ``MemberStore`` keeps them)."""
        return cls(name, {key: p for split in scores.values() for key, p in split.items()})

    def predict_proba(self, examples: Sequence[PairExample], batch_size: int = 64) -> np.ndarray:
        missing = [e.candidate.key for e in examples if e.candidate.key not in self.scores]
        if missing:
            raise ConfigError(
                f"binary member {self.name!r} was restored from kept scores only (no weights) and "
                f"cannot score {len(missing)} pair(s), e.g. {missing[0]}; retrain it (delete its "
                "kept entry) to score other pairs"
            )
        positive = np.array([self.scores[e.candidate.key] for e in examples], dtype=np.float32)
        return np.stack([1.0 - positive, positive], axis=1) if len(examples) else np.zeros((0, 2), np.float32)


class BinaryEnsemble:
    """RelEx-BERT's arrangement: one binary model per relation type, combined at inference.

    Each member scores "its" type against everything else. The combined class is the type with the
    highest probability when that probability is at least 0.5, else no relation; the combined
    score vector is ``[1 - max_p, p_type1, p_type2, ...]`` (argmax of it is that decision).
    Members may be :class:`ScoredMember` (kept scores, no weights): such an ensemble scores only
    their pairs, encodes with the first member that has a model (or ``encoding_model``, a model of
    the same configuration) and cannot be saved.
    """

    def __init__(
        self,
        members: Mapping[str, TorchClassifier | ScoredMember],
        labels: LabelSet,
        encoding_model: Any = None,
    ) -> None:
        missing = [name for name in labels.labels[1:] if name not in members]
        if missing:
            raise ConfigError(f"binary ensemble lacks a model for {missing}")
        self.members = members
        self.labels = labels
        live = [m.model for m in members.values() if isinstance(m, TorchClassifier)]
        self.encoding_model = live[0] if live else encoding_model
        if self.encoding_model is None:
            raise ConfigError("binary ensemble of kept scores only needs an encoding_model to encode pairs")

    @property
    def restored(self) -> list[str]:
        """The members known by kept scores only."""
        return [name for name, m in self.members.items() if isinstance(m, ScoredMember)]

    def encode(
        self, candidates: Iterable[Candidate], stats: EncodingStats | None = None
    ) -> list[PairExample]:
        return encode_for(self.encoding_model, self.labels, candidates, stats)

    def predict_proba(self, examples: Sequence[PairExample], batch_size: int = 64) -> np.ndarray:
        scores = np.zeros((len(examples), len(self.labels.labels)), dtype=np.float32)
        for index, name in enumerate(self.labels.labels[1:], start=1):
            scores[:, index] = self.members[name].predict_proba(examples, batch_size)[:, 1]
        scores[:, 0] = 1.0 - scores[:, 1:].max(axis=1) if scores.shape[1] > 1 else 1.0
        return scores

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        from biorelex.models.serialization import atomic_directory, write_json

        if self.restored:
            raise ConfigError(
                f"binary ensemble members {self.restored} have kept scores but no weights; "
                "it cannot be saved (retrain them in one run directory to get a model)"
            )
        with atomic_directory(directory) as temporary:
            for index, (name, member) in enumerate(self.members.items()):
                assert isinstance(member, TorchClassifier)
                member.save(temporary / f"type{index}", {"binary_for": name})
            write_json(
                temporary / "biorelex.json",
                {
                    "format_version": 1,
                    "kind": "binary_ensemble",
                    "labels": self.labels.to_dict(),
                    "members": {name: f"type{i}" for i, name in enumerate(self.members)},
                    **(extra or {}),
                },
            )


def load_classifier(
    directory: str | Path,
    device: str | None = None,
    progress: bool = True,
    num_threads: int | None = None,
    precision: str = "fp32",
    workers: int = 1,
) -> PairClassifier:
    """Load any saved pair classifier: relation model, binary ensemble, SVM or exported ONNX folder.

    ``num_threads`` sets the CPU threads of the forward pass (PyTorch or onnxruntime);
    ``workers`` runs that many batches concurrently, the threads shared among them (see
    :func:`batched_scores`; an SVM ignores both). ``precision="bf16"`` runs a PyTorch model's
    forward under bfloat16 autocast (see :func:`torch_predict_proba`). An exported folder has its
    own precision and an SVM has none.
    """
    from biorelex.models.serialization import load_metadata

    directory = Path(directory)
    meta = load_metadata(directory)
    kind = meta.get("kind")
    if check_precision(precision) != "fp32" and kind not in ("relation_classifier", "binary_ensemble"):
        raise ConfigError(
            f"{directory}: precision {precision!r} applies to PyTorch models; this {kind!r} model "
            "runs at its own precision (export with --quantize int8 for a faster exported folder)"
        )
    if kind == "onnx_relation_classifier":
        from biorelex.inference.onnx import OnnxClassifier

        return OnnxClassifier.load(directory, num_threads=num_threads, progress=progress, workers=workers)
    from biorelex.models.relation_model import RelationModel

    threads = threads_per_worker(num_threads, workers)
    if threads and kind != "svm":
        import torch

        torch.set_num_threads(threads)

    if kind == "relation_classifier":
        model = RelationModel.load(directory, device or default_device())
        return TorchClassifier(model, progress, precision, workers)
    if kind == "binary_ensemble":
        members = {
            name: TorchClassifier(
                RelationModel.load(directory / sub, device or default_device()), progress, precision, workers
            )
            for name, sub in meta["members"].items()
        }
        return BinaryEnsemble(members, LabelSet.from_dict(meta["labels"]))
    if kind == "svm":
        from biorelex.models.svm import SvmClassifier

        return SvmClassifier.load(directory)
    raise ConfigError(f"{directory}: unknown model kind {kind!r}")


def default_device() -> str:
    """``cuda`` when a GPU is present, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclasses.dataclass
class Prediction:
    """Probabilities and decisions for a list of examples."""

    examples: list[PairExample]
    probabilities: np.ndarray
    predicted: np.ndarray


class Predictor:
    """Preprocess -> forward -> postprocess, Documents in and Documents out."""

    def __init__(self, classifier: PairClassifier, batch_size: int = 64, candidates: str = "auto") -> None:
        self.classifier = classifier
        self.batch_size = batch_size
        self.candidates = candidates

    @classmethod
    def from_directory(
        cls,
        directory: str | Path,
        num_threads: int | None = None,
        device: str | None = None,
        precision: str = "fp32",
        workers: int = 1,
        **kwargs: Any,
    ) -> Predictor:
        """A predictor over any saved classifier (PyTorch, ensemble, SVM or exported ONNX folder);
        ``num_threads``, ``precision`` and ``workers`` as in :func:`load_classifier`."""
        classifier = load_classifier(
            directory, device, num_threads=num_threads, precision=precision, workers=workers
        )
        return cls(classifier, **kwargs)

    @property
    def labels(self) -> LabelSet:
        return self.classifier.labels

    def disable_progress(self) -> Predictor:
        """No progress bars (a server or a worker calls ``predict`` many times on small batches)."""
        for member in [self.classifier, *getattr(self.classifier, "members", {}).values()]:
            if hasattr(member, "progress"):
                member.progress = False
        return self

    def examples(
        self, documents: Sequence[Document], stats: EncodingStats | None = None, gold: bool = True
    ) -> list[PairExample]:
        """Encoded candidate pairs of ``documents``; ``gold=False`` ignores their relations."""
        config = candidate_config(self.candidates, documents)
        candidates = iter_candidates(documents, config)
        if not gold:
            candidates = (dataclasses.replace(c, label=None) for c in candidates)
        return self.classifier.encode(candidates, stats)

    def predict_examples(self, examples: list[PairExample]) -> Prediction:
        probabilities = self.classifier.predict_proba(examples, self.batch_size)
        predicted = probabilities.argmax(axis=1) if len(examples) else np.zeros(0, dtype=np.int64)
        return Prediction(examples, probabilities, predicted)

    def predict(self, documents: Sequence[Document], keep_negative: bool = False) -> list[Document]:
        """Documents with their relations replaced by the predicted ones (typed, scored)."""
        prediction = self.predict_examples(self.examples(documents, gold=False))
        return self.to_documents(documents, prediction, keep_negative)

    def to_documents(
        self, documents: Sequence[Document], prediction: Prediction, keep_negative: bool = False
    ) -> list[Document]:
        """``documents`` with their relations replaced by ``prediction``'s (negatives dropped unless kept)."""
        found: dict[str, list[Relation]] = {d.id: [] for d in documents}
        for example, probabilities, label in zip(
            prediction.examples, prediction.probabilities, prediction.predicted, strict=True
        ):
            name = self.labels.labels[int(label)]
            if name == NEGATIVE_LABEL and not keep_negative:
                continue
            document_id = example.candidate.document.id
            relations = found[document_id]
            relations.append(
                Relation(
                    id=f"P{len(relations) + 1}",
                    type=name,
                    head=example.candidate.head.id,
                    tail=example.candidate.tail.id,
                    score=round(float(probabilities[int(label)]), 6),
                )
            )
        return [dataclasses.replace(d, relations=tuple(found[d.id])) for d in documents]
