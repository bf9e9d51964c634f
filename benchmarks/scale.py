"""Batch extraction throughput: one process vs Ray with 1 and 2 workers, and the PubMed capacity plan.

    python benchmarks/scale.py --model ../runs/joint_ade/fold0/model [--docs 600 --shard-size 25]

The first ``--docs`` abstracts of ../shared/data/unlabeled/abstracts_cased.txt (one per line) are
extracted with the joint model: (a) in this process with 2 and 1 threads, (b) on a local Ray
cluster with 1 and 2 workers of 1 thread each (output shards written). Documents/s are measured
end to end (model load and Ray start included) and in steady state (first shard start to last
shard end). Writes ``benchmarks/results/scale.json`` and ``scale.*`` in summary.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_DIR, provenance, update_summary, write_json  # noqa: E402

PUBMED_ABSTRACTS = 36_000_000


def local(model: Path, source: Path, threads: int) -> dict[str, Any]:
    import torch

    from biorelex.data import formats
    from biorelex.inference.batch import extract_corpus
    from biorelex.inference.extractor import Extractor

    started = time.perf_counter()
    torch.set_num_threads(threads)
    extractor = Extractor.from_directory(model, num_threads=threads, progress=False)
    loaded = time.perf_counter()
    result = extract_corpus(extractor.predict, formats.read(source, "text-lines"), keep=False, progress=False)
    done = time.perf_counter()
    return {
        "documents": result.processed,
        "relations": result.relations,
        "seconds": round(done - started, 2),
        "docs_per_s": round(result.processed / (done - started), 3),
        "steady_docs_per_s": round(result.processed / (done - loaded), 3),
    }


def ray_run(model: Path, source: Path, workers: int, shard_size: int, work: Path) -> dict[str, Any]:
    from biorelex.scale.ray_engine import WorkerOptions, run_ray

    output = work / f"ray_{workers}w"
    shutil.rmtree(output, ignore_errors=True)
    options = WorkerOptions(model_dir=str(model), output_dir=str(output), threads=1)
    started = time.perf_counter()
    results = run_ray([source], options, format="text-lines", workers=workers, shard_size=shard_size)
    elapsed = time.perf_counter() - started
    documents = sum(r.documents for r in results)
    busy = sum(r.seconds for r in results)
    return {
        "documents": documents,
        "relations": sum(r.relations for r in results),
        "shards": len(results),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(documents / elapsed, 3),
        # steady state: workers x documents per busy worker-second
        "steady_docs_per_s": round(workers * documents / busy, 3),
        "manifest": json.loads((output / "_manifest.json").read_text())["failed"] == [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR.parent.parent / "shared" / "data")
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--shard-size", type=int, default=25)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="biorelex-scale-"))
    source = work / "abstracts.txt"
    with (args.data_dir / "unlabeled" / "abstracts_cased.txt").open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(args.docs)]
    source.write_text("".join(lines), encoding="utf-8")
    words = sum(len(line.split()) for line in lines)
    result: dict[str, Any] = {
        **provenance("python benchmarks/scale.py " + " ".join(sys.argv[1:])),
        "model": str(args.model),
        "documents": args.docs,
        "words_per_document": round(words / args.docs, 1),
    }
    runs = {
        "local_2_threads": lambda: local(args.model, source, 2),
        "local_1_thread": lambda: local(args.model, source, 1),
        "ray_1_worker": lambda: ray_run(args.model, source, 1, args.shard_size, work),
        "ray_2_workers": lambda: ray_run(args.model, source, 2, args.shard_size, work),
    }
    for name, run in runs.items():
        result[name] = run()
        print(name, result[name], flush=True)
    one, two = result["ray_1_worker"], result["ray_2_workers"]
    result["ray_speedup_end_to_end"] = round(two["docs_per_s"] / one["docs_per_s"], 3)
    result["ray_speedup_steady"] = round(two["steady_docs_per_s"] / one["steady_docs_per_s"], 3)
    per_core = result["local_1_thread"]["steady_docs_per_s"]
    core_seconds = 1 / per_core
    result["capacity_plan"] = {
        "core_seconds_per_abstract": round(core_seconds, 4),
        "pubmed_abstracts": PUBMED_ABSTRACTS,
        "pubmed_core_hours": round(PUBMED_ABSTRACTS * core_seconds / 3600, 0),
        "cores_for_one_day": round(PUBMED_ABSTRACTS * core_seconds / 86400, 0),
    }
    shutil.rmtree(work, ignore_errors=True)
    write_json(BENCH_DIR / "results" / "scale.json", result)
    update_summary("scale.ray.docs_per_s_1_worker", one["docs_per_s"])
    update_summary("scale.ray.docs_per_s_2_workers", two["docs_per_s"])
    update_summary("scale.ray.speedup_2_workers", result["ray_speedup_end_to_end"])
    update_summary("scale.ray.speedup_steady", result["ray_speedup_steady"])
    update_summary("scale.pubmed.cores_for_one_day", result["capacity_plan"]["cores_for_one_day"])
    print(
        json.dumps({k: result[k] for k in ("ray_speedup_end_to_end", "ray_speedup_steady", "capacity_plan")})
    )


if __name__ == "__main__":
    main()
