"""Sharded batch extraction: shard planning, retries, and a 2-worker local Ray run equal to one process."""

from __future__ import annotations

import json

import pytest

from biorelex.data import formats
from biorelex.document import Document
from biorelex.scale.shards import Shard, plan_shards, process_shard

LINES = ["aspirin inhibits cox 1 .", "caffeine activates protein .", "ibuprofen binds cox .", "receptor ."]


def write_lines(path, n):
    path.write_text("\n".join(f"{LINES[i % 4]}" for i in range(n)) + "\n", encoding="utf-8")
    return path


def test_plan_shards_covers_every_document_once(tmp_path):
    a = write_lines(tmp_path / "a.txt", 7)
    assert [s.stop for s in plan_shards([a], None, 3)] == [1]  # a .txt file is one document
    assert [s.stop for s in plan_shards([a], "text-lines", 3)] == [3, 6, 7]
    a = tmp_path / "a.jsonl"
    formats.write([Document(f"a{i}", "x") for i in range(7)], a, "jsonl")
    formats.write([Document(f"d{i}", "x") for i in range(5)], tmp_path / "b.jsonl", "jsonl")
    shards = plan_shards([a, tmp_path / "b.jsonl"], None, 3)
    assert [(s.name, s.start, s.stop) for s in shards] == [
        ("a-00000", 0, 3),
        ("a-00001", 3, 6),
        ("a-00002", 6, 7),
        ("b-00000", 0, 3),
        ("b-00001", 3, 5),
    ]
    assert {s.format for s in shards} == {"jsonl"}


def test_process_shard_retries_then_reports_and_skips_finished_shards(tmp_path):
    formats.write([Document(f"d{i}", "x") for i in range(4)], tmp_path / "in.jsonl", "jsonl")
    shard = Shard("in-00000", str(tmp_path / "in.jsonl"), "jsonl", 1, 3)
    calls = []

    def flaky(documents):
        calls.append(len(documents))
        if len(calls) < 2:
            raise RuntimeError("worker hiccup")
        return list(documents)

    result = process_shard(shard, flaky, tmp_path / "out", retries=2)
    assert (result.attempts, result.error, result.documents) == (2, "", 2)
    assert [d.id for d in formats.read(tmp_path / "out" / "in-00000.jsonl")] == ["d1", "d2"]
    again = process_shard(shard, flaky, tmp_path / "out")  # output exists: the shard is done
    assert (again.attempts, again.skipped) == (0, 2) and len(calls) == 2

    def broken(documents):
        raise RuntimeError("always")

    failed = process_shard(
        Shard("x", str(tmp_path / "in.jsonl"), "jsonl", 0, 4), broken, tmp_path / "out2", retries=1
    )
    assert failed.attempts == 2 and "always" in failed.error
    assert not (tmp_path / "out2" / "x.jsonl").exists()  # nothing half-written


@pytest.mark.slow
def test_ray_two_workers_equal_the_single_process_output(trained_joint_run, tmp_path):
    pytest.importorskip("ray")
    from biorelex.inference.extractor import Extractor
    from biorelex.scale.ray_engine import WorkerOptions, run_ray
    from biorelex.store import KnowledgeStore

    model = trained_joint_run / "run" / "model"
    source = write_lines(tmp_path / "in.txt", 45)
    expected = Extractor.from_directory(model, progress=False).predict(
        list(formats.read(source, "text-lines"))
    )
    options = WorkerOptions(
        model_dir=str(model), output_dir=str(tmp_path / "out"), store_url=f"sqlite:///{tmp_path / 'kg.db'}"
    )
    results = run_ray([source], options, format="text-lines", workers=2, shard_size=10, progress=False)
    assert len(results) == 5 and not any(r.error for r in results)
    got = [d for i in range(5) for d in formats.read(tmp_path / "out" / f"in-{i:05d}.jsonl")]
    assert got == expected  # same entities, relations and scores, same order across shards
    with KnowledgeStore(options.store_url) as store:
        assert sorted(store.documents("model"), key=lambda d: int(d.id.rsplit(":", 1)[-1])) == expected
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["documents"] == 45 and manifest["failed"] == [] and manifest["workers"] == 2
    # resumed: every shard's output exists, nothing is extracted again
    rerun = run_ray([source], options, format="text-lines", workers=2, shard_size=10, progress=False)
    assert sum(r.documents for r in rerun) == 0 and sum(r.skipped for r in rerun) == 45
