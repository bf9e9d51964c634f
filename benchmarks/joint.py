"""Joint NER+RE benchmarks (Giorgi et al. 2019 on the embedded encoder), resumable, results as JSON.

    python benchmarks/joint.py conll04 [--seed 13]          # train+dev -> test
    python benchmarks/joint.py chemprot|ddi|bc5cdr [--seed 13]   # raw corpora, end to end
    python benchmarks/joint.py ade [--folds 0 1 2 ...]      # 10-fold CV on the SpERT folds
    python benchmarks/joint.py ade --tag shape16 --set joint.word_shape_dim=16   # a variant
    python benchmarks/joint.py --summarise                  # summary.json joint.* + the RESULTS.md table

Run directories live under ``--runs-dir`` (outside the repository). A finished run (or fold) is
not trained again; an interrupted one resumes from its last epoch checkpoint, so the ADE folds can
be spread over several sessions. Results: ``benchmarks/results/joint_<name>.json`` with the command,
commit, machine and date; the ADE file lists the folds done and aggregates only those. ``--tag``
names a variant (its ``--set`` overrides) with its own run directories and results file; a results
file made with other overrides (``--data-dir`` aside) is never reused or extended (it is an error).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_DIR, provenance, update_summary, write_json  # noqa: E402

ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
KEYS = ("ner_f1", "ner_macro_f1", "re_f1_strict", "re_macro_f1_strict", "re_f1_boundaries", "sentences_per_s")


def _train(
    config_path: str, overrides: list[str], output: Path, documents: dict[str, Any] | None = None
) -> dict[str, Any]:
    from biorelex.config import load_config
    from biorelex.training.joint import train_joint

    done = output / "results.json"
    if done.exists():
        summary: dict[str, Any] = json.loads(done.read_text())
        return summary
    config = load_config(ROOT / config_path, overrides)
    return train_joint(config, output, resume=True, documents=documents).summary


SPLIT_RUNS = ("conll04", "chemprot", "ddi", "bc5cdr")


def _check_overrides(path: Path, overrides: list[str]) -> None:
    """Refuse to extend or reuse ``path`` (a results file) when it was made with other overrides.

    Where the corpora are read from (``--data-dir``) does not make another experiment.
    """

    def settings(items: list[str]) -> list[str]:
        return [o for o in items if not o.startswith("data.data_dir=")]

    if path.exists():
        stored = json.loads(path.read_text()).get("overrides", [])
        if settings(stored) != settings(overrides):
            raise SystemExit(
                f"{path} was made with overrides {stored}, not {overrides}: "
                "give this variant its own --tag (or remove the file and its run directories)"
            )


def _variant_args(tag: str, overrides: list[str]) -> str:
    """The command-line part that names a variant: ``--tag`` and its ``--set`` overrides."""
    return f" --tag {tag} " + " ".join(f"--set {o}" for o in overrides) if tag else ""


def _ade_name(tag: str) -> str:
    """The ADE CV's name: ``ade``, or ``ade_<tag>`` for a variant (its results and run directories)."""
    return f"ade_{tag}" if tag else "ade"


def split_run(name: str, runs_dir: Path, seed: int, overrides: list[str], tag: str = "") -> dict[str, Any]:
    """A corpus with its own train/(dev)/test splits, from ``configs/joint_<name>.toml``.

    ``tag`` names a variant (other overrides) so it gets its own run directory and results file.
    """
    overrides = [f"train.seed={seed}", *overrides]
    config = f"configs/joint_{name}.toml"
    run = f"{name}_{tag}_s{seed}" if tag else f"{name}_s{seed}"
    _check_overrides(RESULTS / f"joint_{run}.json", overrides)
    summary = _train(config, overrides, runs_dir / f"joint_{run}")
    command = f"python benchmarks/joint.py {name} --seed {seed}" + _variant_args(tag, overrides[1:])
    result = {
        "run": run,
        "config": config,
        "overrides": overrides,
        **provenance(command),
        "summary": summary,
    }
    write_json(RESULTS / f"joint_{run}.json", result)
    return result


def ade(runs_dir: Path, folds: list[int], overrides: list[str], tag: str = "") -> dict[str, Any]:
    """10-fold CV on the SpERT folds; ``tag`` names a variant (``joint_ade_<tag>.json``).

    ``--data-dir`` reaches this as the ``data.data_dir`` override, like every other setting."""
    from biorelex.config import load_config
    from biorelex.training.data import load_documents

    name = _ade_name(tag)
    path = RESULTS / f"joint_{name}.json"
    _check_overrides(path, overrides)
    data = load_config(ROOT / "configs/joint_ade.toml", overrides).data
    full = load_documents(data, "full") or []
    previous = json.loads(path.read_text())["folds"] if path.exists() else {}
    for fold in folds:
        test = load_documents(data, f"fold{fold}/test") or []
        test_ids = {d.id for d in test}
        train = [d for d in full if d.id not in test_ids]
        if len(train) + len(test) != len(full):
            raise SystemExit(f"fold {fold}: test documents missing from ade_full.json")
        logging.info("ADE fold %d: %d train, %d test sentences", fold, len(train), len(test))
        summary = _train(
            "configs/joint_ade.toml",
            overrides,
            runs_dir / f"joint_{name}" / f"fold{fold}",
            {"train": train, "dev": None, "test": test},
        )
        previous[str(fold)] = {
            **{k: summary["scores"]["test"][k] for k in KEYS},
            "seconds_training": summary["seconds_training"],
            "train_sentences_per_s": summary["train_sentences_per_s"],
            "tagging": summary["tagging"],
            "peak_rss_mb": summary["peak_rss_mb"],
        }
        _write_ade(previous, overrides, tag)
    return json.loads(path.read_text())


