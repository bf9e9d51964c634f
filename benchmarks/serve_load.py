"""HTTP API load test on loopback: ``biorelex serve`` with real models, 16 concurrent clients.

    python benchmarks/serve_load.py --model ../runs/joint_ade/fold0/model \
        --classifier ../runs/chemprot_best_s13/model [--requests 2000 --clients 16]

Starts the server as a subprocess, warms it up, then POSTs one sentence per request to
``/v1/extract`` (sentences of ../shared/data/unlabeled abstracts) and one ChemProt test pair per
request to ``/v1/classify``; every response must be 200 with its documents. Writes
``benchmarks/results/serve_load.json`` (command, commit, machine, date) and ``serve.*`` in
summary.json.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_DIR, provenance, update_summary, write_json  # noqa: E402

from biorelex.serving.loadtest import run_load, wait_until_healthy  # noqa: E402


def sentences(data_dir: Path, n: int) -> list[str]:
    found: list[str] = []
    with (data_dir / "unlabeled" / "abstracts_cased.txt").open(encoding="utf-8") as handle:
        for line in handle:
            found += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line.strip()) if 40 <= len(s) <= 400]
            if len(found) >= n:
                break
    return found[:n]


def chemprot_items(data_dir: Path, n: int) -> list[dict[str, Any]]:
    import itertools

    from biorelex.data import formats

    items = []
    for document in itertools.islice(
        formats.read(data_dir / "chemprot" / "blurb" / "test.jsonl", "blurb"), n
    ):
        entities = [{"type": e.type, "start": e.start, "end": e.end} for e in document.entities]
        items.append({"text": document.text, "entities": entities})
    return items


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def measure(args: argparse.Namespace, endpoint: str, payloads: list[dict[str, Any]]) -> dict[str, Any]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "biorelex.cli", "serve", "-m", str(args.model), "--port", str(port)]
    if endpoint == "classify":
        command += ["--classifier", str(args.classifier), "--candidates", "pairs"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        wait_until_healthy(base, process=server)
        load_seconds = time.perf_counter() - started
        url = f"{base}/v1/{endpoint}"
        run_load(url, payloads, clients=args.clients, requests=100, time_limit=120)  # warm-up
        stats = run_load(
            url, payloads, clients=args.clients, requests=args.requests, time_limit=args.time_limit
        )
        stats["server_start_s"] = round(load_seconds, 2)
        stats["server_peak_rss_mb"] = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(endpoint, {k: v for k, v in stats.items() if k != "error_examples"}, flush=True)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="a joint NER+RE model (for /v1/extract)")
    parser.add_argument("--classifier", type=Path, help="a ChemProt relation classifier (for /v1/classify)")
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR.parent.parent / "shared" / "data")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=600)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    result: dict[str, Any] = {
        **provenance("python benchmarks/serve_load.py " + " ".join(sys.argv[1:])),
        "model": str(args.model),
        "classifier": str(args.classifier) if args.classifier else None,
        "setting": "loopback, server and clients on the same 2 cores; one text per request",
    }
    result["extract"] = measure(args, "extract", [{"texts": [s]} for s in sentences(args.data_dir, 500)])
    if args.classifier:
        result["classify"] = measure(
            args, "classify", [{"items": [i]} for i in chemprot_items(args.data_dir, 500)]
        )
    write_json(BENCH_DIR / "results" / "serve_load.json", result)
    for endpoint in ("extract", "classify"):
        if endpoint in result:
            for key in ("requests", "errors", "requests_per_s", "latency_ms_p50", "latency_ms_p99"):
                update_summary(f"serve.{endpoint}.{key}", result[endpoint][key])
    # the keys: the /v1/extract run (raw text in, the API's main use)
    load = result["extract"]
    update_summary("serve.load.requests", load["requests"])
    update_summary("serve.load.errors", load["errors"])
    update_summary("serve.load.p50_ms", load["latency_ms_p50"])
    update_summary("serve.load.p99_ms", load["latency_ms_p99"])


if __name__ == "__main__":
    main()
