"""The FastAPI application: ``/v1/extract``, ``/v1/classify``, ``/v1/model``, ``/healthz``.

:func:`create_app` takes a :class:`Service` (the loaded models) and :class:`ServeSettings` (limits,
micro-batching); ``biorelex serve`` runs it under uvicorn. Errors: 400 when the model cannot do
what an endpoint asks (and why), 413 for a body over ``max_body_bytes``, 422 naming the field for
invalid input or a limit exceeded, 500 without a traceback when the model fails (the server log
has it, and the server keeps serving).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from biorelex.document import Document, Entity
from biorelex.errors import BiorelexError, ConfigError
from biorelex.evaluation.joint import SETTING
from biorelex.serving.batching import MicroBatcher
from biorelex.serving.schemas import (
    ClassifyRequest,
    DocumentSchema,
    DocumentsResponse,
    ExtractRequest,
    Health,
    ModelInfo,
)

logger = logging.getLogger(__name__)

BatchFn = Callable[[Sequence[Document]], list[Document]]


class ServeSettings(BaseModel):
    """Limits and micro-batching of the HTTP API (``biorelex serve`` options)."""

    max_body_bytes: int = Field(default=1_000_000, gt=0)
    max_texts: int = Field(default=64, gt=0, description="texts (or items) per request")
    max_chars: int = Field(default=20_000, gt=0, description="characters per text")
    max_entities: int = Field(default=200, gt=0, description="entities per text (/v1/classify)")
    max_batch: int = Field(default=32, gt=0, description="documents per forward pass")
    max_wait_ms: float = Field(default=5.0, ge=0, description="wait for more requests after the first")


@dataclass
class Service:
    """The models behind the API: an extract function (joint model) and/or a classify function."""

    name: str
    kind: str
    encoder: str | None = None
    extract: BatchFn | None = None
    classify: BatchFn | None = None
    entity_types: list[str] = field(default_factory=list)
    relation_types: list[str] = field(default_factory=list)

    @classmethod
    def from_directory(
        cls,
        model_dir: str | Path,
        classifier_dir: str | Path | None = None,
        candidates: str = "all",
        device: str | None = None,
        num_threads: int | None = None,
    ) -> Service:
        """Load a joint model (extract; classify too with ``classifier_dir``) or a relation
        classifier (classify only), pairing given entities by ``candidates``."""
        from biorelex.models.serialization import JOINT_KIND, load_metadata

        model_dir = Path(model_dir)
        meta = load_metadata(model_dir)
        encoder = (meta.get("model") or {}).get("encoder")
        service = cls(name=model_dir.name, kind=str(meta.get("kind")), encoder=encoder)
        if meta.get("kind") == JOINT_KIND:
            from biorelex.inference.extractor import Extractor

            extractor = Extractor.from_directory(
                model_dir, device=device, num_threads=num_threads, progress=False
            )
            service.extract = extractor.predict
            service.entity_types = sorted({t.split("-", 1)[1] for t in extractor.model.tags if "-" in t})
            service.relation_types = list(extractor.model.relations[1:])
        else:
            classifier_dir = classifier_dir or model_dir
        if classifier_dir is not None:
            from biorelex.inference.predictor import Predictor

            predictor = Predictor.from_directory(
                classifier_dir, num_threads=num_threads, device=device, candidates=candidates
            )
            predictor.disable_progress()
            service.classify = predictor.predict
            if not service.relation_types:
                service.relation_types = list(predictor.labels.labels[1:])
        return service


def create_app(service: Service, settings: ServeSettings | None = None) -> FastAPI:
    """The API over ``service`` (see the module docstring for endpoints and errors)."""
    settings = settings or ServeSettings()
    batchers = {
        name: MicroBatcher(fn, settings.max_batch, settings.max_wait_ms / 1000)
        for name, fn in (("extract", service.extract), ("classify", service.classify))
        if fn is not None
    }

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for batcher in batchers.values():
            await batcher.start()
        yield
        for batcher in batchers.values():
            await batcher.stop()

    app = FastAPI(
        title="biorelex",
        description="Biomedical relation extraction: entities and relations from text.",
        version=_version(),
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.batchers = batchers

    async def run(name: str, documents: list[Document]) -> list[Document]:
        try:
            return await batchers[name].submit(documents)
        except Exception:  # logged with its traceback by the batcher
            raise HTTPException(
                500, "the model failed on this request; the server log has the details"
            ) from None

    def check_count(count: int, field_name: str) -> None:
        if count > settings.max_texts:
            _unprocessable(["body", field_name], f"at most {settings.max_texts} per request, got {count}")

    def check_text(text: str, location: list[str | int]) -> None:
        if len(text) > settings.max_chars:
            _unprocessable(location, f"at most {settings.max_chars} characters per text, got {len(text)}")

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok", model=service.name)

    @app.get("/v1/model", response_model=ModelInfo)
    async def model_info() -> ModelInfo:
        return ModelInfo(
            kind=service.kind,
            name=service.name,
            encoder=service.encoder,
            entity_types=service.entity_types,
            relation_types=service.relation_types,
            endpoints=[f"/v1/{name}" for name in batchers],
            versions=_versions(),
            limits=settings.model_dump(),
        )

    @app.post("/v1/extract", response_model=DocumentsResponse, response_model_exclude_none=True)
    async def extract(request: ExtractRequest) -> DocumentsResponse:
        """Entities and relations of raw texts (a joint NER+RE model)."""
        if "extract" not in batchers:
            raise HTTPException(
                400,
                f"/v1/extract needs a joint NER+RE model, and this server runs a {service.kind} "
                "(it classifies given entities: use /v1/classify, or serve a joint model)",
            )
        field_name = "texts" if request.texts is not None else "documents"
        items = request.items()
        check_count(len(items), field_name)
        for i, item in enumerate(items):
            check_text(item.text, ["body", field_name, i])
        documents = await run("extract", [Document(id=str(item.id), text=item.text) for item in items])
        return DocumentsResponse(
            documents=[DocumentSchema.from_document(d) for d in documents],
            model=service.name,
            setting=SETTING,
        )

    @app.post("/v1/classify", response_model=DocumentsResponse, response_model_exclude_none=True)
    async def classify(request: ClassifyRequest) -> DocumentsResponse:
        """Scored relations between the given entities of each text (a relation classifier)."""
        if "classify" not in batchers:
            raise HTTPException(
                400,
                "/v1/classify needs a relation classifier: serve one with -m, or give a joint "
                "model a classifier with --classifier",
            )
        check_count(len(request.items), "items")
        documents = []
        for i, item in enumerate(request.items):
            check_text(item.text, ["body", "items", i, "text"])
            documents.append(_classify_document(item, i, settings.max_entities))
        predicted = await run("classify", documents)
        return DocumentsResponse(
            documents=[DocumentSchema.from_document(d) for d in predicted],
            model=service.name,
            setting="gold entities (given in the request), sentence level",
        )

    return app


def _classify_document(item: Any, index: int, max_entities: int) -> Document:
    location: list[str | int] = ["body", "items", index, "entities"]
    if len(item.entities) > max_entities:
        _unprocessable(location, f"at most {max_entities} entities per text, got {len(item.entities)}")
    entities = []
    for j, entity in enumerate(item.entities):
        if entity.end > len(item.text) or entity.start >= entity.end:
            _unprocessable(
                [*location, j],
                f"offsets {entity.start}-{entity.end} are not a non-empty range of the "
                f"{len(item.text)}-character text",
            )
        entities.append(
            Entity(
                entity.id or f"T{j + 1}",
                entity.type,
                ((entity.start, entity.end),),
                item.text[entity.start : entity.end],
            )
        )
    try:
        return Document(id=item.id or str(index), text=item.text, entities=tuple(entities))
    except BiorelexError as exc:
        _unprocessable(location, str(exc))
        raise  # unreachable


def _unprocessable(location: Sequence[str | int], message: str) -> None:
    raise HTTPException(422, [{"loc": list(location), "msg": message, "type": "value_error"}])


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(send)
            return
        # read the body here (counting) and replay it, so a streamed body is limited too
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Any) -> None:
        body = (
            b'{"detail":"request body larger than '
            + str(self.max_bytes).encode()
            + b' bytes (max_body_bytes)"}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _version() -> str:
    from biorelex import __version__

    return __version__


def _versions() -> dict[str, str]:
    import importlib.metadata as metadata

    versions = {"biorelex": _version()}
    for package in ("torch", "transformers", "onnxruntime", "fastapi"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


def load_service(*args: Any, **kwargs: Any) -> Service:
    """:meth:`Service.from_directory`, with a clear error when the ``serve`` extra is missing."""
    try:
        return Service.from_directory(*args, **kwargs)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{exc}; the server needs: pip install 'biorelex[serve]'") from None
