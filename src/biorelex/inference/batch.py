"""Extraction over a whole corpus: chunks of Documents through a model, into a store and/or a list.

Resumable: with a store, documents the same model already extracted are skipped, and each chunk is
committed in one transaction, so a killed run loses at most the chunk in flight and a re-run
neither duplicates nor misses a document.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from biorelex.document import Document
from biorelex.errors import BiorelexError

if TYPE_CHECKING:
    from biorelex.store.db import KnowledgeStore

logger = logging.getLogger(__name__)

PredictFn = Callable[[Sequence[Document]], list[Document]]


@dataclass
class BatchResult:
    """What a corpus extraction did."""

    processed: int = 0
    skipped: int = 0
    entities: int = 0
    relations: int = 0
    documents: list[Document] = field(default_factory=list)


def chunked(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    iterator = iter(documents)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def extract_corpus(
    predict: PredictFn,
    documents: Iterable[Document],
    *,
    store: KnowledgeStore | None = None,
    model_name: str = "model",
    chunk_size: int = 64,
    overwrite: bool = False,
    keep: bool = True,
    progress: bool = True,
    total: int | None = None,
) -> BatchResult:
    """Run ``predict`` over ``documents`` chunk by chunk.

    Args:
        predict: Documents -> Documents with predicted entities/relations (an Extractor's or a
            Predictor's ``predict``).
        documents: the input (read lazily).
        store: a :class:`~biorelex.store.KnowledgeStore`; each chunk is written in one transaction
            as ``model_name``'s extraction, and documents it already holds are skipped unless
            ``overwrite``.
        chunk_size: documents per forward chunk and per transaction.
        keep: keep the predicted documents in the result (for writing an output file).
        total: number of input documents, for the progress bar.
    """
    if chunk_size < 1:
        raise BiorelexError(f"chunk_size must be at least 1, got {chunk_size}")
    result = BatchResult()
    bar = tqdm(total=total, desc="extract", unit="doc", disable=not progress)
    try:
        for chunk in chunked(documents, chunk_size):
            todo = chunk
            if store is not None and not overwrite:
                done = store.stored_ids(model_name, [d.id for d in chunk])
                todo = [d for d in chunk if d.id not in done]
                result.skipped += len(chunk) - len(todo)
            predicted = predict(todo) if todo else []
            if store is not None and predicted:
                store.write(predicted, model_name)
            result.processed += len(predicted)
            result.entities += sum(len(d.entities) for d in predicted)
            result.relations += sum(len(d.relations) for d in predicted)
            if keep:
                result.documents.extend(predicted)
            bar.update(len(chunk))
    finally:
        bar.close()
    if result.skipped:
        logger.info("resumed: %d documents already in the store were skipped", result.skipped)
    return result
