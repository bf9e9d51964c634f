"""A real server (``biorelex serve`` under uvicorn) on loopback under a bounded load: 16 clients, 2,000
requests, zero errors. The tiny model keeps it short; benchmarks/serve_load.py runs real models."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

pytest.importorskip("uvicorn")

from biorelex.serving.loadtest import run_load, wait_until_healthy  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_16_clients_2000_requests_zero_errors(trained_joint_run):
    port = free_port()
    command = [sys.executable, "-m", "biorelex.cli", "serve", "-m", str(trained_joint_run / "run" / "model")]
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process=process)
        payloads = [{"texts": [f"aspirin inhibits cox {i % 3} ."]} for i in range(50)]
        stats = run_load(f"{base}/v1/extract", payloads, clients=16, requests=2000, time_limit=240)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert stats["errors"] == 0, stats["error_examples"]
    assert stats["ok"] == 2000 and not stats["hit_time_limit"]
    assert stats["latency_ms_p50"] <= stats["latency_ms_p99"]
