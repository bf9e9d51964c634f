"""BIOES tagging: words, tags, the lenient decoder and the documented rules for what BIOES cannot hold."""

from __future__ import annotations

import pytest

from biorelex.data.tagging import (
    TaggedEntity,
    TaggingReport,
    bioes_tags,
    decode_bioes,
    tag_document,
    tag_labels,
    tokenize_words,
)
from biorelex.document import Document, Entity, Relation


def spans(entities):
    return [(e.first, e.last, e.type) for e in entities]


def test_words_split_at_punctuation_and_mention_boundaries():
    text = "Aspirin-induced nausea (grade 2)."
    words = tokenize_words(text, (0, len(text)), boundaries=[3])
    assert [text[s:e] for s, e in words] == [
        "Asp",
        "irin",
        "-",
        "induced",
        "nausea",
        "(",
        "grade",
        "2",
        ")",
        ".",
    ]


def test_tags_round_trip_through_the_decoder():
    entities = [TaggedEntity(0, 0, "Drug"), TaggedEntity(2, 4, "AE"), TaggedEntity(5, 6, "AE")]
    tags = bioes_tags(8, entities)
    assert tags == ["S-Drug", "O", "B-AE", "I-AE", "E-AE", "B-AE", "E-AE", "O"]
    assert spans(decode_bioes(tags)) == [(0, 0, "Drug"), (2, 4, "AE"), (5, 6, "AE")]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["I-X", "E-X"], [(0, 1, "X")]),  # I without B opens an entity
        (["B-X", "O"], [(0, 0, "X")]),  # B never closed ends before the O
        (["B-X", "I-Y", "E-Y"], [(0, 0, "X"), (1, 2, "Y")]),  # type change starts a new entity
        (["E-X", "O"], [(0, 0, "X")]),  # a lone E is a one-word entity
        (["B-X", "B-X", "E-X"], [(0, 0, "X"), (1, 2, "X")]),
        (["S-X", "I-X"], [(0, 0, "X"), (1, 1, "X")]),
        (["B-X", "I-X"], [(0, 1, "X")]),  # open at the sentence end
        (["Z", "B", "O"], []),  # unknown tags count as O
        ([], []),
    ],
)
def test_decoder_is_lenient_on_malformed_sequences(tags, expected):
    assert spans(decode_bioes(tags)) == expected


def test_tag_labels():
    assert tag_labels(["b", "a", "a"]) == ["O", "B-a", "I-a", "E-a", "S-a", "B-b", "I-b", "E-b", "S-b"]


def test_overlaps_keep_the_longest_and_count_what_is_lost():
    text = "lung cancer risk rose. It was aspirin and lung pain."
    lung = Entity("T1", "Site", ((0, 4),), "lung")
    cancer = Entity("T2", "AE", ((0, 11),), "lung cancer")
    aspirin = Entity("T3", "Drug", ((30, 37),), "aspirin")
    pain = Entity("T4", "AE", ((42, 46), (47, 51)), "lung pain")  # discontinuous by construction
    document = Document(
        "d",
        text,
        (lung, cancer, aspirin, pain),
        (
            Relation("R1", "located", "T2", "T1"),  # T1 is dropped (nested in T2)
            Relation("R2", "causes", "T3", "T2"),  # across sentences
            Relation("R3", "causes", "T3", "T4"),
        ),
        sentences=((0, 22), (23, 52)),
    )
    report = TaggingReport()
    first, second = tag_document(document, report)
    assert spans(first.entities) == [(0, 1, "AE")]
    assert first.tags[:3] == ("B-AE", "E-AE", "O")
    assert [(e.entity_id, e.type) for e in second.entities] == [("T3", "Drug"), ("T4", "AE")]
    assert [(r.head, r.tail, r.type) for r in second.relations] == [(0, 1, "causes")]
    assert report.to_dict() == {
        "sentences": 2,
        "mentions": 4,
        "discontinuous_merged": 1,
        "overlapping_dropped": 1,
        "relations": 3,
        "relations_lost_to_dropped_mentions": 1,
        "relations_across_sentences": 1,
        "concept_relations_ignored": 0,
    }
