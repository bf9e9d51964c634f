"""Atomic directory writes and pickle-free state files (safetensors + JSON).

A model or checkpoint directory is written into a temporary sibling and renamed into place, so a
crash mid-write leaves the previous version intact, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@contextmanager
def atomic_directory(directory: str | Path) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``directory`` when the block succeeds."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        yield temporary
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    old = directory.with_name(f".{directory.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if directory.exists():
        os.replace(directory, old)
    os.replace(temporary, directory)
    shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON, written to a temporary file and renamed into place, so a run
    stopped mid-write leaves the previous file (a summary, a config, a fold's results) intact."""
    from biorelex.data.formats._io import atomic_write

    text = json.dumps(data, indent=2, sort_keys=True) + "\n"  # fails before the file is touched
    with atomic_write(path) as fh:
        fh.write(text)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


MODEL_FILE = "biorelex.json"
JOINT_KIND = "joint"  # the ``kind`` of a joint NER+RE model; every other kind classifies given pairs


def load_metadata(directory: str | Path) -> dict[str, Any]:
    """The ``biorelex.json`` of a model directory (any kind); torch is not imported."""
    from biorelex.errors import ConfigError

    path = Path(directory) / MODEL_FILE
    if not path.exists():
        raise ConfigError(f"{directory} is not a biorelex model directory (no {MODEL_FILE})")
    data: dict[str, Any] = read_json(path)
    return data


def is_joint_model(directory: str | Path) -> bool:
    """Whether ``directory`` holds a joint NER+RE model (extracts from raw text) rather than a
    relation classifier (scores given entity pairs): the one test every loader dispatches on."""
    return load_metadata(directory).get("kind") == JOINT_KIND


def save_optimizer(optimizer: torch.optim.Optimizer, directory: Path) -> None:
    """Optimizer state as ``optimizer.safetensors`` (tensors) + ``optimizer.json`` (the rest)."""
    import torch
    from safetensors.torch import save_file

    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    save_file(tensors, str(directory / "optimizer.safetensors"))
    write_json(directory / "optimizer.json", {"param_groups": state["param_groups"], "scalars": scalars})


def load_optimizer(optimizer: torch.optim.Optimizer, directory: Path) -> None:
    """Restore what :func:`save_optimizer` wrote."""
    from safetensors.torch import load_file

    tensors = load_file(str(directory / "optimizer.safetensors"))
    meta = read_json(directory / "optimizer.json")
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_encoder_model(
    directory: str | Path, encoder: Any, tokenizer: Any, head: torch.nn.Module, metadata: dict[str, Any]
) -> None:
    """Write an encoder + head model directory atomically: ``encoder/`` (``save_pretrained``),
    ``head.safetensors`` and ``biorelex.json`` (``metadata`` plus the torch/transformers versions)."""
    import torch
    import transformers
    from safetensors.torch import save_file

    with atomic_directory(directory) as temporary:
        encoder.save_pretrained(temporary / "encoder")
        tokenizer.save_pretrained(temporary / "encoder")
        state = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
        save_file(state, str(temporary / "head.safetensors"))
        versions = {"torch": torch.__version__, "transformers": transformers.__version__}
        write_json(temporary / MODEL_FILE, {"versions": versions, **metadata})


def load_encoder_model(directory: str | Path, kind: str, what: str) -> tuple[dict[str, Any], Any, Any]:
    """``(metadata, encoder, tokenizer)`` of a directory :func:`save_encoder_model` wrote with
    ``kind``; a directory of another kind is refused, naming ``what`` was expected."""
    from transformers import AutoModel, AutoTokenizer

    from biorelex.errors import ConfigError

    directory = Path(directory)
    meta = load_metadata(directory)
    if meta.get("kind") != kind:
        raise ConfigError(f"{directory} holds a {meta.get('kind')!r} model, not {what}")
    tokenizer = AutoTokenizer.from_pretrained(directory / "encoder")
    encoder = AutoModel.from_pretrained(directory / "encoder")
    return meta, encoder, tokenizer


def load_head(head: torch.nn.Module, directory: str | Path) -> None:
    """Load ``head.safetensors`` of a model directory into ``head``."""
    from safetensors.torch import load_file

    head.load_state_dict(load_file(str(Path(directory) / "head.safetensors")))
