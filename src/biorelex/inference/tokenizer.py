"""A torch-free tokenizer for exported models: the ``tokenizers`` library behind the small part
of the Hugging Face tokenizer interface that :func:`biorelex.data.encoding.encode_pair` uses.

``transformers.AutoTokenizer`` imports torch when torch is installed; an exported ONNX folder must
predict with onnxruntime alone, so it reads ``tokenizer.json`` directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from biorelex.errors import ConfigError


class FastTokenizer:
    """``tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)`` and the special ids."""

    def __init__(self, tokenizer: Any, special: dict[str, str]) -> None:
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.cls_token_id = self._id(special.get("cls_token", "[CLS]"))
        self.sep_token_id = self._id(special.get("sep_token", "[SEP]"))
        self.pad_token_id = self._id(special.get("pad_token", "[PAD]"))
        self.unk_token_id = self._id(special.get("unk_token", "[UNK]"))

    def _id(self, token: Any) -> int:
        if isinstance(token, dict):  # older tokenizer_config.json files store AddedToken dicts
            token = token.get("content")
        index = self._tokenizer.token_to_id(str(token))
        if index is None:
            raise ConfigError(f"special token {token!r} is not in the tokenizer's vocabulary")
        return int(index)

    @classmethod
    def from_directory(cls, directory: str | Path) -> FastTokenizer:
        """Read ``tokenizer.json`` (+ ``tokenizer_config.json`` for the special tokens)."""
        from tokenizers import Tokenizer

        directory = Path(directory)
        path = directory / "tokenizer.json"
        if not path.exists():
            raise ConfigError(f"{directory} has no tokenizer.json (export a model with a fast tokenizer)")
        config_path = directory / "tokenizer_config.json"
        special = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
        return cls(Tokenizer.from_file(str(path)), special)

    def __call__(
        self, text: str | list[str], add_special_tokens: bool = True, return_offsets_mapping: bool = False
    ) -> dict[str, Any]:
        """One text gives flat lists, a list of texts gives one list per text (``encode_batch``)."""
        if isinstance(text, str):
            batch = self([text], add_special_tokens, return_offsets_mapping)
            return {key: value[0] for key, value in batch.items()}
        encodings = self._tokenizer.encode_batch(text, add_special_tokens=add_special_tokens)
        result: dict[str, Any] = {"input_ids": [e.ids for e in encodings]}  # already lists of ints
        if return_offsets_mapping:
            result["offset_mapping"] = [e.offsets for e in encodings]  # lists of (start, end) tuples
        return result
