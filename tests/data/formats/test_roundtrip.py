"""read -> write -> read gives equal Documents, for every writable format."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from biorelex.data import formats
from biorelex.data.formats.ddi import format_char_offset, parse_char_offset
from biorelex.document import Document, Entity, Relation
from biorelex.errors import FormatError

SAME_FORMAT = [
    ("sample.jsonl", "jsonl"),
    ("brat", "brat"),
    ("sample.pubtator", "pubtator"),
    ("sample.bioc.xml", "bioc-xml"),
    ("sample.bioc.json", "bioc-json"),
    ("chemprot", "chemprot"),
    ("spert.json", "spert"),
    ("ddi/sample.xml", "ddi"),
    ("ade", "ade"),
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
    "chemprot": "chemprot_sample_abstracts.tsv",  # the split ("sample") is read from the name
    "spert": "out.json",
    "ddi": "ddi_out",
    "ade": "ade_out",
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
    corpora = {
        "chemprot": list(formats.read(fixtures / "chemprot", "chemprot")),
        "ddi": list(formats.read(fixtures / "ddi/sample.xml", "ddi")),
        "cdr": list(formats.read(fixtures / "sample.pubtator", "pubtator")),
    }
    refusals = [  # (documents, output, format, what the error says)
        ("chemprot", "x.pubtator", "pubtator", "PubTator relations link concept ids"),
        ("ddi", "y.pubtator", "pubtator", "discontinuous"),
        ("cdr", "brat", "brat", "BRAT cannot"),
        ("cdr", "z", "text", "read-only"),
        ("chemprot", "ade_chemprot", "ade", "is not an ADE relation"),
        ("cdr", "c_pairs.jsonl", "blurb", "links concepts; BLURB labels mention pairs"),
        ("chemprot", "c_pairs.tsv", "blue", "has 2 relations .* a BLUE line holds one label"),
        ("ddi", "d_pairs.tsv", "blue", "has type 'effect'; BLUE TSV holds 0/1 labels"),
        ("cdr", "ddi_cdr", "ddi", "does not link two mentions of one sentence"),
        ("ddi", "d_abstracts.tsv", "chemprot", "discontinuous, which ChemProt cannot hold"),
        ("cdr", "c_abstracts.tsv", "chemprot", "is not a ChemProt relation"),
        ("chemprot", "chemprot.tsv", "chemprot", "named like its abstracts file"),
        ("cdr", "c.json", "spert", "SpERT relations link mentions"),
        ("ddi", "d.json", "spert", "discontinuous, which SpERT cannot hold"),
    ]
    for corpus, output, name, message in refusals:
        with pytest.raises(FormatError, match=message):
            formats.write(corpora[corpus], tmp_path / output, name)
    # a failed write leaves no partial file (nor a temporary one): of ChemProt, none of its three files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brat"], (
        "only BRAT's folder, made before the refusal"
    )


def test_ade_writes_its_release_and_refuses_what_it_cannot_hold(tmp_path: Path) -> None:
    """Relations to DRUG-AE.rel at the document offsets; mentions outside a relation are refused."""
    document = Document(
        id="7.s1",
        text="Rash after amoxicillin.",
        entities=(
            Entity("T1", "Adverse-Effect", ((0, 4),), "Rash"),
            Entity("T2", "Drug", ((11, 22),), "amoxicillin"),
        ),
        relations=(Relation("R1", "Adverse-Effect", "T1", "T2"),),
        metadata={"pmid": "7", "document_offset": 100},
    )
    negative = Document(id="8.s1", text="All went well.", metadata={"pmid": "8"})
    assert formats.write([document, negative], tmp_path / "out", "ade") == 2
    assert (
        tmp_path / "out" / "DRUG-AE.rel"
    ).read_text() == "7|Rash after amoxicillin.|Rash|100|104|amoxicillin|111|122\n"
    assert (tmp_path / "out" / "ADE-NEG.txt").read_text() == "8 NEG All went well.\n"
    again = list(formats.read(tmp_path / "out"))
    assert [(d.text, d.entities, [(r.type, r.head, r.tail) for r in d.relations]) for d in again] == [
        (document.text, document.entities, [("Adverse-Effect", "T1", "T2")]),
        (negative.text, (), []),
    ]
    # negative sentences only: no DRUG-AE.rel, and the one of the earlier write is gone
    formats.write([negative], tmp_path / "out", "ade")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ADE-NEG.txt"]
    assert [d.text for d in formats.read(tmp_path / "out")] == ["All went well."]
    extra = dataclasses.replace(
        document, entities=(*document.entities, Entity("T3", "Drug", ((5, 10),), "after"))
    )
    with pytest.raises(FormatError, match="document '7.s1': mentions T3 are in no relation"):
        formats.write([extra], tmp_path / "extra", "ade")
    swapped = dataclasses.replace(document, relations=(Relation("R1", "Adverse-Effect", "T2", "T1"),))
    with pytest.raises(FormatError, match="entity 'T2' \\('Drug'\\) must be one continuous 'Adverse-Effect'"):
        formats.write([swapped], tmp_path / "swapped", "ade")


def test_chemprot_writes_the_evaluation_format_of_predicted_relations(fixtures: Path, tmp_path: Path) -> None:
    """Scored relations go out as `pmid TAB CPR:n TAB Arg1:T TAB Arg2:T`, the evaluation script's input."""
    documents = list(formats.read(fixtures / "chemprot", "chemprot"))
    predicted = [
        dataclasses.replace(d, relations=tuple(dataclasses.replace(r, score=0.9) for r in d.relations))
        for d in documents
    ]
    assert formats.write(predicted, tmp_path / "pred_abstracts.tsv", "chemprot") == len(documents)
    expected = [
        "\t".join([d.id, r.type, f"Arg1:{r.head}", f"Arg2:{r.tail}"]) for d in documents for r in d.relations
    ]
    assert expected, "the fixture has relations"
    assert (tmp_path / "pred_relations.tsv").read_text().splitlines() == expected
    assert {p.name for p in tmp_path.iterdir()} == {
        "pred_abstracts.tsv",
        "pred_entities.tsv",
        "pred_relations.tsv",
    }


