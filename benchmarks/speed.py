"""Real-time inference benchmark on the ChemProt BLURB test set, every backend side by side.

    python benchmarks/speed.py --teacher RUN/model --student STUDENT/model [STUDENT2/model] [--repeats 3]

Configurations (each measured in a fresh child process, rounds interleaved so machine noise hits
all of them alike; medians over ``--repeats`` rounds):

1. ``pipeline``: the peer baseline, ``transformers.pipeline("text-classification")`` at its
   defaults over the BLUE-masked sentences. Its model is the teacher's fine-tuned encoder under an
   ``AutoModelForSequenceClassification`` head; unless ``--pipeline-model`` names a trained one
   (benchmarks/peer_hf.py), that head is untrained, so only its speed is reported, not its F1.
2. ``torch_fp32``: biorelex's predictor on the teacher in PyTorch; ``torch_bf16`` the same under
   bfloat16 autocast (``--precision bf16``).
3. ``onnx_fp32`` / 4. ``onnx_int8``: the teacher exported with ``biorelex export`` (dynamic int8).
5. ``student_torch_fp32``, ``student_torch_bf16``, ``student_onnx_fp32``, ``student_onnx_int8``:
   the distilled student.
   Further ``--student`` models (e.g. a 2-layer one) are measured as ``student_l<layers>_*``
   (``student_l<layers>_ffn<size>_*`` when their feed-forward blocks are pruned).
6. ``*_onnx_int8_w<N>``: every int8 graph again with ``--workers`` concurrent batches (one
   onnxruntime session, the threads shared among them: ``--threads // --workers`` each) and
   ``--workers-batch-size`` pairs per batch (``biorelex predict --workers N --batch-size B``).

Each run times everything from reading the test file to writing the predicted Documents (JSONL);
model loading is timed separately. Reported: pairs/s, micro-F1, peak RSS of the child, model size
on disk, and achieved GFLOP/s of the encoder's matrix work (unpadded tokens) against the CPU's
fp32 peak (cores x clock x FLOPs per cycle; see ``cpu_peak``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from _common import provenance, update_summary, write_json  # noqa: E402

DEFAULT_DATA = "../shared/data/chemprot/blurb/test.jsonl"
RESULTS_DIR = BENCH / "results"


def cpu_peak() -> dict[str, Any]:
    """fp32 peak of this CPU: cores x clock x FLOPs/cycle/core.

    FLOPs/cycle: 64 with AVX-512 (two 512-bit FMA pipes: 2 x 16 lanes x 2), 32 with AVX2 + FMA,
    16 otherwise. For AMD cores that execute AVX-512 on 256-bit pipes (Zen 4) the true peak is
    half of the AVX-512 figure, so the utilisation quoted against it is a lower bound.
    """
    flags: set[str] = set()
    mhz = 0.0
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            elif line.startswith("cpu MHz") and not mhz:
                mhz = float(line.split(":", 1)[1])
            elif line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    per_cycle = 64 if "avx512f" in flags else 32 if {"avx2", "fma"} <= flags else 16
    cores = len(os.sched_getaffinity(0))
    return {
        "model": model,
        "cores": cores,
        "mhz": mhz,
        "flops_per_cycle_per_core": per_cycle,
        "peak_gflops": round(cores * mhz * 1e6 * per_cycle / 1e9, 1),
    }


def encoder_flops(lengths: list[int], config: dict[str, Any]) -> float:
    """Multiply-add FLOPs (x2) of the encoder's layers over unpadded sequences of ``lengths``.

    Per layer and sequence of n tokens: Q, K, V and output projections 8nH^2, feed-forward 4nHI,
    attention scores and weighted sum 4n^2H. Embeddings, softmax, norms and the head are ignored.
    """
    hidden, inner, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    total = 0.0
    for n in lengths:
        total += layers * (8 * n * hidden**2 + 4 * n * hidden * inner + 4 * n * n * hidden)
    return total


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix in {".onnx", ".safetensors", ".bin"}]
    return round(sum(p.stat().st_size for p in weights) / 1e6, 1)


# ---------------------------------------------------------------- child processes (one measurement)


def _child_biorelex(spec: dict[str, Any]) -> dict[str, Any]:
    from biorelex.data import formats
    from biorelex.evaluation.metrics import micro_prf
    from biorelex.inference.predictor import Predictor, load_classifier

    started = time.perf_counter()
    classifier = load_classifier(
        spec["model"],
        "cpu",
        progress=False,
        num_threads=spec["threads"],
        precision=spec["precision"],
        workers=spec.get("workers", 1),
    )
    predictor = Predictor(classifier, batch_size=spec["batch_size"], candidates="pairs")
    loaded = time.perf_counter()
    documents = list(formats.read(spec["data"]))
    examples = predictor.examples(documents)
    if spec.get("limit"):
        examples = examples[: spec["limit"]]
    prediction = predictor.predict_examples(examples)
    formats.write(predictor.to_documents(documents, prediction), spec["output"], "jsonl")
    finished = time.perf_counter()
    labels = predictor.labels
    names = labels.labels
    gold = [names[e.label] for e in examples]
    predicted = [names[int(i)] for i in prediction.predicted]
    _, _, f1 = micro_prf(np.array(gold), np.array(predicted), np.array(labels.positive))
    return {
        "pairs": len(examples),
        "load_seconds": loaded - started,
        "seconds": finished - loaded,
        "micro_f1": f1,
        "lengths": [len(e) for e in examples],
        "torch_imported": "torch" in sys.modules,
    }


def _child_pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    import dataclasses

    import torch
    from transformers import pipeline

    from biorelex.data import formats
    from biorelex.data.examples import NEGATIVE_LABEL, candidate_config, iter_candidates
    from biorelex.data.representation import represent
    from biorelex.document import Relation
    from biorelex.evaluation.metrics import micro_prf

    torch.set_num_threads(spec["threads"])
    started = time.perf_counter()
    classify = pipeline("text-classification", model=spec["model"], device=-1)
    loaded = time.perf_counter()
    documents = list(formats.read(spec["data"]))
    candidates = list(iter_candidates(documents, candidate_config("pairs", documents)))
    if spec.get("limit"):
        candidates = candidates[: spec["limit"]]
    texts = [represent(c, "mask").text for c in candidates]
    outputs = classify(texts, truncation=True)
    found: dict[str, list[Relation]] = {d.id: [] for d in documents}
    for candidate, output in zip(candidates, outputs, strict=True):
        if output["label"] == NEGATIVE_LABEL:
            continue
        relations = found[candidate.document.id]
        relations.append(
            Relation(
                f"P{len(relations) + 1}",
                output["label"],
                candidate.head.id,
                candidate.tail.id,
                score=output["score"],
            )
        )
    written = [dataclasses.replace(d, relations=tuple(found[d.id])) for d in documents]
    formats.write(written, spec["output"], "jsonl")
    finished = time.perf_counter()
    tokenizer = classify.tokenizer
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True)["input_ids"]]
    f1 = None
    if spec.get("positive"):
        gold = [c.label or NEGATIVE_LABEL for c in candidates]
        _, _, f1 = micro_prf(
            np.array(gold), np.array([o["label"] for o in outputs]), np.array(spec["positive"])
        )
    return {
        "pairs": len(candidates),
        "load_seconds": loaded - started,
        "seconds": finished - loaded,
        "micro_f1": f1,
        "lengths": lengths,
        "torch_imported": True,
    }


def _peak_rss_mb() -> float:
    """This process's peak RSS. ``VmHWM`` starts afresh at exec; ``ru_maxrss`` would carry the
    parent's peak over on Linux, so it is only the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(spec: dict[str, Any]) -> None:
    result = _child_pipeline(spec) if spec["kind"] == "pipeline" else _child_biorelex(spec)
    result["peak_rss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(result))


# ---------------------------------------------------------------- parent: prepare, measure, report


def _pipeline_model(teacher: Path, work: Path) -> Path:
    """The teacher's fine-tuned encoder under a sequence-classification head (same labels)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from biorelex.models.serialization import load_metadata

    target = work / "pipeline_model"
    if (target / "config.json").exists():
        return target
    labels = load_metadata(teacher)["labels"]["labels"]
    model = AutoModelForSequenceClassification.from_pretrained(
        teacher / "encoder",
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(teacher / "encoder").save_pretrained(target)
    return target


def _export(model: Path, target: Path, quantize: str | None) -> Path:
    from biorelex.inference.onnx import export_onnx

    if not (target / "biorelex.json").exists():
        export_onnx(model, target, quantize)
    return target


def _measure(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    result["pairs_per_s"] = result["pairs"] / result["seconds"]
    print(f"  {name}: {result['pairs_per_s']:.1f} pairs/s, F1 {result['micro_f1']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--teacher", type=Path, help="the fine-tuned biorelex model (PyTorch directory)")
    parser.add_argument(
        "--student",
        type=Path,
        nargs="*",
        default=[],
        help="distilled students (PyTorch directories); the first is the headline student, the others "
        "are measured as student_l<layers>[_ffn<size>]_*",
    )
    parser.add_argument("--pipeline-model", type=Path, help="a trained HF sequence-classification model")
    parser.add_argument("--data", default=DEFAULT_DATA, help="ChemProt BLURB test file")
    parser.add_argument("--work", type=Path, default=Path("../runs/speed"), help="exports and outputs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipeline-repeats", type=int, default=0, help="rounds for the (slow) pipeline")
    parser.add_argument("--resume", action="store_true", help="reuse the measurements already in --work")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="concurrent batches of the *_onnx_int8_w<N> rows (0: no such rows)",
    )
    parser.add_argument("--workers-batch-size", type=int, default=16, help="pairs per batch of those rows")
    parser.add_argument("--limit", type=int, default=0, help="first N pairs only (smoke runs)")
    parser.add_argument("--only", nargs="*", help="measure only these configurations")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "speed_chemprot.json")
    parser.add_argument("--no-summary", action="store_true", help="do not update summary.json")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    if args.teacher is None:
        parser.error("--teacher is required")
    command = "python benchmarks/speed.py " + " ".join(sys.argv[1:])
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    models: dict[str, tuple[str, Path]] = {
        "pipeline": ("pipeline", args.pipeline_model or _pipeline_model(args.teacher, work)),
        "torch_fp32": ("biorelex", args.teacher),
        "torch_bf16": ("biorelex", args.teacher),
        "onnx_fp32": ("biorelex", _export(args.teacher, work / "teacher_onnx_fp32", None)),
        "onnx_int8": ("biorelex", _export(args.teacher, work / "teacher_onnx_int8", "int8")),
    }
    for index, student in enumerate(args.student):
        prefix = "student" if index == 0 else _student_name(student, args.teacher)
        models[f"{prefix}_torch_fp32"] = ("biorelex", student)
        models[f"{prefix}_torch_bf16"] = ("biorelex", student)
        models[f"{prefix}_onnx_fp32"] = ("biorelex", _export(student, work / f"{prefix}_onnx_fp32", None))
        models[f"{prefix}_onnx_int8"] = ("biorelex", _export(student, work / f"{prefix}_onnx_int8", "int8"))
    if args.workers > 1:
        for name in [n for n in models if n.endswith("onnx_int8")]:
            models[f"{name}_w{args.workers}"] = models[name]
    if args.only:
        models = {k: v for k, v in models.items() if k in args.only}
    # (workers, batch size) of each row: the concurrent-batch rows, or 1 x --batch-size
    batching = {
        name: (args.workers, args.workers_batch_size)
        if name.endswith(f"onnx_int8_w{args.workers}")
        else (1, args.batch_size)
        for name in models
    }
    from biorelex.models.serialization import load_metadata

    positive = load_metadata(args.teacher)["labels"]["positive"]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in models}
    partial = work / "speed_runs.json"  # every measurement is kept here, so a stopped run resumes
    if args.resume and partial.exists():
        stored = json.loads(partial.read_text())
        if stored.get("limit") == args.limit and stored.get("data") == args.data:
            runs.update({k: v for k, v in stored["runs"].items() if k in models})
            print(f"resuming: {sum(map(len, runs.values()))} measurements reloaded from {partial}")
    for round_index in range(args.repeats):
        print(f"round {round_index + 1}/{args.repeats}", flush=True)
        for name, (kind, model) in models.items():
            wanted = args.pipeline_repeats if kind == "pipeline" and args.pipeline_repeats else args.repeats
            if len(runs[name]) > round_index or round_index >= wanted:
                continue
            spec = {
                "kind": kind,
                "model": str(model),
                "data": str(Path(args.data).resolve()),
                "output": str(work / f"{name}.predicted.jsonl"),
                "threads": args.threads,
                "workers": batching[name][0],
                "batch_size": batching[name][1],
                "limit": args.limit,
                "positive": positive if kind == "pipeline" and args.pipeline_model else None,
                "precision": "bf16" if name.endswith("torch_bf16") else "fp32",
            }
            runs[name].append(_measure(name, spec))
            write_json(partial, {"limit": args.limit, "data": args.data, "runs": runs})
    peak = cpu_peak()
    table: dict[str, Any] = {}
    for name, (kind, model) in models.items():
        measured = runs[name]
        encoder_dir = model if kind == "pipeline" else _encoder_dir(model)
        config = json.loads((encoder_dir / "config.json").read_text())
        flops = encoder_flops(measured[0]["lengths"], config)
        seconds = statistics.median(r["seconds"] for r in measured)
        table[name] = {
            "model": str(model),
            "pairs": measured[0]["pairs"],
            "pairs_per_s": round(statistics.median(r["pairs_per_s"] for r in measured), 2),
            "pairs_per_s_runs": [round(r["pairs_per_s"], 2) for r in measured],
            "seconds_median": round(seconds, 2),
            "load_seconds_median": round(statistics.median(r["load_seconds"] for r in measured), 2),
            "micro_f1": measured[0]["micro_f1"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in measured),
            "model_size_mb": _size_mb(model),
            "encoder_layers": config["num_hidden_layers"],
            "gflop": round(flops / 1e9, 1),
            "achieved_gflops": round(flops / seconds / 1e9, 1),
            "peak_fraction": round(flops / seconds / 1e9 / peak["peak_gflops"], 3),
            "torch_imported": measured[0]["torch_imported"],
            "workers": batching[name][0],
            "batch_size": batching[name][1],
        }
    baseline = table.get("pipeline", {}).get("pairs_per_s")
    for row in table.values():
        row["speedup_vs_pipeline"] = round(row["pairs_per_s"] / baseline, 2) if baseline else None
    report = {
        **provenance(command),
        "data": args.data,
        "threads": args.threads,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "workers_batch_size": args.workers_batch_size,
        "repeats": args.repeats,
        "pipeline_repeats": args.pipeline_repeats or args.repeats,
        "limit": args.limit,
        "cpu": peak,
        "pipeline_f1_note": None
        if args.pipeline_model
        else "pipeline head untrained (teacher's encoder + new classifier): speed only, F1 not meaningful",
        "configurations": table,
        **_headlines(table),
    }
    write_json(args.out, report)
    _print_table(report)
    if not args.no_summary and not args.limit:
        for key, value in report["summary"].items():
            update_summary(key, value)


def _student_name(student: Path, teacher: Path) -> str:
    """``student_l<layers>``, plus ``_ffn<size>`` when its feed-forward blocks are pruned."""
    config = json.loads((_encoder_dir(student) / "config.json").read_text())
    inner = json.loads((_encoder_dir(teacher) / "config.json").read_text())["intermediate_size"]
    pruned = f"_ffn{config['intermediate_size']}" if config["intermediate_size"] != inner else ""
    return f"student_l{config['num_hidden_layers']}{pruned}"


def _encoder_dir(model: Path) -> Path:
    """Where the encoder's config.json is: the model's ``encoder/``, or the exported model's source's."""
    return _onnx_source_encoder(model) if (model / "model.onnx").exists() else model / "encoder"


def _onnx_source_encoder(model: Path) -> Path:
    from biorelex.models.serialization import load_metadata

    return Path(load_metadata(model)["source"]) / "encoder"


def _headlines(table: dict[str, Any]) -> dict[str, Any]:
    """Best configuration = most pairs/s with F1 within 1.0 point of the fp32 teacher."""
    fp32 = table.get("torch_fp32", {}).get("micro_f1")
    summary: dict[str, Any] = {}
    if "pipeline" in table:
        summary["speed.chemprot.pipeline_pairs_per_s"] = table["pipeline"]["pairs_per_s"]
    if fp32 is None:
        return {"summary": summary}
    summary["speed.chemprot.fp32_f1"] = round(100 * fp32, 2)
    eligible = {
        name: row
        for name, row in table.items()
        if name != "pipeline" and row["micro_f1"] is not None and 100 * (fp32 - row["micro_f1"]) <= 1.0
    }
    best = max(eligible, key=lambda name: eligible[name]["pairs_per_s"])
    summary["speed.chemprot.best_config"] = best
    summary["speed.chemprot.best_pairs_per_s"] = eligible[best]["pairs_per_s"]
    summary["speed.chemprot.best_f1"] = round(100 * eligible[best]["micro_f1"], 2)
    if "onnx_int8" in table and "onnx_fp32" in table:
        summary["speed.int8.f1_loss"] = round(
            100 * (table["onnx_fp32"]["micro_f1"] - table["onnx_int8"]["micro_f1"]), 2
        )
    if "student_torch_fp32" in table:
        student = table["student_torch_fp32"]
        summary["speed.student.speedup"] = round(
            student["pairs_per_s"] / table["torch_fp32"]["pairs_per_s"], 2
        )
        summary["speed.student.f1_loss"] = round(100 * (fp32 - student["micro_f1"]), 2)
    return {"best": best, "summary": summary}


def _print_table(report: dict[str, Any]) -> None:
    print(
        "| configuration | pairs/s (median) | x pipeline | micro-F1 | peak RSS MB | size MB | GFLOP/s (% of peak) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in report["configurations"].items():
        f1 = f"{100 * row['micro_f1']:.2f}" if row["micro_f1"] is not None else "n/a"
        print(
            f"| {name} | {row['pairs_per_s']:.1f} | {row['speedup_vs_pipeline']} | {f1} | "
            f"{row['peak_rss_mb']:.0f} | {row['model_size_mb']} | "
            f"{row['achieved_gflops']} ({100 * row['peak_fraction']:.1f}%) |"
        )
    print(json.dumps(report.get("summary", {}), indent=1))


if __name__ == "__main__":
    main()
