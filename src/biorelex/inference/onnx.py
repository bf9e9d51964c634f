"""ONNX export (fp32 or dynamic int8) of a relation classifier, and its onnxruntime backend.

An exported folder holds everything prediction needs and nothing that imports torch:

- ``model.onnx``: encoder + head as one graph, dynamic batch and sequence axes, output ``logits``;
- ``tokenizer/``: ``tokenizer.json`` + ``tokenizer_config.json`` (read with ``tokenizers`` alone);
- ``biorelex.json``: kind ``onnx_relation_classifier``, precision, label set, representation,
  length budget, the graph's inputs and the parity measured against PyTorch at export time.

:func:`biorelex.inference.predictor.load_classifier` recognises the kind, so ``biorelex predict``,
``evaluate`` and the Python API take an exported folder wherever they take a model directory.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biorelex.config import ModelConfig
from biorelex.data.candidates import Candidate
from biorelex.data.examples import EncodingStats, LabelSet, PairExample, pad_arrays
from biorelex.errors import ConfigError
from biorelex.inference.predictor import batched_scores, check_workers, encode_for, threads_per_worker
from biorelex.models.serialization import MODEL_FILE, atomic_directory, load_metadata, write_json

logger = logging.getLogger(__name__)

ONNX_KIND = "onnx_relation_classifier"
GRAPH_FILE = "model.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "head_start", "tail_start", "head_mask", "tail_mask")
PRECISIONS = ("fp32", "int8")


def _dummy_batch(cls_id: int, sep_id: int, pad_id: int, word_id: int) -> dict[str, np.ndarray]:
    """Two pairs of different lengths, enough to trace every input with its dynamic axes."""
    c, s, p, w = cls_id, sep_id, pad_id, word_id
    input_ids = np.array([[c, w, w, w, w, w, w, s], [c, w, w, w, w, s, p, p]], dtype=np.int64)
    attention_mask = (np.arange(8)[None, :] < np.array([[8], [6]])).astype(np.int64)
    head_mask = np.zeros_like(input_ids)
    tail_mask = np.zeros_like(input_ids)
    head_mask[:, 1:3] = 1
    tail_mask[:, 3:5] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "head_start": np.array([1, 1], dtype=np.int64),
        "tail_start": np.array([3, 3], dtype=np.int64),
        "head_mask": head_mask,
        "tail_mask": tail_mask,
    }


def export_onnx(
    model_dir: str | Path,
    output_dir: str | Path,
    quantize: str | None = None,
    opset: int = 17,
) -> dict[str, Any]:
    """Export a saved :class:`~biorelex.models.RelationModel` to ``output_dir``; returns its metadata.

    ``quantize="int8"`` applies onnxruntime's dynamic quantisation (per-channel int8 weights of
    every MatMul, activations quantised on the fly) to the exported graph. The fp32 graph's outputs are compared with
    PyTorch's on a small batch and the maximum absolute difference is stored in the metadata.
    """
    import torch

    from biorelex.models.relation_model import RelationModel

    precision = quantize or "fp32"
    if precision not in PRECISIONS:
        raise ConfigError(f"--quantize must be one of {list(PRECISIONS[1:])}, got {quantize!r}")
    model_dir = Path(model_dir)
    meta = load_metadata(model_dir)
    if meta.get("kind") != "relation_classifier":
        raise ConfigError(
            f"{model_dir} holds a {meta.get('kind')!r} model; only a single relation classifier "
            "(not a binary ensemble, SVM or an already exported folder) can be exported to ONNX"
        )
    model = RelationModel.load(model_dir, "cpu").eval()
    _use_eager_attention(model.encoder)

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(INPUT_NAMES, inputs, strict=True))).logits

    graph = Graph().eval()  # a module left in training mode would be restored to it after export
    tokenizer = model.tokenizer
    pad = tokenizer.pad_token_id or 0
    dummy = _dummy_batch(tokenizer.cls_token_id, tokenizer.sep_token_id, pad, tokenizer.unk_token_id or pad)
    arguments = tuple(torch.from_numpy(dummy[name]) for name in INPUT_NAMES)
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    axes["head_start"] = axes["tail_start"] = {0: "batch"}
    axes["logits"] = {0: "batch"}
    with atomic_directory(output_dir) as temporary:
        fp32_path = temporary / "model.fp32.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                graph,
                arguments,
                str(fp32_path),
                input_names=list(INPUT_NAMES),
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=opset,
                dynamo=False,
            )
        with torch.inference_mode():
            expected = graph(*arguments).numpy()
        parity = float(np.abs(_run_graph(fp32_path, dummy) - expected).max())
        logger.info("ONNX fp32 vs PyTorch on a test batch: max |difference| = %.2e", parity)
        graph_path = temporary / GRAPH_FILE
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # Per-channel int8 weights of the MatMuls; embeddings stay fp32. On the ChemProt dev set
            # (MiniLM teacher) this lost 0.16 micro-F1 against 3.2 for onnxruntime's defaults
            # (per-tensor scales), at the same speed (benchmarks/RESULTS.md).
            quantize_dynamic(
                str(fp32_path),
                str(graph_path),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
            fp32_path.unlink()
        else:
            fp32_path.rename(graph_path)
        model.tokenizer.save_pretrained(temporary / "tokenizer")
        inputs = _graph_inputs(graph_path)
        metadata = {
            "format_version": 1,
            "kind": ONNX_KIND,
            "precision": precision,
            "model": model.config.model_dump(),
            "labels": model.labels.to_dict(),
            "inputs": inputs,
            "opset": opset,
            "parity_fp32_max_abs_diff": parity,
            "source": str(model_dir),
            "versions": _versions(),
        }
        write_json(temporary / MODEL_FILE, metadata)
    size = (Path(output_dir) / GRAPH_FILE).stat().st_size
    logger.info("exported %s (%s, %.1f MB) to %s", model_dir, precision, size / 1e6, output_dir)
    return metadata


def _use_eager_attention(encoder: Any) -> None:
    """Export the plain (eager) attention instead of ``scaled_dot_product_attention``.

    The SDPA export guards every layer's softmax with ``IsNaN``/``Where`` over the
    ``(batch, heads, seq, seq)`` scores (for fully masked rows, which padding on the right never
    produces); on the ChemProt test set those two ops took a fifth of an int8 graph's kernel time.
    The eager graph computes the same function (the export's parity check compares it with
    PyTorch).
    """
    setter = getattr(encoder, "set_attn_implementation", None)
    if setter is None:
        return
    try:
        setter("eager")
    except (ValueError, ImportError) as exc:  # an architecture without an eager path keeps its own
        logger.info("attention implementation kept (%s)", exc)


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import torch

    return {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


def _graph_inputs(path: Path) -> list[str]:
    import onnxruntime

    return [i.name for i in onnxruntime.InferenceSession(str(path)).get_inputs()]


def _run_graph(path: Path, batch: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: batch[i.name] for i in session.get_inputs()}
    result: np.ndarray = session.run(["logits"], feed)[0]
    return result


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32."""
    shifted = logits.astype(np.float32) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return result


