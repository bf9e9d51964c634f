"""Self-training on ChemProt with a fraction of the training labels (issue 7).

Round 0 is the supervised-only model on the labelled fraction (the baseline); rounds 1..N are
students trained on the labelled pairs + the teacher's confident pseudo-labels for the training
pairs left out (labels hidden). Same configuration (configs/chemprot.toml), same epochs and seed
for every round; the reported self-training F1 is the round with the best dev micro-F1.

    python benchmarks/selftrain.py --fraction 0.1 --runs ../runs/selftrain_chemprot_10

With every label (``--fraction 1``) the pool is ``--unlabeled`` files alone, e.g. abstracts
tagged by ``benchmarks/gazetteer_pairs.py``; ``--set`` passes further config overrides (a head
that matches ``--teacher``).

Resumable: re-running the same command skips finished rounds and resumes an interrupted one.
Writes ``benchmarks/results/selftrain_chemprot_<pct>pct_s<seed>.json`` and
``selftrain.chemprot.f1_<pct>pct`` / ``selftrain.chemprot.f1_<pct>pct_supervised`` in summary.json
(e.g. ``f1_10pct``): the means over every seed's results file with the same fraction and
``--teacher`` name (``seeds_<pct>pct`` says how many). ``--tag NAME`` marks a variant (another
threshold, balance or ratio): its file ends in ``_NAME`` and summary.json is not touched;
``--choose-by-dev default NAME`` then puts whichever has the higher mean dev F1 into summary.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR, provenance, update_summary, write_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fraction", type=float, default=0.1, help="Fraction of training documents labelled."
    )
    parser.add_argument("--runs", type=Path, default=None, help="Run directory (outside the repository).")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument(
        "--max-pseudo-ratio", type=float, default=1.0, help="Pseudo-labels per labelled pair."
    )
    parser.add_argument("--max-dev", type=int, default=3000, help="Dev pairs for model and round selection.")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="Round 0 = this finished run (e.g. a longer supervised run on the same fraction) "
        "instead of training one; its name goes into the results file's name.",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="Also train the steps-matched supervised control: the labelled pairs alone for as many "
        "optimiser steps as the selected student took (more epochs), so the gain is not extra steps.",
    )
    parser.add_argument(
        "--unlabeled",
        type=Path,
        action="append",
        default=[],
        help="Files with entities whose candidate pairs join the unlabeled pool "
        "(e.g. from benchmarks/gazetteer_pairs.py; the only pool at --fraction 1).",
    )
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], help="Extra config override, key=value."
    )
    parser.add_argument(
        "--tag",
        default="",
        help="Name of a variant (e.g. a lower --threshold): its results file gets the suffix _TAG "
        "and summary.json is left alone, so a probe never replaces the reported means.",
    )
    parser.add_argument(
        "--choose-by-dev",
        nargs="+",
        metavar="TAG",
        default=None,
        help="Train nothing: of these finished variants ('default' = untagged) of --fraction and "
        "--teacher, put the one with the highest mean dev F1 over its seeds into summary.json.",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    percent = round(100 * args.fraction)
    tag = f"_teacher_{args.teacher.name}" if args.teacher else ""
    if args.choose_by_dev:
        choose_by_dev(percent, tag, args.choose_by_dev)
        return
    if args.runs is None:
        parser.error("--runs is required to train")

    from biorelex.config import load_config
    from biorelex.training.data import training_documents
    from biorelex.training.selftrain import self_train

    overrides = [
        f"data.train_fraction={args.fraction}",
        f"data.max_dev_examples={args.max_dev}",
        f"train.epochs={args.epochs}",
        f"train.seed={args.seed}",
        f"self_train.rounds={args.rounds}",
        f"self_train.threshold={args.threshold}",
    ]
    if args.data_dir:
        overrides.append(f"data.data_dir='{args.data_dir}'")
    if args.unlabeled:
        overrides.append(f"self_train.unlabeled={[str(p.resolve()) for p in args.unlabeled]!r}")
    overrides += args.overrides
    chemprot = BENCH_DIR.parent / "configs" / "chemprot.toml"
    labelled = len(training_documents(load_config(chemprot, overrides).data)[0])  # BLURB: one pair each
    overrides.append(f"self_train.max_pseudo={int(labelled * args.max_pseudo_ratio)}")
    config = load_config(chemprot, overrides)
    report = self_train(config, args.runs, teacher=args.teacher, resume=True)
    if args.control:
        report["control"] = steps_matched_control(chemprot, overrides, report, args)
    command = "python benchmarks/selftrain.py " + " ".join(sys.argv[1:])
    variant = f"_{args.tag}" if args.tag else ""
    path = BENCH_DIR / "results" / f"selftrain_chemprot_{percent}pct_s{args.seed}{tag}{variant}.json"
    record = {"provenance": provenance(command), "overrides": overrides, **report}
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    if previous is not None and _same_rounds(previous, report):
        # every round was read back, not trained: the file keeps the provenance and wall time of the
        # run that trained them, and this call is recorded as a refresh (new report fields only)
        record["refreshed"] = record["provenance"]
        record["provenance"] = previous["provenance"]
        record["wall_seconds"] = previous["wall_seconds"]
    write_json(path, record)
    if not args.tag:  # the summary's means are over the untagged files of this teacher name only
        summarise(percent, tag)
    for entry in report["rounds"]:
        print(
            f"round {entry['round']}: pseudo {entry.get('pseudo_labels')} "
            f"(acc {entry.get('pseudo_accuracy')}), dev {entry['dev_micro_f1']}, test {entry['test_micro_f1']}"
        )
    print(f"selected round {report['selected_round']}, gain {report['gain']}")
    if args.control:
        control = report["control"]
        print(
            f"steps-matched supervised control ({control['epochs']} epochs): dev {control['dev_micro_f1']}, "
            f"test {control['test_micro_f1']}; self-training gain over it {control['selftrain_gain_over_control']}"
        )


def summarise(percent: int, tag: str) -> None:
    """summary.json ``selftrain.chemprot.f1_<pct>pct`` (+ ``_supervised``, ``seeds_<pct>pct``):
    means over every seed's results file with this fraction and teacher tag."""
    seeds = seed_results(percent, tag)
    write_means(percent, seeds, f"default ({_settings(seeds[-1])}), untagged")


