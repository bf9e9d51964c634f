"""Table-driven: every malformed input gets its specific, located error; lenient mode reports skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorelex.data import formats
from biorelex.errors import FormatError, ReadReport

ABSTRACT = "1\tAspirin works.\tIt inhibits COX-1.\n"
CHEMPROT_OK_ENTITY = "1\tT1\tCHEMICAL\t0\t7\tAspirin\n"
DDI_HEAD = '<?xml version="1.0"?>\n<document id="D1">\n'
DDI_SENT = '<sentence id="D1.s0" text="Warfarin and aspirin.">\n'
BLURB_OK = (
    '{"id": "p1", "sentence": "Aspirin inhibits COX-1.", "label": "CPR:4", '
    '"chem": {"id": "T1", "type": "CHEMICAL", "start": 0, "end": 7, "text": "Aspirin"}, '
    '"gene": {"id": "T2", "type": "GENE", "start": 17, "end": 22, "text": "COX-1"}}'
)

# (case id, format, {file name: content (str or bytes)}, file to read, expected message, expected line)
CASES = [
    (
        "chemprot-columns",
        "chemprot",
        {"x_abstracts.tsv": "1\tonly two\n", "x_entities.tsv": ""},
        "x_abstracts.tsv",
        "expected 3 tab-separated columns",
        1,
    ),
    (
        "chemprot-offsets",
        "chemprot",
        {"x_abstracts.tsv": ABSTRACT, "x_entities.tsv": "1\tT1\tCHEMICAL\t0\t6\tAspirin\n"},
        "x_abstracts.tsv",
        "do not cover 'Aspirin'",
        1,
    ),
    (
        "chemprot-entity-int",
        "chemprot",
        {"x_abstracts.tsv": ABSTRACT, "x_entities.tsv": "1\tT1\tCHEMICAL\tzero\t7\tAspirin\n"},
        "x_abstracts.tsv",
        "start must be an integer",
        1,
    ),
    (
        "chemprot-missing-arg",
        "chemprot",
        {
            "x_abstracts.tsv": ABSTRACT,
            "x_entities.tsv": CHEMPROT_OK_ENTITY,
            "x_relations.tsv": "1\tCPR:4\tY \tINHIBITOR\tArg1:T1\tArg2:T9\n",
        },
        "x_abstracts.tsv",
        "relation argument T9 is not an entity",
        1,
    ),
    (
        "chemprot-duplicate-doc",
        "chemprot",
        {"x_abstracts.tsv": ABSTRACT + ABSTRACT, "x_entities.tsv": ""},
        "x_abstracts.tsv",
        "duplicate document id '1'",
        2,
    ),
    (
        "chemprot-unknown-doc",
        "chemprot",
        {"x_abstracts.tsv": ABSTRACT, "x_entities.tsv": "9\tT1\tCHEMICAL\t0\t7\tAspirin\n"},
        "x_abstracts.tsv",
        "entities of unknown document '9'",
        1,
    ),
    (
        "chemprot-empty",
        "chemprot",
        {"x_abstracts.tsv": "", "x_entities.tsv": ""},
        "x_abstracts.tsv",
        "file is empty",
        None,
    ),
    (
        "chemprot-duplicate-entity",
        "chemprot",
        {"x_abstracts.tsv": ABSTRACT, "x_entities.tsv": CHEMPROT_OK_ENTITY * 2},
        "x_abstracts.tsv",
        "duplicate entity ids in document 1",
        None,
    ),
    ("ddi-truncated", "ddi", {"d.xml": DDI_HEAD + DDI_SENT}, "d.xml", "malformed XML", 4),
    (
        "ddi-offset-range",
        "ddi",
        {
            "d.xml": DDI_HEAD
            + DDI_SENT
            + '<entity id="e0" charOffset="0-99" type="drug" text="Warfarin"/></sentence></document>'
        },
        "d.xml",
        "out of range",
        None,
    ),
    (
        "ddi-offset-syntax",
        "ddi",
        {
            "d.xml": DDI_HEAD
            + DDI_SENT
            + '<entity id="e0" charOffset="zero" type="drug" text="Warfarin"/></sentence></document>'
        },
        "d.xml",
        "is not 'start-end",
        None,
    ),
    (
        "ddi-text-mismatch",
        "ddi",
        {
            "d.xml": DDI_HEAD
            + DDI_SENT
            + '<entity id="e0" charOffset="0-7" type="drug" text="Aspirin"/></sentence></document>'
        },
        "d.xml",
        "differs from the text at charOffset",
        None,
    ),
    (
        "ddi-pair-missing-entity",
        "ddi",
        {
            "d.xml": DDI_HEAD
            + DDI_SENT
            + '<entity id="e0" charOffset="0-7" type="drug" text="Warfarin"/><pair id="p0" e1="e0" e2="e7" ddi="true"/></sentence></document>'
        },
        "d.xml",
        "pair names entity 'e7'",
        None,
    ),
    (
        "ddi-bad-label",
        "ddi",
        {
            "d.xml": DDI_HEAD
            + DDI_SENT
            + '<entity id="e0" charOffset="0-7" type="drug" text="Warfarin"/><entity id="e1" charOffset="13-19" type="drug" text="aspirin"/><pair id="p0" e1="e0" e2="e1" ddi="maybe"/></sentence></document>'
        },
        "d.xml",
        "ddi must be 'true' or 'false'",
        None,
    ),
    (
        "xml-entity-bomb",
        "bioc-xml",
        {
            "b.xml": '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n<collection>&lol2;</collection>'
        },
        "b.xml",
        "unsafe XML refused",
        None,
    ),
    (
        "xml-external-entity",
        "bioc-xml",
        {
            "b.xml": '<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<collection>&xxe;</collection>'
        },
        "b.xml",
        "unsafe XML refused",
        None,
    ),
    (
        "bioc-location",
        "bioc-xml",
        {
            "b.xml": "<collection><document><id>1</id><passage><offset>0</offset><text>Aspirin.</text><annotation id='a'><infon key='type'>Chemical</infon><location offset='0' length='50'/><text>Aspirin</text></annotation></passage></document></collection>"
        },
        "b.xml",
        "out of range",
        None,
    ),
    (
        "bioc-relation-node",
        "bioc-xml",
        {
            "b.xml": "<collection><document><id>1</id><passage><offset>0</offset><text>Aspirin.</text><annotation id='a'><infon key='type'>Chemical</infon><location offset='0' length='7'/><text>Aspirin</text></annotation></passage><relation id='r'><infon key='relation'>x</infon><node refid='a' role='A'/><node refid='zz' role='B'/></relation></document></collection>"
        },
        "b.xml",
        "tail 'zz' names no entity",
        None,
    ),
    (
        "bioc-json-not-collection",
        "bioc-json",
        {"b.json": "[1, 2]"},
        "b.json",
        "expected a BioC collection",
        None,
    ),
    (
        "blurb-bad-json",
        "blurb",
        {"train.jsonl": BLURB_OK + "\n{not json\n"},
        "train.jsonl",
        "invalid JSON",
        2,
    ),
    (
        "blurb-missing-field",
        "blurb",
        {"train.jsonl": BLURB_OK.replace('"label": "CPR:4", ', "")},
        "train.jsonl",
        "missing field 'label'",
        1,
    ),
    (
        "blurb-offset-mismatch",
        "blurb",
        {"train.jsonl": BLURB_OK.replace('"end": 7', '"end": 6')},
        "train.jsonl",
        "does not match the sentence",
        1,
    ),
    (
        "blurb-duplicate-id",
        "blurb",
        {"train.jsonl": BLURB_OK + "\n" + BLURB_OK + "\n"},
        "train.jsonl",
        "duplicate pair id 'p1'",
        2,
    ),
    (
        "blue-columns",
        "blue",
        {"train.tsv": "a sentence with @GENE$ and @DISEASE$ and no label\n"},
        "train.tsv",
        "expected 2 tab-separated columns",
        1,
    ),
    (
        "blue-masks",
        "blue",
        {"train.tsv": "only @GENE$ here\t1\n"},
        "train.tsv",
        "expected exactly 2 entity masks",
        1,
    ),
    (
        "blue-label",
        "blue",
        {"test.tsv": "index\tsentence\tlabel\n0\t@GENE$ and @DISEASE$\tyes\n"},
        "test.tsv",
        "label must be 0 or 1",
        2,
    ),
    (
        "not-utf8",
        "blue",
        {"train.tsv": b"ok @GENE$ @DISEASE$\t1\ncaf\xe9 @GENE$ @DISEASE$\t0\n"},
        "train.tsv",
        "is not UTF-8",
        2,
    ),
    (
        "ade-columns",
        "ade",
        {"DRUG-AE.rel": "1|A sentence.|x|1|2\n"},
        "DRUG-AE.rel",
        "expected 8 '|'-separated columns",
        1,
    ),
    (
        "ade-offsets",
        "ade",
        {"DRUG-AE.rel": "1|Aspirin causes rash.|rash|10|14|Aspirin|99|106\n"},
        "DRUG-AE.rel",
        "no single sentence position",
        1,
    ),
    (
        "ade-neg",
        "ade",
        {
            "DRUG-AE.rel": "1|Aspirin causes rash.|rash|15|19|Aspirin|0|7\n",
            "ADE-NEG.txt": "2 POS A sentence.\n",
        },
        ".",
        "expected 'pmid NEG sentence'",
        1,
    ),
    (
        "spert-token-range",
        "spert",
        {
            "s.json": '[{"tokens": ["a", "b"], "entities": [{"type": "X", "start": 1, "end": 5}], "relations": []}]'
        },
        "s.json",
        "token range (1, 5) is out of range",
        None,
    ),
    (
        "spert-relation-index",
        "spert",
        {
            "s.json": '[{"tokens": ["a", "b"], "entities": [{"type": "X", "start": 0, "end": 1}], "relations": [{"type": "R", "head": 0, "tail": 3}]}]'
        },
        "s.json",
        "relation names entity 3",
        None,
    ),
    (
        "brat-missing-txt",
        "brat",
        {"n.ann": "T1\tDrug 0 3\tabc\n"},
        "n.ann",
        "missing the text file n.txt",
        None,
    ),
    (
        "brat-span-text",
        "brat",
        {"n.txt": "aspirin", "n.ann": "T1\tDrug 0 3\tasp\nT2\tDrug 0 4\tasp\n"},
        "n.ann",
        "does not match the text at its offsets",
        2,
    ),
    (
        "brat-relation-arg",
        "brat",
        {"n.txt": "aspirin", "n.ann": "T1\tDrug 0 7\taspirin\nR1\tX Arg1:T1 Arg2:T5\n"},
        "n.ann",
        "relation argument 'T5'",
        2,
    ),
    (
        "brat-duplicate-id",
        "brat",
        {"n.txt": "aspirin", "n.ann": "T1\tDrug 0 7\taspirin\nT1\tDrug 0 3\tasp\n"},
        "n.ann",
        "duplicate annotation id 'T1'",
        2,
    ),
    (
        "pubtator-offsets",
        "pubtator",
        {"p.txt": "1|t|Aspirin.\n1|a|Text.\n1\t0\t99\tAspirin\tChemical\tD1\n"},
        "p.txt",
        "out of range",
        3,
    ),
    (
        "pubtator-no-title",
        "pubtator",
        {"p.txt": "1\t0\t7\tAspirin\tChemical\tD1\n"},
        "p.txt",
        "block has no 'pmid|t|title' line",
        1,
    ),
    (
        "pubtator-mixed-block",
        "pubtator",
        {"p.txt": "1|t|Aspirin.\n2\t0\t7\tAspirin\tChemical\tD1\n"},
        "p.txt",
        "belongs to document '2'",
        2,
    ),
    (
        "pubtator-relation-concept",
        "pubtator",
        {"p.txt": "1|t|Aspirin.\n1\t0\t7\tAspirin\tChemical\tD1\n1\tCID\tD1\tD9\n"},
        "p.txt",
        "tail 'D9' names no concept",
        1,
    ),
    (
        "jsonl-unknown-field",
        "jsonl",
        {"d.jsonl": '{"id": "a", "text": "x", "tokens": []}\n'},
        "d.jsonl",
        "unknown document field",
        1,
    ),
    (
        "jsonl-entity-field",
        "jsonl",
        {"d.jsonl": '{"id": "a", "text": "xyz", "entities": [{"id": "e", "type": "T", "text": "x"}]}\n'},
        "d.jsonl",
        "entities[0]: missing field 'spans'",
        1,
    ),
    ("jsonl-empty", "jsonl", {"d.jsonl": ""}, "d.jsonl", "file is empty", None),
]


def _materialise(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


@pytest.mark.parametrize(
    ("case", "name", "files", "target", "message", "line"), CASES, ids=[c[0] for c in CASES]
)
def test_malformed_input_gets_a_located_error(
    tmp_path: Path, case: str, name: str, files: dict, target: str, message: str, line: int | None
) -> None:
    _materialise(tmp_path, files)
    with pytest.raises(FormatError) as info:
        list(formats.read(tmp_path / target, name))
    error = info.value
    assert message in str(error), f"{case}: {error}"
    assert error.path is not None and Path(error.path).parent == tmp_path, f"{case}: error must name the file"
    if line is not None:
        assert error.line == line, f"{case}: expected line {line}, got {error.line}"


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in CASES
        if c[0]
        in {
            "chemprot-offsets",
            "blurb-bad-json",
            "blue-masks",
            "brat-span-text",
            "pubtator-offsets",
            "ddi-text-mismatch",
        }
    ],
    ids=lambda c: c[0],
)
def test_lenient_mode_skips_and_reports_every_bad_record(tmp_path: Path, case) -> None:
    _case, name, files, target, message, _line = case
    _materialise(tmp_path, files)
    report = ReadReport(lenient=True)
    list(formats.read(tmp_path / target, name, report=report))
    assert report.skipped, "a skip is never silent"
    assert any(message in str(skip) for skip in report.skipped)


def test_lenient_mode_keeps_the_good_records(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text(BLURB_OK + "\n{broken\n" + BLURB_OK.replace('"p1"', '"p2"') + "\n")
    report = ReadReport(lenient=True)
    docs = list(formats.read(tmp_path / "train.jsonl", "blurb", report=report))
    assert [d.id for d in docs] == ["p1", "p2"]
    assert len(report.skipped) == 1 and report.skipped[0].line == 2


def test_unknown_format_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="unknown format 'nope'"):
        formats.read(tmp_path, "nope")
    with pytest.raises(FormatError, match="no such file"):
        formats.read(tmp_path / "absent.jsonl")
