"""Load the Documents of a run's splits (a catalogued corpus or explicit paths) and their pairs."""

from __future__ import annotations

import dataclasses
import logging
import random
from pathlib import Path

from biorelex.config import DataConfig
from biorelex.data.candidates import Candidate
from biorelex.data.concepts import ProjectionReport, project_corpus
from biorelex.data.corpora import data_dir, get_corpus
from biorelex.data.examples import candidate_config, iter_candidates
from biorelex.data.formats import read
from biorelex.document import Document
from biorelex.errors import ConfigError, ReadReport

logger = logging.getLogger(__name__)


def split_location(data: DataConfig, split: str) -> tuple[Path, str | None, bool]:
    """``(path, format, lenient)`` of a split: a corpus split name, or a path of its own."""
    if data.corpus is not None:
        corpus = get_corpus(data.corpus)
        for candidate in corpus.splits:
            if candidate.name == split:
                return (
                    data_dir(data.data_dir) / candidate.path,
                    candidate.format,
                    corpus.lenient or data.lenient,
                )
        if not Path(split).exists():
            names = ", ".join(s.name for s in corpus.splits)
            raise ConfigError(f"corpus {corpus.name!r} has no split {split!r}; its splits: {names}")
    return Path(split), data.format, data.lenient


def load_documents(data: DataConfig, split: str | None) -> list[Document] | None:
    """The Documents of ``split`` (``None`` when the split is not configured)."""
    if not split:
        return None
    path, format, lenient = split_location(data, split)
    report = ReadReport(lenient=lenient)
    documents = list(read(path, format, report=report))
    if report.skipped:
        logger.warning("%s: %s", path, report.summary())
    logger.info("%s: %d documents", path, len(documents))
    if data.concept_relations == "sentence":
        projection = ProjectionReport()
        documents = list(project_corpus(documents, data.splitter, projection))
        logger.info("%s: %s", path, projection.summary())
    return documents


def document_folds(
    documents: list[Document], k: int, seed: int = 0
) -> list[tuple[list[Document], list[Document]]]:
    """``k`` (train, test) splits by document, documents shuffled once with ``seed``."""
    if k < 2 or k > len(documents):
        raise ConfigError(f"cannot split {len(documents)} documents into {k} folds")
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    folds = [order[i::k] for i in range(k)]
    return [
        (
            [documents[i] for j, fold in enumerate(folds) if j != f for i in fold],
            [documents[i] for i in folds[f]],
        )
        for f in range(k)
    ]


def labeled_fraction(
    documents: list[Document], fraction: float, seed: int = 0
) -> tuple[list[Document], list[Document]]:
    """``(kept, rest)``: ``round(fraction * n)`` documents (at least one) drawn with ``seed``, in
    their original order, and the others. ``fraction = 1`` keeps everything."""
    if fraction >= 1.0:
        return documents, []
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    chosen = set(order[: max(1, round(fraction * len(documents)))])
    kept = [d for i, d in enumerate(documents) if i in chosen]
    rest = [d for i, d in enumerate(documents) if i not in chosen]
    return kept, rest


def training_documents(data: DataConfig) -> tuple[list[Document], list[Document]]:
    """The training split's ``(labelled, left out)`` documents under ``data.train_fraction``."""
    documents = load_documents(data, data.train)
    if not documents:
        raise ConfigError("data.train is empty or not set: a training split is needed")
    kept, rest = labeled_fraction(documents, data.train_fraction, data.train_fraction_seed)
    if rest:
        logger.info(
            "data.train_fraction = %g: %d of %d training documents kept",
            data.train_fraction,
            len(kept),
            len(documents),
        )
    return kept, rest


def unlabeled_pairs(path: str | Path, candidates: str) -> list[Candidate]:
    """The candidate pairs of a file read as unlabeled (its relations dropped, every label ``None``)."""
    documents = [dataclasses.replace(d, relations=()) for d in read(path)]
    pairs = list(iter_candidates(documents, candidate_config(candidates, documents)))
    logger.info("%s: %d unlabeled candidate pairs in %d documents", path, len(pairs), len(documents))
    return pairs
