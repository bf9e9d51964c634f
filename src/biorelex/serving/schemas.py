"""Request and response schemas: the document model (:mod:`biorelex.document`) as pydantic.

Responses carry Documents exactly as biorelex JSONL writes them, plus each relation's evidence
sentence; requests either give texts (``/v1/extract``) or texts with entity offsets
(``/v1/classify``). Conversions go through :func:`document_from_dict` so the HTTP layer checks the
same invariants as every reader.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from biorelex.data.formats.jsonl import document_to_dict
from biorelex.document import Document


class EntitySchema(BaseModel):
    """:class:`biorelex.Entity`: character spans into the document text."""

    model_config = ConfigDict(extra="forbid")

    id: str
    type: str
    spans: list[tuple[int, int]]
    text: str
    concept_ids: list[str] = []
    attributes: dict[str, Any] = {}


class RelationSchema(BaseModel):
    """:class:`biorelex.Relation`, plus the sentence that is its evidence."""

    id: str
    type: str
    head: str
    tail: str
    score: float | None = None
    symmetric: bool = False
    level: Literal["mention", "concept"] = "mention"
    evidence: str | None = Field(default=None, description="The sentence holding both arguments.")
    evidence_span: tuple[int, int] | None = None


class DocumentSchema(BaseModel):
    """:class:`biorelex.Document`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    entities: list[EntitySchema] = []
    relations: list[RelationSchema] = []
    sentences: list[tuple[int, int]] = []
    metadata: dict[str, Any] = {}

    @classmethod
    def from_document(cls, document: Document) -> DocumentSchema:
        data = document_to_dict(document)
        for relation, item in zip(document.relations, data["relations"], strict=True):
            if relation.level == "mention":
                start, end = document.evidence_span(relation)
                item["evidence"], item["evidence_span"] = document.text[start:end], (start, end)
        return cls.model_validate(data)


class TextIn(BaseModel):
    """A text to extract from; ``id`` defaults to its position in the request."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    text: str


class ExtractRequest(BaseModel):
    """Either ``texts`` (plain strings or ``{id, text}``) or ``documents`` (their entities ignored)."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str | TextIn] | None = None
    documents: list[TextIn] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ExtractRequest:
        if (self.texts is None) == (self.documents is None):
            raise ValueError("give exactly one of 'texts' or 'documents'")
        return self

    def items(self) -> list[TextIn]:
        given = self.texts if self.texts is not None else self.documents or []
        return [
            TextIn(id=str(i), text=t) if isinstance(t, str) else TextIn(id=t.id or str(i), text=t.text)
            for i, t in enumerate(given)
        ]


class EntityIn(BaseModel):
    """An entity given by offsets: ``text[start:end]``; ``id`` defaults to ``T<n>``."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    type: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)


class ClassifyItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    text: str
    entities: list[EntityIn]


class ClassifyRequest(BaseModel):
    """Texts with their entities; every candidate pair the model was trained on is scored."""

    model_config = ConfigDict(extra="forbid")

    items: list[ClassifyItem]


class DocumentsResponse(BaseModel):
    documents: list[DocumentSchema]
    model: str
    setting: str


class ModelInfo(BaseModel):
    kind: str
    name: str
    encoder: str | None
    entity_types: list[str]
    relation_types: list[str]
    endpoints: list[str]
    versions: dict[str, str]
    limits: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"]
    model: str
