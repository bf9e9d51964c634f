from __future__ import annotations

import dataclasses

import pytest

from biorelex.document import Document, Entity, Relation, freeze, thaw
from biorelex.errors import DocumentError

TEXT = "Aspirin inhibits COX-1."


def entity(id: str = "e1", spans=((0, 7),), text: str = "Aspirin", type: str = "CHEMICAL", **kw) -> Entity:
    return Entity(id=id, type=type, spans=spans, text=text, **kw)


def test_valid_document_and_helpers() -> None:
    doc = Document(
        "d1",
        TEXT,
        (entity(), entity("e2", ((17, 22),), "COX-1", "GENE")),
        (Relation("r1", "CPR:4", "e1", "e2"),),
        metadata={"split": "train", "passages": [["title", 0, 23]]},
    )
    assert doc.entity("e2").text == "COX-1"
    assert doc.metadata["passages"] == (("title", 0, 23),)
    assert thaw(doc.metadata) == {"split": "train", "passages": [["title", 0, 23]]}
    predicted = doc.with_relations([Relation("p1", "CPR:3", "e1", "e2", score=0.5)])
    assert predicted.relations[0].score == 0.5 and doc.relations[0].type == "CPR:4"
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.text = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        doc.metadata["split"] = "dev"  # type: ignore[index]


def test_discontinuous_text_is_fragments_joined_by_space() -> None:
    e = entity("e3", ((0, 3), (17, 22)), "Asp COX-1")
    assert e.is_discontinuous and (e.start, e.end) == (0, 22)
    Document("d", TEXT, (e,))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Document("d", TEXT, (entity(spans=((0, 99),)),)), "out of range"),
        (lambda: Document("d", TEXT, (entity(text="aspirin"),)), "does not match"),
        (lambda: Document("d", TEXT, (entity(), entity())), "duplicate entity id"),
        (lambda: Document("d", TEXT, (entity(),), (Relation("r", "X", "e1", "e9"),)), "names no entity"),
        (
            lambda: Document("d", TEXT, (entity(),), (Relation("r", "X", "D1", "e1", level="concept"),)),
            "names no concept",
        ),
        (lambda: Document("d", TEXT, (), (), ((5, 3),)), "sentence span"),
        (lambda: Document("", TEXT), "empty id"),
        (lambda: entity(spans=((5, 5),)), "empty or negative span"),
        (lambda: entity(spans=((4, 9), (2, 3))), "unsorted or overlapping"),
        (lambda: Relation("r", "X", "a", "b", score=1.5), r"not in \[0, 1\]"),
        (lambda: Relation("r", "X", "a", "b", level="sentence"), "level must be"),
    ],
)
def test_invariants_name_the_problem(build, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        build()


def test_document_error_names_document() -> None:
    with pytest.raises(DocumentError, match="document 'doc-42'"):
        Document("doc-42", TEXT, (entity(text="wrong"),))


def test_relation_key_orders_symmetric_arguments() -> None:
    assert Relation("r", "int", "b", "a", symmetric=True).key() == ("int", "a", "b")
    assert Relation("r", "int", "b", "a").key() == ("int", "b", "a")


def test_freeze_roundtrip() -> None:
    data = {"a": [1, [2, 3]], "b": {"c": "d"}}
    assert thaw(freeze(data)) == data
