"""The published counts of every corpus in ../shared/data (its README), through the users' readers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from biorelex.data import formats
from biorelex.data.candidates import PRESETS, generate_candidates
from biorelex.data.corpora import CORPORA, get_corpus
from biorelex.errors import ReadReport

pytestmark = pytest.mark.corpus


def read_split(root: Path, corpus: str, split: str, report: ReadReport | None = None):
    spec = get_corpus(corpus)
    entry = next(s for s in spec.splits if s.name == split)
    return list(
        formats.read(root / entry.path, entry.format, report=report or ReadReport(lenient=spec.lenient))
    )


@pytest.mark.parametrize(
    ("split", "documents", "entities", "relations"),
    [("train", 1020, 25752, 4157), ("dev", 612, 15567, 2416), ("test", 800, 20828, 3458)],
)
def test_chemprot_raw(shared_data: Path, split: str, documents: int, entities: int, relations: int) -> None:
    docs = read_split(shared_data, "chemprot", split)
    assert len(docs) == documents
    assert sum(len(d.entities) for d in docs) == entities  # every line of the entities file
    assert sum(len(d.relations) for d in docs) == relations  # CPR:3,4,5,6,9, deduplicated
    assert {r.type for d in docs for r in d.relations} == {"CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9"}


@pytest.mark.parametrize(("split", "pairs"), [("train", 18035), ("dev", 11268), ("test", 15745)])
def test_chemprot_blurb(shared_data: Path, split: str, pairs: int) -> None:
    docs = read_split(shared_data, "chemprot-blurb", split)
    assert len(docs) == pairs
    assert {r.type for d in docs for r in d.relations} == {"CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9"}


def test_chemprot_candidates_close_to_blurb(shared_data: Path) -> None:
    """Sentence-level CHEMICAL x GENE pairs from the raw corpus land within 1% of BLURB's."""
    docs = read_split(shared_data, "chemprot", "dev")
    candidates = [c for d in docs for c in generate_candidates(d, PRESETS["chemprot"])]
    assert abs(len(candidates) - 11268) / 11268 < 0.01
    pairs = {c.key for c in candidates}
    inside = sum(1 for d in docs for r in d.relations if (d.id, r.head, r.tail) in pairs)
    assert inside == 2416 - 8  # 8 relations cross a sentence boundary (benchmarks/RESULTS.md)
    labelled = Counter(c.label for c in candidates if c.label)
    assert sum(labelled.values()) == 2404  # 4 pairs carry two CPR groups; a candidate has one label


@pytest.mark.parametrize(("split", "documents", "pairs"), [("train", 714, 27792), ("test", 191, 5716)])
def test_ddi_raw(shared_data: Path, split: str, documents: int, pairs: int) -> None:
    docs = read_split(shared_data, "ddi2013", split)
    assert len(docs) == documents
    assert sum(1 for d in docs for _ in generate_candidates(d, PRESETS["ddi"])) == pairs


@pytest.mark.parametrize(("split", "pairs"), [("train", 25296), ("dev", 2496), ("test", 5716)])
def test_ddi_blurb(shared_data: Path, split: str, pairs: int) -> None:
    docs = read_split(shared_data, "ddi2013-blurb", split)
    assert len(docs) == pairs


def test_ddi_blurb_discontinuous_mentions(shared_data: Path) -> None:
    discontinuous = sum(
        e.is_discontinuous
        for split in ("train", "dev", "test")
        for d in read_split(shared_data, "ddi2013-blurb", split)
        for e in d.entities
    )
    assert discontinuous == 169


@pytest.mark.parametrize(("corpus", "size"), [("gad", 5330), ("euadr", 355)])
def test_blue_folds(shared_data: Path, corpus: str, size: int) -> None:
    for k in range(1, 11):
        train = read_split(shared_data, corpus, f"fold{k}/train")
        test = read_split(shared_data, corpus, f"fold{k}/test")
        assert len(train) + len(test) == size, f"fold {k}"


def test_gad_duplicates_are_kept(shared_data: Path) -> None:
    docs = read_split(shared_data, "gad", "fold1/train") + read_split(shared_data, "gad", "fold1/test")
    assert len({d.text for d in docs}) == 5122  # README: 5122 unique of 5330, reported, not "fixed"


def test_ade_raw(shared_data: Path) -> None:
    docs = read_split(shared_data, "ade", "all")
    positive = [d for d in docs if d.relations]
    assert len(positive) == 4272
    assert sum(len(d.relations) for d in docs) == 6821
    assert sum(1 for d in docs if d.metadata.get("negative")) == 16695


def test_ade_raw_agrees_with_spert(shared_data: Path) -> None:
    raw = read_split(shared_data, "ade", "all")
    spert = read_split(shared_data, "ade-spert", "full")
    assert sum(len(d.entities) for d in raw) == sum(len(d.entities) for d in spert)


def test_ade_spert_folds(shared_data: Path) -> None:
    full = read_split(shared_data, "ade-spert", "full")
    assert len(full) == 4272
    seen: set[str] = set()
    for k in range(10):
        fold = read_split(shared_data, "ade-spert", f"fold{k}/test")
        assert len(fold) == (429 if k == 9 else 427)
        seen |= {d.id for d in fold}
    assert seen == {d.id for d in full}  # train fold k = full minus test fold k


@pytest.mark.parametrize(
    ("split", "documents", "relations"),
    [("train", 922, 1283), ("dev", 231, 343), ("test", 288, 422), ("train_dev", 1153, 1626)],
)
def test_conll04(shared_data: Path, split: str, documents: int, relations: int) -> None:
    docs = read_split(shared_data, "conll04", split)
    assert (len(docs), sum(len(d.relations) for d in docs)) == (documents, relations)


@pytest.mark.parametrize("corpus", ["bc5cdr", "bc5cdr-bioc"])
@pytest.mark.parametrize(("split", "relations"), [("train", 1038), ("dev", 1012), ("test", 1066)])
def test_bc5cdr(shared_data: Path, corpus: str, split: str, relations: int) -> None:
    report = ReadReport(lenient=True)
    docs = read_split(shared_data, corpus, split, report)
    assert len(docs) == 500
    assert sum(len(d.relations) for d in docs) == relations
    assert all(r.level == "concept" and r.type == "CID" for d in docs for r in d.relations)
    # The one known defect of the BioC release, reported (never silently dropped):
    expected_skips = 1 if (corpus, split) == ("bc5cdr-bioc", "train") else 0
    assert len(report.skipped) == expected_skips


def test_bc5cdr_pubtator_and_bioc_agree_on_text_and_relations(shared_data: Path) -> None:
    pubtator = {d.id: d for d in read_split(shared_data, "bc5cdr", "test")}
    bioc = {d.id: d for d in read_split(shared_data, "bc5cdr-bioc", "test")}
    assert pubtator.keys() == bioc.keys()
    for doc_id, doc in pubtator.items():
        assert doc.text == bioc[doc_id].text
        assert {r.key() for r in doc.relations} == {r.key() for r in bioc[doc_id].relations}


def test_every_catalogued_split_exists(shared_data: Path) -> None:
    for corpus in CORPORA.values():
        for split in corpus.splits:
            assert (shared_data / split.path).exists(), f"{corpus.name} {split.name}: {split.path}"
