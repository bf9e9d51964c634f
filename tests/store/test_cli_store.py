"""``biorelex extract --store`` (resumable, killed for real) and ``biorelex graph export|query``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.store import KnowledgeStore

runner = CliRunner()
LINES = [
    "aspirin inhibits cox 1 .",
    "caffeine activates protein . ibuprofen and receptor .",
    "ibuprofen binds cox .",
    "aspirin activates receptor , caffeine inhibits cox 1 .",
]


def write_lines(path, n):
    path.write_text("\n".join(LINES[i % len(LINES)] for i in range(n)) + "\n", encoding="utf-8")
    return path


def stored(url, model):
    with KnowledgeStore(url) as store:
        return {d.id: d for d in store.documents(model)}


def test_extract_into_store_then_graph(trained_joint_run, store_url, tmp_path):
    model = trained_joint_run / "run" / "model"
    source = write_lines(tmp_path / "in.txt", 8)
    args = ["extract", str(source), "--lines", "-m", str(model), "--store", store_url, "--chunk-size", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "extracted 8 documents" in result.output
    first = stored(store_url, "model")
    assert len(first) == 8 and sum(len(d.relations) for d in first.values()) > 0
    again = runner.invoke(app, args)  # idempotent: nothing re-extracted, nothing duplicated
    assert "extracted 0 documents" in again.output and "skipped 8 already stored" in again.output
    assert stored(store_url, "model") == first
    with KnowledgeStore(store_url) as store:
        assert store.counts()["extractions"] == 8

    out = tmp_path / "graph.graphml"
    result = runner.invoke(app, ["graph", "export", "--store", store_url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "<graphml" in out.read_text()
    result = runner.invoke(app, ["graph", "query", "aspirin", "--store", store_url, "--json"])
    assert result.exit_code == 0, result.output
    edges = [json.loads(line) for line in result.stdout.splitlines()]
    assert edges and all("Drug|aspirin" in (e["head"], e["tail"]) for e in edges)
    assert all(e["count"] >= 1 and e["evidence"] for e in edges)
    missing = runner.invoke(app, ["graph", "query", "no such thing", "--store", store_url])
    assert missing.exit_code == 1 and "nothing relates" in missing.output


def test_killed_extraction_resumes_without_loss_or_duplicates(trained_joint_run, tmp_path):
    model = trained_joint_run / "run" / "model"
    source = write_lines(tmp_path / "in.txt", 2000)
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    command = [sys.executable, "-m", "biorelex.cli", "extract", str(source), "--lines", "-m", str(model)]
    command += ["--store", url, "--chunk-size", "4"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = create_engine(url)
    deadline, count = time.monotonic() + 120, 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        try:
            with engine.connect() as connection:
                count = connection.execute(text("select count(*) from extractions")).scalar_one()
        except Exception:
            continue  # the schema is not created yet
        if count >= 40:
            break
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    engine.dispose()
    assert 40 <= count < 2000, "the run must be killed part-way"
    partial = stored(url, "model")
    assert 0 < len(partial) < 2000 and len(partial) % 4 == 0  # whole chunks only

    result = runner.invoke(app, ["extract", str(source), "--lines", "-m", str(model), "--store", url])
    assert result.exit_code == 0, result.output
    assert f"skipped {len(partial)} already stored" in result.output
    resumed = stored(url, "model")

    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner.invoke(app, ["extract", str(source), "--lines", "-m", str(model), "--store", fresh_url])
    fresh = stored(fresh_url, "model")
    assert resumed.keys() == fresh.keys() and len(resumed) == 2000
    with KnowledgeStore(url) as store:
        assert store.counts()["extractions"] == 2000  # no duplicates
    for key in fresh:
        assert [(e.spans, e.type) for e in resumed[key].entities] == [
            (e.spans, e.type) for e in fresh[key].entities
        ]
        assert [(r.type, r.head, r.tail) for r in resumed[key].relations] == [
            (r.type, r.head, r.tail) for r in fresh[key].relations
        ]
