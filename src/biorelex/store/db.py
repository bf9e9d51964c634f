"""Documents, mentions and relations in a relational store, written idempotently and transactionally.

Schema: ``documents`` (one row per input document id) <- ``extractions`` (one per document and
model) <- ``mentions`` and ``relations``. Re-extracting a document with the same model replaces
its extraction in one transaction, so a re-run never duplicates and a killed run never leaves a
half-written document: :meth:`KnowledgeStore.write` commits a batch of documents at once or
nothing. The same code serves SQLite (the embedded default, ``sqlite:///path.db``) and PostgreSQL
(``postgresql+psycopg://user@host/db``).

Graph nodes are keyed by concept id where the mention has one (``MESH:D003``; composite mentions
join theirs with ``|``), else by entity type and normalised surface form (``Chemical|aspirin``).
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload

from biorelex.document import Document, Entity, Relation, thaw
from biorelex.errors import ConfigError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class Base(DeclarativeBase):
    pass


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_id: Mapped[str] = mapped_column(Text, unique=True, index=True)
    text: Mapped[str] = mapped_column(Text)
    sentences: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    extractions: Mapped[list[ExtractionRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )


class ExtractionRow(Base):
    __tablename__ = "extractions"
    __table_args__ = (UniqueConstraint("document_id", "model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(Text, index=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[DocumentRow] = relationship(back_populates="extractions")
    mentions: Mapped[list[MentionRow]] = relationship(
        back_populates="extraction", cascade="all, delete-orphan"
    )
    relations: Mapped[list[RelationRow]] = relationship(
        back_populates="extraction", cascade="all, delete-orphan"
    )


class MentionRow(Base):
    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    spans: Mapped[list[list[int]]] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)
    concept_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    node: Mapped[str] = mapped_column(Text, index=True)
    surface: Mapped[str] = mapped_column(Text, index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    extraction: Mapped[ExtractionRow] = relationship(back_populates="mentions")


class RelationRow(Base):
    __tablename__ = "relations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"), index=True)
    relation_id: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text, index=True)
    level: Mapped[str] = mapped_column(Text, default="mention")
    head_entity: Mapped[str] = mapped_column(Text)
    tail_entity: Mapped[str] = mapped_column(Text)
    head_node: Mapped[str] = mapped_column(Text, index=True)
    tail_node: Mapped[str] = mapped_column(Text, index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    symmetric: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str] = mapped_column(Text)
    evidence_start: Mapped[int] = mapped_column(Integer)
    evidence_end: Mapped[int] = mapped_column(Integer)
    extraction: Mapped[ExtractionRow] = relationship(back_populates="relations")


class SchemaRow(Base):
    __tablename__ = "biorelex_schema"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)


def normalise_surface(text: str) -> str:
    """Case-folded, NFKC, whitespace collapsed, outer punctuation stripped: ``" Aspirin, "`` -> ``aspirin``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(".,;:!?()[]{}\"'")


def node_key(entity: Entity) -> str:
    """The graph node of a mention: its concept id(s), else ``TYPE|normalised surface``."""
    concepts = [c for c in entity.concept_ids if c and c not in ("-1", "-")]
    if concepts:
        return "|".join(concepts)
    return f"{entity.type}|{normalise_surface(entity.text)}"


