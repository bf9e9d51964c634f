"""Config loading: TOML, dotted overrides, validation errors that name the field."""

from __future__ import annotations

import pytest

from biorelex.config import apply_overrides, load_config
from biorelex.errors import ConfigError


def test_defaults_without_a_file() -> None:
    config = load_config()
    assert config.model.encoder == "embedded:all-MiniLM-L6-v2"
    assert config.model.head == "cls"
    assert config.data.corpus == "chemprot-blurb"


def test_toml_and_typed_overrides(tmp_path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('[model]\nhead = "entity_start"\n[train]\nlr = 3e-5\n', encoding="utf-8")
    config = load_config(
        path, ["train.lr=1e-4", "train.epochs=2", "model.representation=markers", "data.dev=''"]
    )
    assert config.model.head == "entity_start"
    assert config.train.lr == pytest.approx(1e-4)
    assert config.train.epochs == 2
    assert config.model.representation == "markers"
    assert config.data.dev is None


def test_unknown_key_is_refused_with_its_name(tmp_path) -> None:
    path = tmp_path / "run.toml"
    path.write_text("[train]\nlearning_rate = 3e-5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"train\.learning_rate"):
        load_config(path)


def test_bad_value_is_refused_with_its_name() -> None:
    with pytest.raises(ConfigError, match=r"model\.representation"):
        load_config(None, ["model.representation=bold"])


def test_bad_toml_names_the_file(tmp_path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[train\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.toml"):
        load_config(path)


@pytest.mark.parametrize("override", ["lr=3", "train.lr", ".lr=3"])
def test_malformed_overrides(override: str) -> None:
    with pytest.raises(ConfigError):
        apply_overrides({}, [override])


def test_one_sentence_splitter_knob() -> None:
    config = load_config(None, ["data.splitter=syntok"])
    assert config.data.splitter == config.joint.splitter == "syntok"
    assert load_config(None, ["joint.splitter=syntok"]).joint.splitter == "syntok"
    with pytest.raises(ConfigError, match=r"data\.splitter .* joint\.splitter"):
        load_config(None, ["data.splitter=syntok", "joint.splitter=nupunkt"])