@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        ("blurb_chemprot.jsonl", "blurb"),
        ("blurb_ddi.jsonl", "blurb"),
        ("blue_train.tsv", "blue"),
        ("blue_test.tsv", "blue"),
    ],
)
def test_pair_formats_write_back_their_own_lines(
    fixtures: Path, tmp_path: Path, fixture: str, name: str
) -> None:
    """A pair file read and written again is the same file (ids name the folder, hence its name)."""
    original = list(formats.read(fixtures / fixture, name))
    out = tmp_path / fixtures.name / fixture
    assert formats.write(original, out, name) == len(original)
    assert list(formats.read(out, name)) == original
    assert out.read_text() == (fixtures / fixture).read_text()


def _pair_document(relations: tuple[Relation, ...]) -> Document:
    text = "Aspirin and ibuprofen inhibit COX-1. Ibuprofen is safe."
    return Document(
        id="p1",
        text=text,
        entities=(
            Entity("T1", "CHEMICAL", ((0, 7),), "Aspirin"),
            Entity("T2", "CHEMICAL", ((12, 21),), "ibuprofen"),
            Entity("T3", "GENE-Y", ((30, 35),), "COX-1"),
            Entity("T4", "CHEMICAL", ((37, 46),), "Ibuprofen"),
        ),
        relations=relations,
        sentences=((0, 36), (37, 55)),
    )


def test_blurb_writes_one_line_per_candidate_pair_of_a_document(tmp_path: Path) -> None:
    """ChemProt's rule (chemical -> gene in one sentence) for chemicals and genes, every pair otherwise."""
    document = _pair_document((Relation("R1", "CPR:4", "T2", "T3", score=0.75),))
    assert formats.write([document], tmp_path / "p.jsonl", "blurb") == 1
    records = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [(r["id"], r["sent_idx"], r["label"], r.get("score")) for r in records] == [
        ("p1.T1.T3", 0, "false", None),
        ("p1.T2.T3", 0, "CPR:4", 0.75),
    ]
    assert records[1]["chem"] == {"id": "T2", "type": "CHEMICAL", "start": 12, "end": 21, "text": "ibuprofen"}
    again = list(formats.read(tmp_path / "p.jsonl", "blurb"))
    assert [(r.type, r.head, r.tail, r.score) for d in again for r in d.relations] == [
        ("CPR:4", "T2", "T3", 0.75)
    ]
    # no gene: every unordered pair of a sentence, in DDI's shape, the relation's direction kept
    drugs = Document(
        id="d1",
        text="A raises B; C is safe with A.",
        entities=(
            Entity("a", "drug", ((0, 1),), "A"),
            Entity("b", "drug", ((9, 10),), "B"),
            Entity("c", "drug", ((12, 13),), "C"),
        ),
        relations=(Relation("r", "effect", "b", "a"),),
        sentences=((0, 29),),
    )
    assert formats.write([drugs], tmp_path / "d.jsonl", "blurb") == 1
    records = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert [(r["e1"]["id"], r["e2"]["id"], r["label"]) for r in records] == [
        ("b", "a", "effect"),
        ("a", "c", "DDI-false"),
        ("b", "c", "DDI-false"),
    ]
    assert records[0]["e1"]["charOffset"] == "9-9"


