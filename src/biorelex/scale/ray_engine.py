"""``biorelex extract --engine ray``: shards streamed through a Ray Data actor pool of extractors.

Each actor loads the model once (``threads`` CPU threads each) and processes whole shards
(:func:`~biorelex.scale.shards.process_shard`); outputs are written as shards and/or into the
store by the actors. A shard that fails is retried inside its actor, and Ray restarts a crashed
actor and retries its task; every shard's outcome goes into ``OUTPUT_DIR/_manifest.json``, and
failures are raised at the end, never dropped. A local Ray cluster is started unless ``address``
names an existing one (``ray start --head`` on the cluster, then ``--address ray://HOST:10001``
or ``auto`` on a cluster node).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from biorelex.data.formats._io import atomic_write
from biorelex.errors import BiorelexError, ConfigError
from biorelex.scale.shards import Shard, ShardResult, plan_shards, process_shard

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    """What every actor needs to build its extractor and write its results."""

    model_dir: str
    output_dir: str | None = None
    store_url: str | None = None
    model_name: str = "model"
    classifier_dir: str | None = None
    candidates: str = "all"
    entities: str = "predicted"
    batch_size: int = 32
    threads: int = 1
    chunk_size: int = 64
    retries: int = 2


def build_predict(options: WorkerOptions) -> Any:
    """The predict function of a worker: a joint model's Extractor, or a relation classifier's Predictor."""
    from biorelex.models.serialization import is_joint_model

    if is_joint_model(options.model_dir):
        from biorelex.inference.extractor import Extractor

        extractor = Extractor.from_directory(
            options.model_dir,
            num_threads=options.threads,
            classifier_dir=options.classifier_dir,
            candidates=options.candidates,
            batch_size=options.batch_size,
            entities=options.entities,
            progress=False,
        )
        return extractor.predict
    from biorelex.inference.predictor import Predictor

    predictor = Predictor.from_directory(
        options.model_dir, num_threads=options.threads, candidates=options.candidates
    )
    return predictor.disable_progress().predict


class ShardWorker:
    """A Ray Data actor: one extractor, many shards."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = WorkerOptions(**options)
        self.predict = build_predict(self.options)
        self.store = None
        if self.options.store_url:
            from biorelex.store import KnowledgeStore

            self.store = KnowledgeStore(self.options.store_url)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        output_dir = Path(self.options.output_dir) if self.options.output_dir else None
        results: dict[str, list[Any]] = {}
        for index in range(len(batch["name"])):
            shard = Shard(
                str(batch["name"][index]),
                str(batch["path"][index]),
                str(batch["format"][index]),
                int(batch["start"][index]),
                int(batch["stop"][index]),
            )
            result = process_shard(
                shard,
                self.predict,
                output_dir,
                self.store,
                self.options.model_name,
                self.options.chunk_size,
                self.options.retries,
            )
            for key, value in result.to_dict().items():
                results.setdefault(key, []).append(value)
        return results


def run_ray(
    inputs: Sequence[Path],
    options: WorkerOptions,
    *,
    format: str | None = None,
    workers: int = 2,
    address: str | None = None,
    shard_size: int = 100,
    progress: bool = True,
) -> list[ShardResult]:
    """Extract ``inputs`` on Ray with ``workers`` actors; returns every shard's result.

    Raises:
        BiorelexError: when shards failed after their retries (the manifest lists them).
    """
    try:
        import ray
        import ray.data
    except ModuleNotFoundError:
        raise ConfigError("--engine ray needs Ray: pip install 'biorelex[scale]'") from None
    if options.output_dir is None and options.store_url is None:
        raise ConfigError("--engine ray writes output shards (-o FOLDER) and/or a store (--store URL)")
    if options.store_url:
        # the driver creates the schema (and fails fast on a bad URL) before any worker opens it
        from biorelex.store import KnowledgeStore

        KnowledgeStore(options.store_url).close()
    shards = plan_shards(inputs, format, shard_size)
    logger.info("%d shards of up to %d documents, %d workers", len(shards), shard_size, workers)
    started = time.perf_counter()
    own_cluster = not ray.is_initialized() and address is None
    if not ray.is_initialized():
        ray.init(
            address=address,
            num_cpus=None if address else max(workers * options.threads, 1),
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            configure_logging=True,
        )
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        dataset = ray.data.from_items([asdict(s) for s in shards], override_num_blocks=max(len(shards), 1))
        mapped = dataset.map_batches(
            ShardWorker,
            fn_constructor_kwargs={"options": asdict(options)},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=options.threads,
            max_restarts=2,
            max_task_retries=2,
        )
        results = []
        with tqdm(total=len(shards), desc="shards", unit="shard", disable=not progress) as bar:
            for row in mapped.iter_rows():
                results.append(ShardResult(**{k: _plain(v) for k, v in row.items()}))
                bar.update(1)
    finally:
        if own_cluster:
            ray.shutdown()
    elapsed = time.perf_counter() - started
    write_manifest(results, options, elapsed, workers)
    failed = [r for r in results if r.error]
    missing = {s.name for s in shards} - {r.shard for r in results}
    if failed or missing:
        names = sorted({r.shard for r in failed} | missing)
        raise BiorelexError(
            f"{len(names)} shard(s) failed after retries: {', '.join(names[:10])} (see _manifest.json)"
        )
    return results


def write_manifest(
    results: Sequence[ShardResult], options: WorkerOptions, seconds: float, workers: int
) -> None:
    if not options.output_dir:
        return
    path = Path(options.output_dir) / "_manifest.json"
    manifest = {
        "model": options.model_dir,
        "workers": workers,
        "threads_per_worker": options.threads,
        "seconds": round(seconds, 3),
        "documents": sum(r.documents for r in results),
        "failed": [r.shard for r in results if r.error],
        "shards": [r.to_dict() for r in sorted(results, key=lambda r: r.shard)],
    }
    with atomic_write(path) as handle:
        handle.write(json.dumps(manifest, indent=2) + "\n")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
