"""Original vs domain-adapted encoder: the same classifier fine-tuned from each (issue 7).

Each ``--encoder NAME=PATH`` is fine-tuned with the same configuration, budget and seeds
(``configs/<corpus>.toml`` + ``--set`` overrides); an adapted encoder's pre-training tokens are
read from its ``pretrain.json``, so the results give F1 against pre-training tokens.

    python benchmarks/domain.py --corpus chemprot --runs ../runs/domain \\
        --encoder original=embedded:all-MiniLM-L6-v2 --encoder adapted=../runs/pretrain_pubmed \\
        --seeds 13 --set data.train_fraction=0.1 --set data.max_dev_examples=3000 --set train.epochs=4

Resumable: a run directory with ``results.json`` is not trained again (its stored model, data and
train settings must equal the ones this command would use, else it is an error; so a linked-in
run of another benchmark, e.g. a self-training round 0, counts only when it is the same run). Writes
``benchmarks/results/domain_<corpus>[_<tag>].json``; when the encoders labelled ``original`` and
``adapted`` are both in the command, also ``domain.<corpus>.test.micro_f1_{adapted,original}``
(means over seeds) and ``domain.pretrain.tokens`` in summary.json (a command with other labels,
e.g. ``adapted_3m``, is a curve point and leaves summary.json alone).

``--curve`` trains nothing: it gathers every ``results/domain_<corpus>_*.json`` with the same
``--set`` overrides (one fine-tuning budget) and writes test F1 against pre-training tokens
(one point per encoder: mean, std and every seed's score; each run counted once) to ``domain_<corpus>_curve.json`` and ``.png``.

    python benchmarks/domain.py --corpus chemprot --curve --set data.train_fraction=0.1 \
        --set data.max_dev_examples=3000 --set train.epochs=8
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR, provenance, update_summary, write_json  # noqa: E402


def pretrain_tokens(encoder: str) -> int:
    """Tokens of continued pre-training behind ``encoder`` (0 for an encoder never adapted here).

    An interpolated encoder (``biorelex interpolate``) carries the tokens of its adapted half.
    """
    from biorelex.models.encoder import resolve_encoder

    folder = Path(resolve_encoder(encoder))
    if (folder / "interpolate.json").exists():
        return int(json.loads((folder / "interpolate.json").read_text()).get("adapted_pretrain_tokens") or 0)
    record = folder / "pretrain.json"
    return int(json.loads(record.read_text())["tokens"]) if record.exists() else 0


def mean_std(scores: list[float]) -> tuple[float, float | None]:
    """Mean and sample std over seeds, rounded to 2 decimals (std is None for one seed)."""
    std = round(statistics.stdev(scores), 2) if len(scores) > 1 else None
    return round(statistics.mean(scores), 2), std


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["chemprot", "ddi"], default="chemprot")
    parser.add_argument("--runs", type=Path)
    parser.add_argument("--encoder", action="append", default=[], help="NAME=PATH (repeatable).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[13])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--tag", default="", help="Suffix of the results file (domain_<corpus>_<tag>.json), one per budget."
    )
    parser.add_argument(
        "--curve", action="store_true", help="Plot F1 against pre-training tokens; trains nothing."
    )
    args = parser.parse_args()
    if args.curve:
        curve(args.corpus, args.overrides)
        return
    if args.runs is None or not args.encoder:
        parser.error("--runs and at least one --encoder are required (or --curve)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    from biorelex.config import load_config
    from biorelex.training.trainer import train

    results: list[dict[str, Any]] = []
    for spec in args.encoder:
        name, _, encoder = spec.partition("=")
        for seed in args.seeds:
            config = load_config(
                BENCH_DIR.parent / "configs" / f"{args.corpus}.toml",
                [*args.overrides, f"model.encoder='{encoder}'", f"train.seed={seed}"],
            )
            run = args.runs / f"{args.corpus}_{name}_s{seed}"
            stored = run / "results.json"
            if stored.exists():
                previous = json.loads((run / "config.json").read_text())
                wanted = json.loads(json.dumps(config.model_dump()))
                if any(previous.get(k) != wanted[k] for k in ("model", "data", "train")):
                    raise SystemExit(f"{run} was trained with another config; remove it or choose --runs")
                summary = json.loads(stored.read_text())
            else:
                summary = train(config, run, resume=(run / "checkpoint").exists()).summary
            results.append(
                {
                    "name": name,
                    "encoder": encoder,
                    "pretrain_tokens": pretrain_tokens(encoder),
                    "seed": seed,
                    "dev_micro_f1": summary["scores"].get("dev", {}).get("micro_f1"),
                    "test_micro_f1": summary["scores"]["test"]["micro_f1"],
                    "seconds": summary["wall_seconds"],
                    "run": str(run),
                }
            )
            print(f"{name} seed {seed}: test micro-F1 {100 * results[-1]['test_micro_f1']:.2f}")
    by_name: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["name"] for r in results):
        scores = [100 * r["test_micro_f1"] for r in results if r["name"] == name]
        mean, std = mean_std(scores)
        by_name[name] = {
            "mean": mean,
            "std": std,
            "seeds": len(scores),
            "pretrain_tokens": next(r["pretrain_tokens"] for r in results if r["name"] == name),
        }
    command = "python benchmarks/domain.py " + " ".join(sys.argv[1:])
    write_json(
        BENCH_DIR / "results" / f"domain_{args.corpus}{'_' + args.tag if args.tag else ''}.json",
        {
            "provenance": provenance(command),
            "setting": "gold entities, test split; same head, config and budget for every encoder",
            "overrides": args.overrides,
            "runs": results,
            "summary": by_name,
        },
    )
    if {"original", "adapted"} <= by_name.keys():  # other labels are curve points, not the pair
        for name in ("original", "adapted"):
            update_summary(f"domain.{args.corpus}.test.micro_f1_{name}", by_name[name]["mean"])
        update_summary("domain.pretrain.tokens", by_name["adapted"]["pretrain_tokens"])
    print(json.dumps(by_name, indent=1))


def curve(corpus: str, overrides: list[str]) -> None:
    """Test micro-F1 against pre-training tokens over the results files of one budget."""
    runs: dict[str, dict[str, Any]] = {}
    sources = []
    for path in sorted((BENCH_DIR / "results").glob(f"domain_{corpus}_*.json")):
        if path.name.endswith("_curve.json"):
            continue
        data = json.loads(path.read_text())
        if data["overrides"] != overrides:
            continue
        sources.append(path.name)
        for run in data["runs"]:
            runs[f"{run['encoder']}/{run['seed']}"] = run  # later files win
    if not runs:
        raise SystemExit(f"no results/domain_{corpus}_*.json with overrides {overrides}")
    by_encoder: dict[str, list[dict[str, Any]]] = {}
    for run in sorted(runs.values(), key=lambda r: (r["pretrain_tokens"], r["seed"])):
        by_encoder.setdefault(run["encoder"], []).append(run)
    points = []
    for encoder, chosen in by_encoder.items():
        scores = [100 * r["test_micro_f1"] for r in chosen]
        mean, std = mean_std(scores)
        points.append(
            {
                "encoder": encoder,
                "pretrain_tokens": chosen[0]["pretrain_tokens"],
                "test_micro_f1_mean": mean,
                "test_micro_f1_std": std,
                "seeds": [r["seed"] for r in chosen],
                "scores": [round(x, 2) for x in scores],
            }
        )
    stem = BENCH_DIR / "results" / f"domain_{corpus}_curve"
    command = "python benchmarks/domain.py " + " ".join(sys.argv[1:])
    write_json(
        stem.with_suffix(".json"),
        {"provenance": provenance(command), "overrides": overrides, "sources": sources, "points": points},
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from biorelex.evaluation.metrics import save_figure

    figure, axes = plt.subplots(figsize=(6, 4))
    xs = [p["pretrain_tokens"] / 1e6 for p in points]
    axes.errorbar(
        xs,
        [p["test_micro_f1_mean"] for p in points],
        yerr=[p["test_micro_f1_std"] or 0 for p in points],
        fmt="o-",
        capsize=3,
    )
    for point, x in zip(points, xs, strict=True):
        for score in point["scores"]:
            axes.plot(x, score, ".", color="grey")
        name = point["encoder"].rstrip("/").rsplit("/", 1)[-1]  # tell same-token encoders apart
        axes.annotate(
            name, (x, point["test_micro_f1_mean"]), fontsize=6, xytext=(4, 4), textcoords="offset points"
        )
    axes.set_xlabel("continued pre-training tokens (millions)")
    axes.set_ylabel(f"{corpus} test micro-F1")
    axes.set_title(f"{corpus}: " + ", ".join(overrides), fontsize=8)
    figure.tight_layout()
    save_figure(figure, stem.with_suffix(".png"))
    plt.close(figure)
    print(json.dumps(points, indent=1))


if __name__ == "__main__":
    main()
