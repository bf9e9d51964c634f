from __future__ import annotations

from pathlib import Path

import pytest

from biorelex.data import formats
from biorelex.data.candidates import PRESETS, CandidateConfig, generate_candidates
from biorelex.document import Document, Entity, Relation
from biorelex.errors import ConfigError

TEXT = "Aspirin blocks COX-1 and COX-2. Caffeine binds ADORA2A."


def ent(id: str, type: str, word: str) -> Entity:
    start = TEXT.index(word)
    return Entity(id, type, ((start, start + len(word)),), word)


DOC = Document(
    "d",
    TEXT,
    (
        ent("c1", "CHEMICAL", "Aspirin"),
        ent("g1", "GENE-Y", "COX-1"),
        ent("g2", "GENE-N", "COX-2"),
        ent("c2", "CHEMICAL", "Caffeine"),
        ent("g3", "GENE-Y", "ADORA2A"),
    ),
    (Relation("r1", "CPR:4", "c1", "g1"), Relation("r2", "CPR:9", "g3", "c2")),
)


def keys(config: CandidateConfig, doc: Document = DOC) -> list[tuple[str, str, str | None]]:
    return [(c.head.id, c.tail.id, c.label) for c in generate_candidates(doc, config)]


def test_typed_directed_sentence_pairs() -> None:
    assert keys(CandidateConfig(type_pairs=(("CHEMICAL", "GENE*"),), directed=True)) == [
        ("c1", "g1", "CPR:4"),
        ("c1", "g2", None),
        ("c2", "g3", None),  # r2 is gene->chemical: not this direction
    ]


def test_undirected_pairs_take_labels_from_either_direction() -> None:
    found = keys(CandidateConfig(type_pairs=(("CHEMICAL", "GENE*"),), directed=False))
    assert ("c2", "g3", "CPR:9") in found and len(found) == 3


def test_document_scope_crosses_sentences() -> None:
    assert (
        len(keys(CandidateConfig(type_pairs=(("CHEMICAL", "GENE*"),), directed=True, scope="document"))) == 6
    )


def test_all_type_pairs_unordered() -> None:
    # 3 mentions in sentence one -> 3 pairs, 2 in sentence two -> 1 pair
    assert len(keys(CandidateConfig())) == 4
    assert len(keys(CandidateConfig(directed=True))) == 8


def test_concept_level_relations_label_mention_pairs(fixtures: Path) -> None:
    doc = next(formats.read(fixtures / "sample.pubtator", "pubtator"))
    labelled = [
        (c.head.text, c.tail.text) for c in generate_candidates(doc, PRESETS["bc5cdr"]) if c.label == "CID"
    ]
    assert ("Lithium", "polyuria") in labelled


def test_ddi_fixture_pairs_match_the_xml_pairs(fixtures: Path) -> None:
    doc = next(formats.read(fixtures / "ddi/sample.xml", "ddi"))
    found = keys(PRESETS["ddi"], doc)
    assert len(found) == 4  # the XML lists 1 + 3 pairs
    assert sorted(label for *_, label in found if label) == ["advise", "effect"]


def test_bad_config() -> None:
    with pytest.raises(ConfigError):
        CandidateConfig(scope="paragraph")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        CandidateConfig(type_pairs=(("A", "B", "C"),))  # type: ignore[arg-type]
