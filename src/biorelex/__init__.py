"""biorelex: BERT-based biomedical relation extraction."""

from __future__ import annotations

from biorelex.document import Document, Entity, Relation

__all__ = ["Document", "Entity", "Relation", "__version__", "load"]
__version__ = "0.1.0"


def load(model_dir: str, **kwargs: object) -> object:
    """A trained model ready to use: an ``Extractor`` for a joint NER+RE model (``.extract(text)``),
    else a ``Predictor`` for a relation classifier (``.predict(documents)``); keyword arguments go
    to their ``from_directory``."""
    from biorelex.models.serialization import is_joint_model

    if is_joint_model(model_dir):
        from biorelex.inference.extractor import Extractor

        return Extractor.from_directory(model_dir, **kwargs)  # type: ignore[arg-type]
    from biorelex.inference.predictor import Predictor

    return Predictor.from_directory(model_dir, **kwargs)  # type: ignore[arg-type]
