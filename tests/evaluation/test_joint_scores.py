"""End-to-end scores against hand-computed examples."""

from __future__ import annotations

import pytest

from biorelex.document import Document, Entity, Relation
from biorelex.errors import ConfigError
from biorelex.evaluation.joint import joint_scores, prf_by_type

TEXT = "aspirin causes nausea and ibuprofen causes rash"


def entity(eid, kind, start, end):
    return Entity(eid, kind, ((start, end),), TEXT[start:end])


GOLD = Document(
    "d",
    TEXT,
    (
        entity("a", "Drug", 0, 7),
        entity("n", "AE", 15, 21),
        entity("i", "Drug", 26, 35),
        entity("r", "AE", 43, 47),
    ),
    (Relation("1", "ADE", "a", "n"), Relation("2", "ADE", "i", "r")),
)


def test_strict_and_boundaries():
    predicted = Document(
        "d",
        TEXT,
        # aspirin right; nausea typed wrongly; ibuprofen boundary wrong; an extra entity
        (
            entity("p1", "Drug", 0, 7),
            entity("p2", "Drug", 15, 21),
            entity("p3", "Drug", 26, 34),
            entity("p4", "AE", 43, 47),
        ),
        (Relation("x", "ADE", "p1", "p2"), Relation("y", "ADE", "p3", "p4")),
    )
    scores = joint_scores([GOLD], [predicted])
    ner = scores["ner"]
    assert (ner["per_type"]["Drug"]["tp"], ner["per_type"]["Drug"]["fp"], ner["per_type"]["Drug"]["fn"]) == (
        1,
        2,
        1,
    )
    assert (ner["per_type"]["AE"]["tp"], ner["per_type"]["AE"]["fp"], ner["per_type"]["AE"]["fn"]) == (
        1,
        0,
        1,
    )
    assert ner["micro_f1"] == pytest.approx(2 * 0.5 * 0.5 / 1.0)  # P = 2/4, R = 2/4
    assert ner["macro_f1"] == pytest.approx((0.4 + 2 / 3) / 2)  # Drug P 1/3 R 1/2 -> 0.4; AE P 1 R 1/2
    assert scores["re_strict"]["micro_f1"] == 0.0  # x has a mistyped tail, y a wrong boundary
    loose = scores["re_boundaries"]
    assert (loose["per_type"]["ADE"]["tp"], loose["per_type"]["ADE"]["fp"]) == (1, 1)  # x counts, y not
    assert loose["micro_f1"] == pytest.approx(0.5)
    assert scores["setting"].startswith("end-to-end: predicted entities")


def test_symmetric_relations_match_either_direction_and_nothing_predicted_scores_zero():
    gold = Document("s", TEXT, GOLD.entities, (Relation("1", "same", "a", "i", symmetric=True),))
    flipped = gold.with_relations([Relation("9", "same", "i", "a", symmetric=True)])
    assert joint_scores([gold], [flipped])["re_strict"]["micro_f1"] == 1.0
    empty = Document("s", TEXT)
    scores = joint_scores([gold], [empty])
    assert scores["re_strict"]["micro_f1"] == 0.0 and scores["re_strict"]["micro_recall"] == 0.0
    assert scores["ner"]["predicted"] == 0


def test_missing_or_different_documents_are_errors():
    with pytest.raises(ConfigError, match="no prediction"):
        joint_scores([GOLD], [])
    with pytest.raises(ConfigError, match="text differs"):
        joint_scores([GOLD], [Document("d", "other text")])


def test_macro_averages_gold_types_only():
    result = prf_by_type([("A", 1), ("A", 2)], [("A", 1), ("B", 3)])
    assert result["per_type"]["A"]["f1"] == pytest.approx(2 / 3)
    assert result["macro_f1"] == pytest.approx(2 / 3)  # B has no gold support: not averaged
