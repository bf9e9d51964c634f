"""Relation heads, each registered by name in ``HEADS``. Every head module is imported here."""

from __future__ import annotations

from biorelex.models.heads import attention_pool, cls, entity_pool, entity_start, relex
from biorelex.models.heads.base import HEADS, HeadInputs, RelationHead

__all__ = [
    "HEADS",
    "HeadInputs",
    "RelationHead",
    "attention_pool",
    "cls",
    "entity_pool",
    "entity_start",
    "relex",
]
