"""Kept per-type binary members in a JSON file: round trip, and refusal onto other pairs."""

from __future__ import annotations

import pytest

from biorelex.errors import ConfigError
from biorelex.training.member_store import JsonMemberStore
from biorelex.training.trainer import KeptMember

PAIRS = {
    "dev": [("d1", "T1", "T2"), ("d0", "T1", "T3")],
    "test": [("t9", "T1", "T2")],
}


def _member() -> KeptMember:
    return KeptMember(
        facts={"seconds_training": 12.5},
        history=[{"epoch": 1, "dev_micro_f1": 0.5}],
        scores={
            "dev": {("d1", "T1", "T2"): 0.25, ("d0", "T1", "T3"): 0.123456789},
            "test": {("t9", "T1", "T2"): 0.9},
        },
    )


def test_kept_members_survive_a_new_process_exactly(tmp_path) -> None:
    path = tmp_path / "kept.json"
    JsonMemberStore(path, lambda: {"commit": "abc"}).keep("CPR:3", _member())
    store = JsonMemberStore(path)
    assert store.restore("CPR:4", PAIRS) is None
    restored = store.restore("CPR:3", PAIRS)
    assert restored is not None
    assert restored.facts == {"seconds_training": 12.5}
    assert restored.history == [{"epoch": 1, "dev_micro_f1": 0.5}]
    assert restored.scores["dev"][("d1", "T1", "T2")] == 0.25
    # float32 storage: exact to float32, whatever order the pairs come in
    assert restored.scores["dev"][("d0", "T1", "T3")] == pytest.approx(0.123456789, abs=1e-7)
    assert restored.scores["test"] == {("t9", "T1", "T2"): pytest.approx(0.9, abs=1e-7)}
    assert store.kept_provenance() == {"CPR:3": {"commit": "abc"}}
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file


def test_restoring_onto_other_pairs_is_refused_with_the_file_and_member(tmp_path) -> None:
    path = tmp_path / "kept.json"
    JsonMemberStore(path).keep("CPR:3", _member())
    other = {**PAIRS, "test": [("t8", "T1", "T2")]}
    with pytest.raises(ConfigError, match=r"kept\.json.*CPR:3.*test pairs"):
        JsonMemberStore(path).restore("CPR:3", other)
    with pytest.raises(ConfigError, match="test pairs"):
        JsonMemberStore(path).restore("CPR:3", {"dev": PAIRS["dev"], "test": PAIRS["test"] * 2})


def test_a_damaged_file_is_named(tmp_path) -> None:
    path = tmp_path / "kept.json"
    path.write_text('{"CPR:3": ', encoding="utf-8")
    with pytest.raises(ConfigError, match="kept.json"):
        JsonMemberStore(path)
    assert path.read_text(encoding="utf-8") == '{"CPR:3": '  # left as it was, for the user to inspect


def test_each_kept_member_scores_its_type_against_the_rest(tmp_path) -> None:
    path = tmp_path / "kept.json"
    JsonMemberStore(path).keep("CPR:3", _member())
    gold = {
        # dev: P = 0.25 (no), 0.12 (no) against gold CPR:3, CPR:4 -> no true positive, recall 0
        "dev": {("d1", "T1", "T2"): "CPR:3", ("d0", "T1", "T3"): "CPR:4"},
        # test: 0.9 (yes) on a pair without relation -> precision 0
        "test": {("t9", "T1", "T2"): None},
    }
    report = JsonMemberStore(path).alone(gold)
    assert report["CPR:3"]["dev"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "pairs": 2}
    assert report["CPR:3"]["test"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "pairs": 1}
    hit = {**gold, "test": {("t9", "T1", "T2"): "CPR:3"}}
    assert JsonMemberStore(path).alone(hit)["CPR:3"]["test"] == {
        "precision": 100.0,
        "recall": 100.0,
        "f1": 100.0,
        "pairs": 1,
    }
    with pytest.raises(ConfigError, match="CPR:3"):  # gold over other pairs than the kept ones
        JsonMemberStore(path).alone({**gold, "test": {("t8", "T1", "T2"): None}})
