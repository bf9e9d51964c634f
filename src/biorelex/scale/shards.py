"""Input shards and the work of one shard, shared by the Ray engine and the single-process run.

A shard is a contiguous range of documents of one input file. Processing a shard reads that range,
extracts it (into the store, when given, chunk by chunk and resumably) and writes the predicted
Documents to ``OUTPUT_DIR/<shard>.jsonl`` atomically, so a shard's output either exists whole or
not at all, and a re-run skips the shards already written.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from biorelex.data import formats
from biorelex.document import Document
from biorelex.errors import BiorelexError
from biorelex.inference.batch import PredictFn, extract_corpus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shard:
    """Documents ``[start, stop)`` of ``path`` (read as ``format``), written as ``name``.jsonl."""

    name: str
    path: str
    format: str
    start: int
    stop: int


@dataclass
class ShardResult:
    """What processing one shard did (``error`` set when every attempt failed)."""

    shard: str
    documents: int = 0
    skipped: int = 0
    entities: int = 0
    relations: int = 0
    seconds: float = 0.0
    attempts: int = 0
    error: str = ""
    output: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_shards(inputs: Sequence[Path], format: str | None, shard_size: int) -> list[Shard]:
    """Split every input into shards of ``shard_size`` documents (counting them once)."""
    if shard_size < 1:
        raise BiorelexError(f"shard size must be at least 1, got {shard_size}")
    shards: list[Shard] = []
    names: set[str] = set()
    for path in inputs:
        name = format or formats.detect_format(path)
        count = sum(1 for _ in formats.read(path, name))
        stem = path.name.split(".")[0] or "input"
        while stem in names:  # two inputs with one stem
            stem += "_"
        names.add(stem)
        for index, start in enumerate(range(0, count, shard_size)):
            shards.append(
                Shard(f"{stem}-{index:05d}", str(path), name, start, min(count, start + shard_size))
            )
    return shards


def read_shard(shard: Shard) -> list[Document]:
    return list(itertools.islice(formats.read(shard.path, shard.format), shard.start, shard.stop))


def process_shard(
    shard: Shard,
    predict: PredictFn,
    output_dir: Path | None,
    store: Any = None,
    model_name: str = "model",
    chunk_size: int = 64,
    retries: int = 2,
) -> ShardResult:
    """Extract one shard, retrying up to ``retries`` times; never raises for a failing shard."""
    result = ShardResult(shard.name)
    target = output_dir / f"{shard.name}.jsonl" if output_dir is not None else None
    if target is not None and target.exists():  # written last, so the whole shard is done
        result.output, result.skipped = str(target), shard.stop - shard.start
        return result
    started = time.perf_counter()
    for attempt in range(1, retries + 2):
        result.attempts = attempt
        try:
            batch = extract_corpus(
                predict,
                read_shard(shard),
                store=store,
                model_name=model_name,
                chunk_size=chunk_size,
                keep=target is not None,
                progress=False,
            )
            if target is not None:
                formats.write(batch.documents, target, "jsonl")
                result.output = str(target)
            result.documents, result.skipped = batch.processed, batch.skipped
            result.entities, result.relations = batch.entities, batch.relations
            result.error = ""
            break
        except Exception as exc:  # retried, then reported in the manifest
            result.error = f"{type(exc).__name__}: {exc}"
            logger.warning("shard %s attempt %d failed: %s", shard.name, attempt, result.error)
    result.seconds = time.perf_counter() - started
    return result
