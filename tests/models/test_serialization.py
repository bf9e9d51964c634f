"""Atomic writes: a failure mid-write leaves the previous file or directory as it was."""

from __future__ import annotations

import json
import os

import pytest

from biorelex.data.formats import _io
from biorelex.models.serialization import atomic_directory, read_json, write_json


def test_write_json_round_trips_and_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "results.json"
    write_json(path, {"f1": 0.5, "labels": ("a", "b")})
    assert read_json(path) == {"f1": 0.5, "labels": ["a", "b"]}
    with pytest.raises(TypeError):
        write_json(path, {"f1": object()})  # not serialisable: fails before the file is touched

    def killed(src, dst):  # the process dies between writing the temporary file and renaming it
        raise OSError("killed")

    monkeypatch.setattr(_io.os, "replace", killed)
    with pytest.raises(OSError, match="killed"):
        write_json(path, {"f1": 0.9})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"f1": 0.5, "labels": ["a", "b"]}
    assert os.listdir(tmp_path) == ["results.json"]  # no temporary file left behind
    plain = tmp_path / "plain.txt"
    plain.write_text("")
    assert path.stat().st_mode == plain.stat().st_mode  # the umask's permissions, not mkstemp's 0600


def test_atomic_directory_keeps_the_previous_version_when_the_block_fails(tmp_path) -> None:
    model = tmp_path / "model"
    with atomic_directory(model) as out:
        (out / "weights").write_text("v1")
    with pytest.raises(RuntimeError), atomic_directory(model) as out:
        (out / "weights").write_text("v2, half written")
        raise RuntimeError("crash mid-save")
    assert (model / "weights").read_text() == "v1"
    assert os.listdir(tmp_path) == ["model"]
    with atomic_directory(model) as out:
        (out / "weights").write_text("v2")
    assert (model / "weights").read_text() == "v2"
    assert os.listdir(tmp_path) == ["model"]