def _write_ade(folds: dict[str, Any], overrides: list[str], tag: str = "") -> None:
    done = sorted(folds, key=int)
    aggregate = {
        k: {
            "mean": statistics.fmean(folds[f][k] for f in done),
            "std": statistics.stdev(folds[f][k] for f in done) if len(done) > 1 else 0.0,
        }
        for k in KEYS
    }
    name = _ade_name(tag)
    command = "python benchmarks/joint.py ade --folds " + " ".join(done) + _variant_args(tag, overrides)
    write_json(
        RESULTS / f"joint_{name}.json",
        {
            "run": f"{name}_cv",
            "config": "configs/joint_ade.toml",
            "overrides": overrides,
            **provenance(command),
            "folds_done": [int(f) for f in done],
            "complete": len(done) == 10,
            "aggregate": aggregate,
            "folds": {f: folds[f] for f in done},
        },
    )


# The run summary.json reports per corpus when it is not ``<corpus>_s13``: CoNLL04's reference
# gained the word shapes by the rule of RESULTS.md (the dev probe with them beat the one without).
REFERENCE_RUNS = {"conll04": "conll04_shape16_s13"}


def summarise() -> None:
    """summary.json joint.* keys and the RESULTS.md table rows from results/joint_*.json."""
    rows = []
    for name in SPLIT_RUNS:
        results = [json.loads(p.read_text()) for p in sorted(RESULTS.glob(f"joint_{name}_*s[0-9]*.json"))]
        reference = next((r for r in results if r["run"] == REFERENCE_RUNS.get(name, f"{name}_s13")), None)
        for result in results:
            scores = result["summary"]["scores"]
            test = scores["test"]
            rows.append((result["run"], test, result["summary"]))
            if result is reference:  # tagged variants: extra rows
                update_summary(f"joint.{name}.test.re_f1_strict", round(100 * test["re_f1_strict"], 2))
                update_summary(f"joint.{name}.test.ner_f1", round(100 * test["ner_f1"], 2))
            # RE over the gold mentions (since 2026-12-07): from a run of the reference's settings
            if "test_gold_entities" in scores and reference and result["overrides"] == reference["overrides"]:
                gold = round(100 * scores["test_gold_entities"]["re_f1_strict"], 2)
                update_summary(f"joint.{name}.test.re_f1_strict_gold_entities", gold)
    # ADE's word-shape variant becomes the reported run once all 10 folds are in (RESULTS.md rule
    # of 2026-12-02, fixed before any of its folds finished); a partial variant is printed only.
    ade_results = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("joint_ade*.json"))]
    shapes = f"{_ade_name('shape16')}_cv"
    complete = {r["run"] for r in ade_results if r["complete"]}
    ade_reference = shapes if shapes in complete else REFERENCE_RUNS.get("ade", "ade_cv")
    for result in ade_results:
        aggregate = result["aggregate"]
        if result["run"] == ade_reference:  # other variants: printed only
            update_summary(
                "joint.ade.cv.re_f1_strict", round(100 * aggregate["re_macro_f1_strict"]["mean"], 2)
            )
            update_summary("joint.ade.cv.ner_f1", round(100 * aggregate["ner_macro_f1"]["mean"], 2))
            update_summary("joint.ade.cv.folds_done", len(result["folds_done"]))
        print(f"{result['run']} folds done: {result['folds_done']}")
        for key in KEYS:
            a = aggregate[key]
            print(
                f"  {key}: {100 * a['mean'] if 'f1' in key else a['mean']:.2f} +- {100 * a['std'] if 'f1' in key else a['std']:.2f}"
            )
    print(
        "| run | NER F1 | RE F1 strict | RE F1 boundaries | RE F1 strict, gold entities | train s "
        "| train sent/s | extract sent/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, test, summary in rows:
        gold = summary["scores"].get("test_gold_entities")
        gold_re = f"{100 * gold['re_f1_strict']:.2f}" if gold else "-"
        print(
            f"| {name} | {100 * test['ner_f1']:.2f} | {100 * test['re_f1_strict']:.2f} | "
            f"{100 * test['re_f1_boundaries']:.2f} | {gold_re} | "
            f"{summary['seconds_training']:.0f} | "
            f"{summary['train_sentences_per_s']:.1f} | {test['sentences_per_s']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", nargs="?", choices=[*SPLIT_RUNS, "ade"])
    parser.add_argument("--runs-dir", type=Path, default=Path(os.environ.get("BIORELEX_RUNS", "../runs")))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--folds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--tag", default="", help="name of a variant run (with its --set overrides)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override")
    parser.add_argument("--summarise", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    RESULTS.mkdir(exist_ok=True)
    overrides = list(args.overrides)
    if args.data_dir:
        overrides.append(f"data.data_dir='{args.data_dir}'")
    if args.name in SPLIT_RUNS:
        split_run(args.name, args.runs_dir, args.seed, overrides, args.tag)
    elif args.name == "ade":
        ade(args.runs_dir, args.folds, overrides, args.tag)
    if args.summarise or args.name:
        summarise()


if __name__ == "__main__":
    main()