class OnnxClassifier:
    """An exported folder behind the :class:`~biorelex.inference.predictor.PairClassifier` protocol."""

    def __init__(
        self,
        directory: Path,
        session: Any,
        tokenizer: Any,
        labels: LabelSet,
        metadata: dict[str, Any],
        progress: bool = True,
        workers: int = 1,
    ) -> None:
        self.directory = directory
        self.session = session
        self.tokenizer = tokenizer
        self.labels = labels
        self.metadata = metadata
        self.config = ModelConfig.model_validate(metadata["model"])  # what encode_for reads
        self.progress = progress
        self.workers = check_workers(workers)
        self.input_names = [i.name for i in session.get_inputs()]

    @classmethod
    def load(
        cls, directory: str | Path, num_threads: int | None = None, progress: bool = True, workers: int = 1
    ) -> OnnxClassifier:
        """Open ``model.onnx`` with onnxruntime (CPU; ``num_threads`` intra-op threads if given,
        shared among ``workers`` concurrent batches: one session, whose ``run`` is thread-safe)."""
        import onnxruntime

        from biorelex.inference.tokenizer import FastTokenizer

        directory = Path(directory)
        metadata = load_metadata(directory)
        if metadata.get("kind") != ONNX_KIND:
            raise ConfigError(f"{directory} is not an exported ONNX folder (kind {metadata.get('kind')!r})")
        graph = directory / GRAPH_FILE
        if not graph.exists():
            raise ConfigError(f"{directory} has no {GRAPH_FILE}; re-run `biorelex export`")
        options = onnxruntime.SessionOptions()
        threads = threads_per_worker(num_threads, workers)
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        tokenizer = FastTokenizer.from_directory(directory / "tokenizer")
        labels = LabelSet.from_dict(metadata["labels"])
        return cls(directory, session, tokenizer, labels, metadata, progress, workers)

    @property
    def precision(self) -> str:
        return str(self.metadata.get("precision", "fp32"))

    def encode(
        self, candidates: Iterable[Candidate], stats: EncodingStats | None = None
    ) -> list[PairExample]:
        return encode_for(self, self.labels, candidates, stats)

    def logits(self, examples: Sequence[PairExample], batch_size: int = 64) -> np.ndarray:
        """Raw ``(pairs, classes)`` logits in the order given (length-sorted batches inside)."""
        pad = self.tokenizer.pad_token_id

        def forward(batch_examples: list[PairExample]) -> np.ndarray:
            arrays = pad_arrays(batch_examples, pad)
            result: np.ndarray = self.session.run(["logits"], {n: arrays[n] for n in self.input_names})[0]
            return result

        return batched_scores(
            examples,
            len(self.labels.labels),
            batch_size,
            forward,
            self.progress,
            "predict (onnx)",
            self.workers,
        )

    def predict_proba(self, examples: Sequence[PairExample], batch_size: int = 64) -> np.ndarray:
        return softmax(self.logits(examples, batch_size))

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Copy the exported folder (with ``extra`` merged into its metadata)."""
        with atomic_directory(directory) as temporary:
            shutil.copytree(self.directory, temporary, dirs_exist_ok=True)
            write_json(temporary / MODEL_FILE, {**self.metadata, **(extra or {})})
