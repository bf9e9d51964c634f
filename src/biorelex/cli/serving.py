"""``biorelex serve``: the HTTP API under uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from biorelex.cli._common import app, fail
from biorelex.errors import BiorelexError, ConfigError


@app.command()
def serve(
    model: Annotated[
        Path, typer.Option("--model", "-m", help="A joint model (extract) or a relation classifier.")
    ],
    classifier: Annotated[
        Optional[Path], typer.Option(help="A relation classifier for /v1/classify beside a joint model.")
    ] = None,
    candidates: Annotated[
        str, typer.Option(help="/v1/classify pairing: 'all' or a preset (chemprot...).")
    ] = "all",
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for the forward pass.")] = None,
    max_batch: Annotated[int, typer.Option(help="Documents per forward pass (micro-batching).")] = 32,
    max_wait_ms: Annotated[float, typer.Option(help="Wait for more requests after the first (ms).")] = 5.0,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body (413 beyond).")] = 1_000_000,
    max_texts: Annotated[int, typer.Option(help="Texts per request.")] = 64,
    max_chars: Annotated[int, typer.Option(help="Characters per text.")] = 20_000,
    max_entities: Annotated[int, typer.Option(help="Entities per text (/v1/classify).")] = 200,
) -> None:
    """The HTTP API: POST /v1/extract, POST /v1/classify, GET /v1/model, GET /healthz (docs at /docs)."""
    try:
        try:
            import uvicorn

            from biorelex.serving.app import ServeSettings, create_app, load_service
        except ModuleNotFoundError as exc:
            raise ConfigError(f"{exc}; the server needs: pip install 'biorelex[serve]'") from None
        settings = ServeSettings(
            max_body_bytes=max_body_bytes,
            max_texts=max_texts,
            max_chars=max_chars,
            max_entities=max_entities,
            max_batch=max_batch,
            max_wait_ms=max_wait_ms,
        )
        service = load_service(model, classifier, candidates, num_threads=threads)
    except BiorelexError as exc:
        fail(exc)
        return
    uvicorn.run(create_app(service, settings), host=host, port=port, log_level="info")
