"""Helpers shared by the benchmark scripts: provenance and the summary file."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SUMMARY = BENCH_DIR / "summary.json"


def _git_state() -> str:
    """HEAD, with ``+dirty`` when src/, configs/ or the benchmark scripts have uncommitted edits."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=BENCH_DIR
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", ":/src", ":/configs", ":/benchmarks/*.py"],
                capture_output=True,
                text=True,
                cwd=BENCH_DIR,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


# Taken when the benchmark process starts: the code that runs, even if HEAD moves before it ends.
_STARTED_AT = _git_state()


def provenance(command: str) -> dict[str, Any]:
    """Command, commit (as the process started; for a resumed run, its last leg), machine and date."""
    return {
        "command": command,
        "commit": _STARTED_AT,
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, Python {platform.python_version()}".replace(
            "  ", " "
        ),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (biorelex's ``atomic_write``: temporary file, then rename)."""
    from biorelex.data.formats._io import atomic_write

    with atomic_write(path) as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def update_summary(key: str, value: Any) -> None:
    """Set a dotted key (``corpus.chemprot.candidates.train``) in benchmarks/summary.json."""
    summary = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    node = summary
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    write_json(SUMMARY, summary)
