"""biorelex: BERT-based biomedical relation extraction."""

from __future__ import annotations

from biorelex.document import Document, Entity, Relation

__all__ = ["Document", "Entity", "Relation", "__version__"]
__version__ = "0.1.0"