def test_pair_writers_refuse_what_no_line_can_hold(tmp_path: Path) -> None:
    """Two labels of one pair, or a relation across sentences: refused, naming the document."""
    twice = _pair_document((Relation("R1", "CPR:5", "T2", "T3"), Relation("R2", "CPR:6", "T2", "T3")))
    with pytest.raises(FormatError, match=r"document 'p1': the pair 'T2', 'T3' has 2 relations \(R1, R2\)"):
        formats.write([twice], tmp_path / "t.jsonl", "blurb")
    across = _pair_document((Relation("R1", "CPR:4", "T4", "T3"),))
    with pytest.raises(FormatError, match="relation 'R1' links mentions that no BLURB pair holds"):
        formats.write([across], tmp_path / "a.jsonl", "blurb")
    assert not list(tmp_path.iterdir()), "a refused write leaves no file"


def test_blue_masks_each_pair_of_a_document(tmp_path: Path) -> None:
    document = Document(
        id="g1",
        text="BRCA1 variants cause breast cancer but not asthma.",
        entities=(
            Entity("g", "gene", ((0, 5),), "BRCA1"),
            Entity("d1", "disease", ((21, 34),), "breast cancer"),
            Entity("d2", "disease", ((43, 49),), "asthma"),
        ),
        relations=(Relation("r", "related", "g", "d1"),),
    )
    assert formats.write([document], tmp_path / "g.tsv", "blue") == 1
    assert (tmp_path / "g.tsv").read_text().splitlines() == [
        "@GENE$ variants cause @DISEASE$ but not asthma.\t1",
        "@GENE$ variants cause breast cancer but not @DISEASE$.\t0",
        "BRCA1 variants cause @DISEASE$ but not @DISEASE$.\t0",
    ]
    split = Entity("d1", "disease", ((21, 27), (28, 34)), "breast cancer")
    pieces = dataclasses.replace(document, entities=(document.entities[0], split, document.entities[2]))
    with pytest.raises(FormatError, match="document 'g1': entity 'd1' is discontinuous and cannot be masked"):
        formats.write([pieces], tmp_path / "pieces.tsv", "blue")


def test_a_document_without_title_passage_keeps_its_text_in_chemprot(tmp_path: Path) -> None:
    document = Document(
        id="1",
        text="Aspirin  inhibits COX-1.",
        entities=(
            Entity("T1", "CHEMICAL", ((0, 7),), "Aspirin"),
            Entity("T2", "GENE-Y", ((18, 23),), "COX-1"),
        ),
        relations=(Relation("R1", "CPR:4", "T1", "T2"),),
    )
    formats.write([document], tmp_path / "x_abstracts.tsv", "chemprot")
    (again,) = formats.read(tmp_path / "x_abstracts.tsv", "chemprot")
    assert (again.text, again.entities, again.relations) == (
        document.text,
        document.entities,
        document.relations,
    )


def test_spert_tokens_are_cut_at_entity_boundaries(tmp_path: Path) -> None:
    """Any Document goes to SpERT: white space becomes single spaces, entities stay whole tokens."""
    document = Document(
        id="a",
        text="Aspirin-induced  rash\nwas seen.",
        entities=(Entity("T1", "Drug", ((0, 7),), "Aspirin"), Entity("T2", "AE", ((17, 21),), "rash")),
        relations=(Relation("R1", "Adverse-Effect", "T2", "T1"),),
    )
    formats.write([document], tmp_path / "a.json", "spert")
    record = json.loads((tmp_path / "a.json").read_text())[0]
    assert record["tokens"] == ["Aspirin", "-induced", "rash", "was", "seen."]
    assert record["entities"] == [
        {"type": "Drug", "start": 0, "end": 1},
        {"type": "AE", "start": 2, "end": 3},
    ]
    assert record["relations"] == [{"type": "Adverse-Effect", "head": 1, "tail": 0}]
    assert record["orig_id"] == "a"
    (again,) = formats.read(tmp_path / "a.json", "spert")
    assert again.text == "Aspirin -induced rash was seen."
    assert [(e.type, e.text) for e in again.entities] == [("Drug", "Aspirin"), ("AE", "rash")]
    assert [(r.type, r.head, r.tail) for r in again.relations] == [("Adverse-Effect", "E1", "E0")]


