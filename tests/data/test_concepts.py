"""Concept-level (CID) relations projected onto mention pairs that share a sentence."""

from __future__ import annotations

from biorelex.config import DataConfig
from biorelex.data.concepts import ProjectionReport, project_concept_relations
from biorelex.data.formats import write
from biorelex.document import Document, Entity, Relation
from biorelex.training.data import load_documents

TEXT = "Cocaine caused seizures. Later, seizures and cocaine abuse were seen. Aspirin was given."


def _entity(identifier: str, kind: str, word: str, occurrence: int, concept: str) -> Entity:
    start = -1
    for _ in range(occurrence):
        start = TEXT.index(word, start + 1)
    return Entity(identifier, kind, ((start, start + len(word)),), word, (concept,))


def _document() -> Document:
    entities = (
        _entity("T1", "Chemical", "Cocaine", 1, "D003042"),
        _entity("T2", "Disease", "seizures", 1, "D012640"),
        _entity("T3", "Disease", "seizures", 2, "D012640"),
        _entity("T4", "Chemical", "cocaine", 1, "D003042"),
        _entity("T5", "Chemical", "Aspirin", 1, "D001241"),
    )
    relations = (
        Relation("R1", "CID", "D003042", "D012640", level="concept"),
        Relation("R2", "CID", "D001241", "D012640", level="concept"),  # never in one sentence
    )
    return Document("d1", TEXT, entities, relations)


def test_each_concept_pair_becomes_its_same_sentence_mention_pairs() -> None:
    report = ProjectionReport()
    projected = project_concept_relations(_document(), report=report)
    pairs = sorted((r.head, r.tail, r.type, r.level) for r in projected.relations)
    # sentence 1: Cocaine/seizures; sentence 2: cocaine/seizures; never Cocaine (s1) with seizures (s2)
    assert pairs == [("T1", "T2", "CID", "mention"), ("T4", "T3", "CID", "mention")]
    assert report.to_dict() == {
        "documents": 1,
        "concept_relations": 2,
        "reachable": 1,
        "unreachable": 1,
        "mention_relations": 2,
    }
    assert len(projected.sentences) == 3
    assert len({r.id for r in projected.relations}) == 2


def test_documents_without_concept_relations_are_unchanged() -> None:
    document = _document()
    plain = Document(document.id, document.text, document.entities, (Relation("R9", "X", "T1", "T2"),))
    assert project_concept_relations(plain) is plain


def test_load_documents_projects_when_configured(tmp_path) -> None:
    path = tmp_path / "cid.jsonl"
    write([_document()], path, "jsonl")
    kept = load_documents(DataConfig(corpus=None, format="jsonl"), str(path))
    projected = load_documents(
        DataConfig(corpus=None, format="jsonl", concept_relations="sentence"), str(path)
    )
    assert kept is not None and projected is not None
    assert {r.level for r in kept[0].relations} == {"concept"}
    assert {r.level for r in projected[0].relations} == {"mention"}
    assert len(projected[0].relations) == 2
