from __future__ import annotations

from pathlib import Path

import pytest

from biorelex.errors import ConfigError
from biorelex.models.encoder import resolve_encoder


def test_default_is_the_embedded_minilm() -> None:
    assert (Path(resolve_encoder()) / "config.json").exists()


def test_local_directory_and_hub_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config.json"):
        resolve_encoder(str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    assert resolve_encoder(str(tmp_path)) == str(tmp_path)
    assert resolve_encoder("dmis-lab/biobert-base-cased-v1.2") == "dmis-lab/biobert-base-cased-v1.2"


@pytest.mark.slow
def test_embedded_encoder_loads_offline() -> None:
    from biorelex.models.encoder import load_encoder

    model, tokenizer = load_encoder()
    assert model.config.hidden_size == 384
    assert tokenizer("aspirin")["input_ids"][0] == tokenizer.cls_token_id
