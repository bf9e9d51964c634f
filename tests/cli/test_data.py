from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biorelex.cli import app

runner = CliRunner()


def test_stats_json_on_a_fixture(fixtures: Path) -> None:
    result = runner.invoke(app, ["stats", str(fixtures / "chemprot"), "--json", "--preset", "chemprot"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format"] == "chemprot"
    assert data["documents"] == 2 and data["relations"] == 3
    assert data["entities_by_type"] == {"CHEMICAL": 5, "GENE-N": 1, "GENE-Y": 3}
    assert data["candidates"]["pairs"] == 4
    assert data["read_report"]["warnings"]["chemprot: duplicate (group, Arg1, Arg2) relations merged"] == 1


def test_stats_table_and_detection(fixtures: Path) -> None:
    result = runner.invoke(app, ["stats", str(fixtures / "sample.bioc.xml")])
    assert result.exit_code == 0, result.output
    assert "relations" in result.stdout


def test_convert_between_formats(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddi.jsonl"
    result = runner.invoke(app, ["convert", str(fixtures / "ddi/sample.xml"), str(out)])
    assert result.exit_code == 0, result.output
    back = runner.invoke(app, ["convert", str(out), str(tmp_path / "brat"), "--to", "brat"])
    assert back.exit_code == 0, back.output
    assert (tmp_path / "brat" / "DDI-DrugBank.d1.ann").read_text().count("\tgroup ") == 3


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "text": "abc", "entities": [{"id": "e", "type": "T", "spans": [[0, 9]], "text": "x"}]}\n'
    )
    result = runner.invoke(app, ["stats", str(bad)])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output and "out of range" in result.output
    assert "Traceback" not in result.output


def test_lenient_reports_skips(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"id": "a", "text": "abc"}\n{oops\n')
    result = runner.invoke(app, ["stats", str(bad), "--lenient", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["documents"] == 1 and len(data["read_report"]["skipped"]) == 1


def test_convert_needs_a_known_output_format(fixtures: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(fixtures / "sample.jsonl"), str(tmp_path / "out.xyz")])
    assert result.exit_code == 2 and "pass --to" in result.output


def test_formats_lists_every_format() -> None:
    result = runner.invoke(app, ["formats"])
    assert result.exit_code == 0
    for name in (
        "chemprot",
        "ddi",
        "blurb",
        "blue",
        "ade",
        "spert",
        "brat",
        "bioc-xml",
        "bioc-json",
        "pubtator",
        "jsonl",
    ):
        assert name in result.stdout


@pytest.mark.corpus
def test_stats_on_a_catalogued_corpus(shared_data: Path) -> None:
    result = runner.invoke(app, ["stats", "--corpus", "conll04", "--data-dir", str(shared_data), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["splits"]["test"]["relations"] == 422
