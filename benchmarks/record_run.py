"""Commit a finished hand-run ``biorelex train`` as a benchmark result.

    python benchmarks/record_run.py RUN_DIR --name NAME --command "biorelex train ..." --commit SHA

Some measurements are single ``biorelex train`` commands (for instance a supervised control with
one override). The run directory stays outside the repository; this copies its ``results.json``
and ``metrics.jsonl`` into ``benchmarks/results/NAME.json`` with the command that made it, the commit
it ran at (given, since the run may predate HEAD), the machine, and the date its results were written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_DIR, provenance, write_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--name", required=True, help="results/NAME.json")
    parser.add_argument("--command", required=True, help="the command that trained the run")
    parser.add_argument("--commit", required=True, help="the commit the run started at")
    parser.add_argument("--note", default=None, help="conditions worth keeping (e.g. shared cores)")
    args = parser.parse_args()
    results = args.run_dir / "results.json"
    if not results.exists():
        raise SystemExit(f"{results}: missing; is {args.run_dir} a finished `biorelex train` run?")
    metrics = args.run_dir / "metrics.jsonl"
    history = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    written = dt.datetime.fromtimestamp(results.stat().st_mtime, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {
        "name": args.name,
        **provenance(args.command),
        "commit": args.commit,
        "date": written,
        "recorded": provenance(" ".join(["python", *sys.argv])),
        "note": args.note,
        "summary": json.loads(results.read_text(encoding="utf-8")),
        "history": history,
    }
    out = BENCH_DIR / "results" / f"{args.name}.json"
    write_json(out, record)
    test = record["summary"]["scores"].get("test", {})
    print(f"{out}: test micro-F1 {100 * test.get('micro_f1', float('nan')):.2f}")


if __name__ == "__main__":
    main()
