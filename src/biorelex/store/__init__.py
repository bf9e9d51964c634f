"""The knowledge-graph store: extracted Documents persisted through SQLAlchemy (SQLite or PostgreSQL)."""

from biorelex.store.db import KnowledgeStore, node_key, normalise_surface

__all__ = ["KnowledgeStore", "node_key", "normalise_surface"]
