"""read -> write -> read gives equal Documents, for every writable format."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from biorelex.data import formats
from biorelex.errors import FormatError

SAME_FORMAT = [
    ("sample.jsonl", "jsonl"),
    ("brat", "brat"),
    ("sample.pubtator", "pubtator"),
    ("sample.bioc.xml", "bioc-xml"),
    ("sample.bioc.json", "bioc-json"),
]
# (fixture, input format, writable formats that can hold its annotations)
CROSS_FORMAT = [
    ("sample.jsonl", "jsonl", ["bioc-xml", "bioc-json"]),
    ("brat", "brat", ["jsonl", "bioc-xml", "bioc-json"]),
    ("sample.pubtator", "pubtator", ["jsonl", "bioc-xml", "bioc-json"]),
    ("sample.bioc.xml", "bioc-xml", ["jsonl", "bioc-json"]),
    ("sample.bioc.json", "bioc-json", ["jsonl", "bioc-xml", "brat"]),
    ("chemprot", "chemprot", ["jsonl", "bioc-xml", "bioc-json", "brat"]),
    ("ddi/sample.xml", "ddi", ["jsonl", "bioc-xml", "bioc-json"]),
    ("ade", "ade", ["jsonl", "brat"]),
    ("spert.json", "spert", ["jsonl", "bioc-json"]),
    ("blurb_ddi.jsonl", "blurb", ["jsonl", "bioc-json"]),
]
SUFFIX = {
    "jsonl": "out.jsonl",
    "brat": "brat_out",
    "bioc-xml": "out.xml",
    "bioc-json": "out.json",
    "pubtator": "out.pubtator",
}


@pytest.mark.parametrize(("fixture", "name"), SAME_FORMAT)
def test_round_trip(fixtures: Path, tmp_path: Path, fixture: str, name: str) -> None:
    """read -> write -> read in the same format gives equal Documents, metadata and all."""
    original = list(formats.read(fixtures / fixture, name))
    assert original, "fixture must not be empty"
    out = tmp_path / SUFFIX[name]
    assert formats.write(original, out, name) == len(original)
    assert list(formats.read(out, name)) == original


def _annotations(doc, brat: bool = False):
    """What every writable format holds; BRAT has no relation score or direction flag."""
    relations = sorted(
        (r.type, r.head, r.tail, None if brat else r.score, r.level, r.symmetric and not brat)
        for r in doc.relations
    )
    entities = sorted((e.id, e.type, e.spans, e.text, e.concept_ids) for e in doc.entities)
    return (doc.id, doc.text, entities, relations)


@pytest.mark.parametrize(
    ("fixture", "source_format", "target_format"),
    [(f, s, t) for f, s, targets in CROSS_FORMAT for t in targets],
)
def test_conversion_keeps_annotations(
    fixtures: Path, tmp_path: Path, fixture: str, source_format: str, target_format: str
) -> None:
    """Text, entities (ids, types, spans, concepts) and relations survive every conversion."""
    original = list(formats.read(fixtures / fixture, source_format))
    out = tmp_path / SUFFIX[target_format]
    formats.write(original, out, target_format)
    again = {d.id: d for d in formats.read(out, target_format)}
    brat = target_format == "brat"
    assert [_annotations(again[d.id], brat) for d in original] == [_annotations(d, brat) for d in original]


def test_jsonl_is_lossless(fixtures: Path, tmp_path: Path) -> None:
    docs = list(
        itertools.chain(formats.read(fixtures / "sample.jsonl"), formats.read(fixtures / "ddi/sample.xml"))
    )
    formats.write(docs, tmp_path / "all.jsonl", "jsonl")
    assert list(formats.read(tmp_path / "all.jsonl")) == docs


@pytest.mark.corpus
def test_bc5cdr_pubtator_round_trip_on_real_data(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "bc5cdr/raw/CDR_DevelopmentSet.PubTator.txt"
    docs = list(formats.read(source, "pubtator"))
    formats.write(docs, tmp_path / "cdr.pubtator", "pubtator")
    assert list(formats.read(tmp_path / "cdr.pubtator", "pubtator")) == docs
    assert (tmp_path / "cdr.pubtator").read_text().strip() == source.read_text().strip()


@pytest.mark.corpus
def test_ddi_through_bioc_on_real_data(shared_data: Path, tmp_path: Path) -> None:
    docs = list(formats.read(shared_data / "ddi2013/raw/Train/MedLine", "ddi"))
    formats.write(docs, tmp_path / "ddi.json", "bioc-json")
    again = list(formats.read(tmp_path / "ddi.json", "bioc-json"))
    assert [_annotations(d) for d in again] == [_annotations(d) for d in docs]


def test_writers_refuse_what_the_format_cannot_hold(fixtures: Path, tmp_path: Path) -> None:
    chemprot = list(formats.read(fixtures / "chemprot", "chemprot"))
    with pytest.raises(FormatError, match="PubTator relations link concept ids"):
        formats.write(chemprot, tmp_path / "x.pubtator", "pubtator")
    assert not (tmp_path / "x.pubtator").exists(), "a failed write leaves no partial file"
    ddi = list(formats.read(fixtures / "ddi/sample.xml", "ddi"))
    with pytest.raises(FormatError, match="discontinuous"):
        formats.write(ddi, tmp_path / "y.pubtator", "pubtator")
    cdr = list(formats.read(fixtures / "sample.pubtator", "pubtator"))
    with pytest.raises(FormatError, match="BRAT cannot"):
        formats.write(cdr, tmp_path / "brat", "brat")
    with pytest.raises(FormatError, match="read-only"):
        formats.write(cdr, tmp_path / "z", "chemprot")
