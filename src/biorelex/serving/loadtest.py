"""A bounded load test of a running server: N concurrent clients, a request budget and a time limit.

Used by ``benchmarks/serve_load.py`` (real models) and the slow test tier (tiny model). Every
response must be 200 with the expected number of documents; anything else counts as an error.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import Any


async def _load(
    url: str, payloads: Sequence[dict[str, Any]], clients: int, requests: int, time_limit: float
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    issued = 0
    started = time.perf_counter()
    deadline = started + time_limit

    async def client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < requests and time.perf_counter() < deadline:
            payload = payloads[issued % len(payloads)]
            issued += 1
            begin = time.perf_counter()
            try:
                response = await http.post(url, json=payload)
                expected = len(payload.get("texts") or payload.get("items") or payload.get("documents") or [])
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                elif len(response.json()["documents"]) != expected:
                    errors.append("wrong number of documents in the response")
                else:
                    latencies.append(time.perf_counter() - begin)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    return {
        "clients": clients,
        "requests": len(latencies) + len(errors),
        "ok": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        "latency_ms_p50": round(percentile(0.50), 2),
        "latency_ms_p99": round(percentile(0.99), 2),
        "latency_ms_mean": round(statistics.fmean(ordered) * 1000, 2) if ordered else float("nan"),
        "hit_time_limit": len(latencies) + len(errors) < requests,
    }


def run_load(
    url: str,
    payloads: Sequence[dict[str, Any]],
    clients: int = 16,
    requests: int = 2000,
    time_limit: float = 300.0,
) -> dict[str, Any]:
    """POST ``payloads`` (cycled) to ``url`` from ``clients`` concurrent clients until ``requests``
    responses or ``time_limit`` seconds; returns counts, errors, requests/s and p50/p99 latency."""
    return asyncio.run(_load(url, payloads, clients, requests, time_limit))


def wait_until_healthy(base_url: str, timeout: float = 120.0, process: Any = None) -> None:
    """Poll ``/healthz`` until the server answers (raises if it does not within ``timeout``)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{base_url} did not become healthy in {timeout:.0f} s")