def test_ddi_writes_every_pair_of_a_sentence_and_refuses_a_cross_sentence_relation(tmp_path: Path) -> None:
    text = "A and B interact. C is safe."
    entities = (
        Entity("a", "drug", ((0, 1),), "A"),
        Entity("b", "drug", ((6, 7),), "B"),
        Entity("c", "drug", ((18, 19),), "C"),
    )
    document = Document(
        id="d1",
        text=text,
        entities=entities,
        relations=(Relation("r", "mechanism", "b", "a", symmetric=True),),
        sentences=((0, 17), (18, 28)),
    )
    formats.write([document], tmp_path / "out", "ddi")
    xml = (tmp_path / "out" / "d1.xml").read_text()
    assert '<pair id="d1.s0.p0" e1="b" e2="a" ddi="true" type="mechanism" />' in xml
    assert xml.count("<pair ") == 1, "one pair in the first sentence, none in the second"
    (again,) = formats.read(tmp_path / "out", "ddi")
    assert (again.text, again.entities, again.sentences) == (text, entities, document.sentences)
    assert [(r.type, r.head, r.tail) for r in again.relations] == [("mechanism", "b", "a")]
    across = dataclasses.replace(document, relations=(Relation("r", "int", "a", "c"),))
    with pytest.raises(FormatError, match="does not link two mentions of one sentence"):
        formats.write([across], tmp_path / "across", "ddi")


@pytest.mark.corpus
def test_ddi_writes_back_its_real_data(shared_data: Path, tmp_path: Path) -> None:
    documents = list(formats.read(shared_data / "ddi2013/raw/Test", "ddi"))
    assert formats.write(documents, tmp_path / "Test", "ddi") == len(documents)
    again = {d.id: d for d in formats.read(tmp_path / "Test", "ddi")}
    assert [again[d.id] for d in documents] == documents


@pytest.mark.corpus
def test_chemprot_and_conll04_write_back_their_real_data(shared_data: Path, tmp_path: Path) -> None:
    dev = list(formats.read(shared_data / "chemprot/raw/chemprot_development_abstracts.tsv"))
    formats.write(dev, tmp_path / "chemprot_development_abstracts.tsv", "chemprot")
    assert list(formats.read(tmp_path / "chemprot_development_abstracts.tsv")) == dev
    source = shared_data / "conll04/spert/conll04_test.json"
    test = list(formats.read(source, "spert"))
    formats.write(test, tmp_path / "conll04_test.json", "spert")
    assert json.loads((tmp_path / "conll04_test.json").read_text()) == json.loads(source.read_text())


@pytest.mark.corpus
def test_pair_formats_write_back_their_real_data(shared_data: Path, tmp_path: Path) -> None:
    """BLURB ChemProt dev and DDI test, GAD and EU-ADR fold files: written again, the same files."""
    sources = [
        ("chemprot/blurb/dev.jsonl", "blurb"),
        ("ddi2013/blurb/test.jsonl", "blurb"),
        ("gad/folds/1/train.tsv", "blue"),
        ("gad/folds/1/test.tsv", "blue"),
        ("euadr/folds/3/test.tsv", "blue"),
    ]
    for relative, name in sources:
        source = shared_data / relative
        out = tmp_path / relative
        documents = list(formats.read(source, name))
        assert formats.write(documents, out, name) == len(documents)
        assert out.read_text() == source.read_text(), relative


@pytest.mark.corpus
def test_ade_writes_back_its_real_release(shared_data: Path, tmp_path: Path) -> None:
    documents = list(formats.read(shared_data / "ade/raw", "ade"))
    assert formats.write(documents, tmp_path / "raw", "ade") == len(documents)
    for name in ("DRUG-AE.rel", "ADE-NEG.txt"):
        assert (tmp_path / "raw" / name).read_text() == (shared_data / "ade/raw" / name).read_text(), name


def test_ddi_char_offsets_format_back_to_what_they_parse_from() -> None:
    # a discontinuous mention in a sentence that starts at document offset 100
    spans = parse_char_offset("59-65;75-78", 90, Path("x.xml"), "e1")
    assert spans == ((59, 66), (75, 79))
    assert format_char_offset(tuple((s + 100, e + 100) for s, e in spans), 100) == "59-65;75-78"
