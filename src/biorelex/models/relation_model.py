"""``RelationModel``: an encoder (any ``AutoModel``) + one registered head, with typed output.

Saved as a directory: ``biorelex.json`` (our config, labels, versions), ``encoder/`` (the encoder
and tokenizer via ``save_pretrained``) and ``head.safetensors``. Nothing is pickled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from biorelex.config import ModelConfig
from biorelex.data.examples import LabelSet
from biorelex.data.representation import special_tokens
from biorelex.errors import ConfigError
from biorelex.models.encoder import load_encoder
from biorelex.models.heads import HEADS, HeadInputs, RelationHead
from biorelex.models.serialization import load_encoder_model, load_head, save_encoder_model

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass
class RelationOutput:
    """What a forward pass returns: ``logits (batch, labels)`` and the loss when labels were given."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None


def _init_special_embeddings(encoder: Any, tokenizer: Any, tokens: list[str]) -> None:
    """Each new marker starts as the mean embedding of the words it stands for.

    ``<h:CHEMICAL>`` starts at mean(emb("@"), emb("chemical")), ``</h>`` at emb("@"); tail markers
    use "#". The markers then begin near the punctuation markers that work without new tokens.
    """
    embeddings = encoder.get_input_embeddings().weight
    with torch.no_grad():
        for token in tokens:
            role = "@" if token.startswith(("<h", "</h")) else "#"
            words = role
            if ":" in token:
                words += " " + token.split(":", 1)[1].rstrip(">").replace("_", " ").lower()
            ids = tokenizer(words, add_special_tokens=False)["input_ids"]
            unknown = tokenizer.unk_token_id
            ids = [i for i in ids if i != unknown] or ids
            embeddings[tokenizer.convert_tokens_to_ids(token)] = embeddings[ids].mean(0)


class RelationModel(nn.Module):
    """Encoder -> head -> logits over a :class:`LabelSet`."""

    def __init__(
        self, encoder: Any, tokenizer: Any, head: RelationHead, labels: LabelSet, config: ModelConfig
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.head = head
        self.labels = labels
        self.config = config

    @classmethod
    def create(
        cls,
        config: ModelConfig,
        labels: LabelSet,
        entity_types: set[str] | None = None,
        encoder: Any = None,
        tokenizer: Any = None,
    ) -> RelationModel:
        """A new model: the configured encoder (or the one given) and a freshly initialised head.

        With ``representation = "special"`` the typed marker tokens of ``entity_types`` are added
        to the tokenizer and their embeddings initialised from the words they stand for.
        """
        if encoder is None or tokenizer is None:
            encoder, tokenizer = load_encoder(config.encoder)
        if config.representation == "special":
            if not entity_types:
                raise ConfigError("representation 'special' needs the entity types of the training data")
            tokens = [t for t in special_tokens(entity_types) if t not in tokenizer.get_vocab()]
            if tokens:
                tokenizer.add_tokens(tokens, special_tokens=True)
                encoder.resize_token_embeddings(len(tokenizer))
                _init_special_embeddings(encoder, tokenizer, tokens)
        head_class = HEADS.get(config.head)
        head = head_class(encoder.config.hidden_size, len(labels.labels), config.dropout)
        return cls(encoder, tokenizer, head, labels, config)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(
        self, batch: dict[str, torch.Tensor], class_weights: torch.Tensor | None = None
    ) -> RelationOutput:
        """Logits for a collated batch; the loss too when ``batch["labels"]`` holds gold classes."""
        hidden = self.encoder(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state  # (batch, seq, hidden)
        inputs = HeadInputs(
            hidden,
            batch["attention_mask"],
            batch["head_start"],
            batch["tail_start"],
            batch["head_mask"],
            batch["tail_mask"],
        )
        logits = self.head(inputs)  # (batch, labels)
        loss = None
        labels = batch.get("labels")
        if labels is not None and bool((labels >= 0).all()):
            weight = class_weights.to(logits.device) if class_weights is not None else None
            loss = nn.functional.cross_entropy(logits.float(), labels, weight=weight)
        return RelationOutput(logits, loss)

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write the model directory atomically (see the module docstring)."""
        metadata = {
            "format_version": FORMAT_VERSION,
            "kind": "relation_classifier",
            "model": self.config.model_dump(),
            "labels": self.labels.to_dict(),
            **(extra or {}),
        }
        save_encoder_model(directory, self.encoder, self.tokenizer, self.head, metadata)

    @classmethod
    def load(cls, directory: str | Path, device: str | torch.device | None = None) -> RelationModel:
        """Load a directory written by :meth:`save`."""
        meta, encoder, tokenizer = load_encoder_model(
            directory, "relation_classifier", "a relation classifier"
        )
        config = ModelConfig.model_validate(meta["model"])
        labels = LabelSet.from_dict(meta["labels"])
        head = HEADS.get(config.head)(encoder.config.hidden_size, len(labels.labels), config.dropout)
        load_head(head, directory)
        model = cls(encoder, tokenizer, head, labels, config).eval()
        return model.to(device) if device is not None else model