def _settings(result: dict) -> str:
    """The pseudo-label settings of a results file, as the summary names its variant."""
    setting = result["setting"]
    return f"threshold {setting['threshold']}, balance {setting.get('balance', 'labeled')}"


def write_means(percent: int, seeds: list[dict], variant: str) -> None:
    """summary.json: the seeds' mean self-training and supervised test F1, their count and variant."""
    for key, field in (
        (f"f1_{percent}pct", "selftrain_test_micro_f1"),
        (f"f1_{percent}pct_supervised", "supervised_test_micro_f1"),
    ):
        update_summary(f"selftrain.chemprot.{key}", round(100 * mean(r[field] for r in seeds), 2))
    update_summary(f"selftrain.chemprot.seeds_{percent}pct", len(seeds))
    update_summary(f"selftrain.chemprot.variant_{percent}pct", variant)


def choose_by_dev(percent: int, teacher_tag: str, variants: list[str]) -> None:
    """Put the variant with the highest mean dev F1 of its selected rounds into summary.json.

    Every variant must have results for the same seeds (at least one), so the means compare like
    with like; test never chooses."""
    means: dict[str, float] = {}
    chosen_seeds: dict[str, list[dict]] = {}
    for variant in variants:
        suffix = teacher_tag + ("" if variant == "default" else f"_{variant}")
        seeds = seed_results(percent, suffix)
        if not seeds:
            sys.exit(f"no results for variant {variant!r}: selftrain_chemprot_{percent}pct_s*{suffix}.json")
        chosen_seeds[variant] = seeds
        means[variant] = mean(selected_round(s)["dev_micro_f1"] for s in seeds)
        print(f"{variant}: {len(seeds)} seeds, mean dev {100 * means[variant]:.2f}")
    seed_sets = {v: sorted(s["setting"]["seed"] for s in chosen_seeds[v]) for v in variants}
    if len({tuple(seeds) for seeds in seed_sets.values()}) != 1:
        sys.exit(f"the variants have results for different seeds ({seed_sets}); run the missing ones first")
    best = max(variants, key=lambda v: means[v])
    seeds = chosen_seeds[best]
    write_means(
        percent,
        seeds,
        f"{best} ({_settings(seeds[0])}), chosen by mean dev F1 over "
        + ", ".join(f"{v} {100 * means[v]:.2f}" for v in variants),
    )
    print(f"summary.json: {best}")


def _same_rounds(previous: dict, report: dict) -> bool:
    """Whether ``report`` has the very rounds of ``previous`` (same scores and seconds): a read-back."""

    def key(rounds: list[dict]) -> list[tuple]:
        return [(r["round"], r.get("seconds"), r.get("dev_micro_f1"), r.get("test_micro_f1")) for r in rounds]

    return key(previous.get("rounds", [])) == key(report["rounds"])


def selected_round(report: dict) -> dict:
    """The dev-selected round's entry of a self-training report."""
    return next(r for r in report["rounds"] if r["round"] == report["selected_round"])


def seed_results(percent: int, tag: str) -> list[dict]:
    """Every seed's results file for this fraction and teacher tag (the summary holds their mean)."""
    pattern = re.compile(rf"selftrain_chemprot_{percent}pct_s\d+{re.escape(tag)}\.json")
    files = sorted(p for p in (BENCH_DIR / "results").iterdir() if pattern.fullmatch(p.name))
    return [json.loads(p.read_text()) for p in files]


def steps_matched_control(
    chemprot: Path, overrides: list[str], report: dict, args: argparse.Namespace
) -> dict:
    """Supervised on the labelled fraction alone with epochs scaled to the selected student's steps."""
    import math

    from biorelex.config import load_config
    from biorelex.training.selftrain import finished_run, run_facts
    from biorelex.training.trainer import train

    selected = selected_round(report)
    epochs = math.ceil(args.epochs * selected["train_pairs"] / report["labeled_pairs"])
    config = load_config(chemprot, [*overrides, f"train.epochs={epochs}"])
    run_dir = args.runs / "control_steps_matched"
    summary = finished_run(run_dir) or train(config, run_dir, resume=True).summary
    facts = run_facts(summary)
    test, chosen = facts["test_micro_f1"], report["selftrain_test_micro_f1"]
    return {
        "epochs": epochs,
        **facts,
        "selftrain_gain_over_control": round(chosen - test, 4) if chosen is not None and test else None,
    }


if __name__ == "__main__":
    main()
