"""The benchmark corpora of ``../shared/data``: where each split lives and how to read it.

Any other location works: pass ``data_dir`` (or set ``BIORELEX_DATA``). Nothing here is copied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from biorelex.errors import ConfigError

DEFAULT_DATA_DIR = Path("../shared/data")


def data_dir(path: str | Path | None = None) -> Path:
    """The corpus root: ``path``, else ``$BIORELEX_DATA``, else ``../shared/data``."""
    return Path(path or os.environ.get("BIORELEX_DATA") or DEFAULT_DATA_DIR)


@dataclass(frozen=True)
class Split:
    name: str
    path: str
    format: str


@dataclass(frozen=True)
class Corpus:
    """A catalogued corpus: its splits, the candidate preset, and whether lenient reading is needed."""

    name: str
    description: str
    splits: tuple[Split, ...]
    candidates: str | None = None
    lenient: bool = False
    notes: tuple[str, ...] = field(default=())


def _folds(corpus: str) -> tuple[Split, ...]:
    return tuple(
        Split(f"fold{k}/{part}", f"{corpus}/folds/{k}/{part}.tsv", "blue")
        for k in range(1, 11)
        for part in ("train", "test")
    )


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in (
        Corpus(
            "chemprot",
            "ChemProt (BioCreative VI), raw abstracts",
            (
                Split("train", "chemprot/raw/chemprot_training_abstracts.tsv", "chemprot"),
                Split("dev", "chemprot/raw/chemprot_development_abstracts.tsv", "chemprot"),
                Split("test", "chemprot/raw/chemprot_test_abstracts_gs.tsv", "chemprot"),
            ),
            candidates="chemprot",
        ),
        Corpus(
            "chemprot-blurb",
            "ChemProt, BLURB pair instances",
            tuple(Split(s, f"chemprot/blurb/{s}.jsonl", "blurb") for s in ("train", "dev", "test")),
        ),
        Corpus(
            "ddi2013",
            "DDI 2013 XML (DrugBank + MedLine)",
            (
                Split("train", "ddi2013/raw/Train", "ddi"),
                Split("test", "ddi2013/raw/Test/Test for DDI Extraction task", "ddi"),
            ),
            candidates="ddi",
        ),
        Corpus(
            "ddi2013-blurb",
            "DDI 2013, BLURB pair instances",
            tuple(Split(s, f"ddi2013/blurb/{s}.jsonl", "blurb") for s in ("train", "dev", "test")),
        ),
        Corpus("gad", "GAD, BioBERT 10 folds (masked)", _folds("gad")),
        Corpus("euadr", "EU-ADR, BioBERT 10 folds (masked)", _folds("euadr")),
        Corpus("ade", "ADE-Corpus-V2 raw", (Split("all", "ade/raw", "ade"),), candidates="ade"),
        Corpus(
            "ade-spert",
            "ADE, SpERT JSON (full + 10 test folds)",
            (Split("full", "ade/spert/ade_full.json", "spert"),)
            + tuple(Split(f"fold{k}/test", f"ade/spert/ade_split_{k}_test.json", "spert") for k in range(10)),
        ),
        Corpus(
            "conll04",
            "CoNLL04, SpERT JSON",
            tuple(
                Split(s, f"conll04/spert/conll04_{s}.json", "spert")
                for s in ("train", "dev", "test", "train_dev")
            ),
        ),
        Corpus(
            "bc5cdr",
            "BC5CDR (CDR), PubTator",
            tuple(
                Split(s, f"bc5cdr/raw/CDR_{n}Set.PubTator.txt", "pubtator")
                for s, n in (("train", "Training"), ("dev", "Development"), ("test", "Test"))
            ),
            candidates="bc5cdr",
        ),
        Corpus(
            "bc5cdr-bioc",
            "BC5CDR (CDR), BioC XML",
            tuple(
                Split(s, f"bc5cdr/raw/CDR_{n}Set.BioC.xml", "bioc-xml")
                for s, n in (("train", "Training"), ("dev", "Development"), ("test", "Test"))
            ),
            candidates="bc5cdr",
            lenient=True,
            notes=(
                "CDR_TrainingSet.BioC.xml: annotation 12 of document 15863244 ('midline (MD) "
                "defects') lies one character off its text (the PubTator release has it right); "
                "the strict reader refuses it, so this corpus is read leniently and the skip reported.",
            ),
        ),
    )
}


def get_corpus(name: str) -> Corpus:
    """The catalogued corpus called ``name``."""
    try:
        return CORPORA[name]
    except KeyError:
        raise ConfigError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}") from None