class KnowledgeStore:
    """A SQLAlchemy-backed store of extracted Documents.

    Args:
        url: a SQLAlchemy URL (``sqlite:///kg.db``, ``postgresql+psycopg://user:pw@host/db``) or a
            plain path, taken as a SQLite file.
        echo: log the SQL.
    """

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url if "://" in url else f"sqlite:///{url}"
        try:
            self.engine: Engine = create_engine(self.url, echo=echo, future=True, **_engine_options(self.url))
        except (ArgumentError, ModuleNotFoundError, ImportError) as exc:
            hint = " (PostgreSQL needs: pip install 'biorelex[postgres]')" if "postgres" in self.url else ""
            raise ConfigError(f"cannot open the store {self.url!r}: {exc}{hint}") from None
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._create_schema()

    def _create_schema(self) -> None:
        """Create the tables and the schema row; several processes may open a new SQLite store at once.

        SQLite answers a transaction that read and then writes while another process committed
        in between with ``database is locked`` at once (its busy timeout does not apply), and two
        processes (on any backend) may both find a table or the schema row missing; such races
        are retried for up to a minute.
        """
        deadline = time.monotonic() + 60.0
        delay = 0.05
        while True:
            try:
                Base.metadata.create_all(self.engine)
                with Session(self.engine) as session, session.begin():
                    if session.get(SchemaRow, SCHEMA_VERSION) is None:
                        session.add(SchemaRow(version=SCHEMA_VERSION))
                return
            except (OperationalError, IntegrityError) as exc:
                message = str(exc.orig).lower()
                transient = any(
                    w in message for w in ("locked", "busy", "already exists", "unique", "duplicate")
                )
                if not transient or time.monotonic() > deadline:
                    raise ConfigError(f"cannot open the store {self.url!r}: {exc.orig}") from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> KnowledgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Writing -----------------------------------------------------------------------------------

    def stored_ids(self, model: str, doc_ids: Iterable[str] | None = None) -> set[str]:
        """Document ids already extracted by ``model`` (restricted to ``doc_ids`` when given)."""
        query = select(DocumentRow.doc_id).join(ExtractionRow).where(ExtractionRow.model == model)
        with Session(self.engine) as session:
            if doc_ids is None:
                return set(session.scalars(query))
            wanted = list(doc_ids)
            found: set[str] = set()
            for i in range(0, len(wanted), 500):
                found.update(session.scalars(query.where(DocumentRow.doc_id.in_(wanted[i : i + 500]))))
            return found

    def write(self, documents: Sequence[Document], model: str) -> int:
        """Store ``documents`` as ``model``'s extraction, all in one transaction; returns how many.

        A document already extracted by ``model`` is replaced (never duplicated); its text and
        metadata are updated to the newest input.
        """
        if not documents:
            return 0
        now = datetime.now(UTC)
        latest = {d.id: d for d in documents}  # a document given twice: the last one counts
        with Session(self.engine) as session, session.begin():
            query = (
                select(DocumentRow)
                .where(DocumentRow.doc_id.in_(list(latest)))
                .options(selectinload(DocumentRow.extractions))
            )
            rows = {row.doc_id: row for row in session.scalars(query)}
            for document in latest.values():
                row = rows.get(document.id)
                if row is None:
                    row = rows[document.id] = DocumentRow(doc_id=document.id, extractions=[])
                    session.add(row)
                row.text, row.meta = document.text, thaw(document.metadata)
                row.sentences = [list(s) for s in document.sentences]
                for old in [x for x in row.extractions if x.model == model]:
                    row.extractions.remove(old)  # delete-orphan: its mentions and relations go too
            session.flush()  # the replaced extractions are deleted before their successors go in
            for document in latest.values():
                extraction = ExtractionRow(model=model, created=now)
                extraction.mentions = [_mention_row(e) for e in document.entities]
                extraction.relations = [_relation_row(document, r) for r in document.relations]
                rows[document.id].extractions.append(extraction)
        return len(documents)

    # Reading -----------------------------------------------------------------------------------

    def documents(self, model: str | None = None) -> list[Document]:
        """The stored extractions as Documents (one per document and model), ordered by id."""
        query = select(ExtractionRow).join(DocumentRow).order_by(DocumentRow.doc_id, ExtractionRow.model)
        if model is not None:
            query = query.where(ExtractionRow.model == model)
        with Session(self.engine) as session:
            return [_to_document(extraction) for extraction in session.scalars(query)]

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        from sqlalchemy import func

        with Session(self.engine) as session:
            return {
                table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in (DocumentRow, ExtractionRow, MentionRow, RelationRow)
            }

    def models(self) -> list[str]:
        with Session(self.engine) as session:
            return sorted(set(session.scalars(select(ExtractionRow.model))))


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # several writers (Ray workers, a server) wait for the file lock instead of failing at once
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _mention_row(entity: Entity) -> MentionRow:
    score = entity.attributes.get("score")
    return MentionRow(
        entity_id=entity.id,
        type=entity.type,
        start=entity.start,
        end=entity.end,
        spans=[list(s) for s in entity.spans],
        text=entity.text,
        concept_ids=list(entity.concept_ids),
        node=node_key(entity),
        surface=normalise_surface(entity.text),
        score=float(score) if isinstance(score, int | float) else None,
    )


def _relation_row(document: Document, relation: Relation) -> RelationRow:
    if relation.level == "concept":
        head_node, tail_node = relation.head, relation.tail
    else:
        head_node = node_key(document.entity(relation.head))
        tail_node = node_key(document.entity(relation.tail))
    start, end = document.evidence_span(relation)
    return RelationRow(
        relation_id=relation.id,
        type=relation.type,
        level=relation.level,
        head_entity=relation.head,
        tail_entity=relation.tail,
        head_node=head_node,
        tail_node=tail_node,
        score=relation.score,
        symmetric=relation.symmetric,
        evidence=document.text[start:end],
        evidence_start=start,
        evidence_end=end,
    )


def _to_document(extraction: ExtractionRow) -> Document:
    row = extraction.document
    entities = [
        Entity(
            m.entity_id,
            m.type,
            tuple((int(s), int(e)) for s, e in m.spans),
            m.text,
            tuple(m.concept_ids or ()),
            {"score": m.score} if m.score is not None else {},
        )
        for m in sorted(extraction.mentions, key=lambda m: m.id)
    ]
    relations = [
        Relation(r.relation_id, r.type, r.head_entity, r.tail_entity, r.score, r.symmetric, r.level)
        for r in sorted(extraction.relations, key=lambda r: r.id)
    ]
    sentences = tuple((int(s), int(e)) for s, e in row.sentences or ())
    return Document(row.doc_id, row.text, tuple(entities), tuple(relations), sentences, row.meta or {})
