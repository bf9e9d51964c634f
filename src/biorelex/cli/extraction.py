"""``biorelex extract`` (local or on Ray, into files or a knowledge-graph store) and ``graph``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from biorelex.cli._common import app, fail, output_format
from biorelex.errors import BiorelexError


def _print_extraction(documents: list[Any]) -> None:
    from biorelex.evaluation.joint import relation_evidence

    for document in documents:
        typer.echo(f"{document.id}: {len(document.entities)} entities, {len(document.relations)} relations")
        for entity in document.entities:
            score = entity.attributes.get("score")
            typer.echo(
                f"  {entity.id}\t{entity.type}\t{entity.text!r}\t{entity.start}-{entity.end}"
                + (f"\t{score:.3f}" if score is not None else "")
            )
        for relation in document.relations:
            head, tail = document.entity(relation.head), document.entity(relation.tail)
            score = f"{relation.score:.3f}" if relation.score is not None else "-"
            typer.echo(
                f"  {relation.id}\t{relation.type}\t{head.text!r} -> {tail.text!r}\t{score}\t"
                f"evidence: {relation_evidence(document, relation)}"
            )


@app.command()
def extract(
    sources: Annotated[
        list[Path],
        typer.Argument(help="Plain text (.txt file or folder), PubTator, BioC or JSONL; several allowed."),
    ],
    model: Annotated[Path, typer.Option("--model", "-m", help="A trained joint NER+RE model directory.")],
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Output file (a folder of shards with --engine ray); omitted: print."
        ),
    ] = None,
    format: Annotated[
        Optional[str], typer.Option("--format", "-f", help="Input format (detected if omitted).")
    ] = None,
    lines: Annotated[bool, typer.Option("--lines", help="Plain text: one document per line.")] = False,
    to_format: Annotated[Optional[str], typer.Option("--to", help="Output format.")] = None,
    classifier: Annotated[
        Optional[Path],
        typer.Option(help="Pipeline mode: a relation classifier scores the pairs of the entities."),
    ] = None,
    entities: Annotated[
        str,
        typer.Option(
            help="'predicted' (the model's NER) or 'given' (the input's own; their relations by "
            "--classifier if given, else by the joint model's RE)."
        ),
    ] = "predicted",
    candidates: Annotated[str, typer.Option(help="Pipeline mode: pairing, 'all' or a preset.")] = "all",
    batch_size: Annotated[int, typer.Option(help="Sentences per forward pass.")] = 32,
    threads: Annotated[
        Optional[int], typer.Option(help="CPU threads for the forward pass (per worker).")
    ] = None,
    limit: Annotated[Optional[int], typer.Option(help="Only the first N documents of the input.")] = None,
    store: Annotated[
        Optional[str],
        typer.Option(
            help="Persist into a knowledge-graph store: sqlite:///kg.db or postgresql+psycopg://..."
        ),
    ] = None,
    model_name: Annotated[
        Optional[str],
        typer.Option(help="Name of this model's extraction in the store (default: model folder)."),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Documents per chunk (and per store transaction).")] = 64,
    overwrite: Annotated[
        bool,
        typer.Option(help="Re-extract documents the store already holds (default: skip them, resuming)."),
    ] = False,
    engine: Annotated[
        str, typer.Option(help="'local' (this process) or 'ray' (Ray Data actor pool).")
    ] = "local",
    address: Annotated[
        Optional[str], typer.Option(help="Ray: an existing cluster (default: start a local one).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Ray: extractor actors.")] = 2,
    shard_size: Annotated[int, typer.Option(help="Ray: documents per shard.")] = 200,
) -> None:
    """Entities and relations from raw text with a joint NER+RE model (or a pipeline with --classifier),
    printed, written, stored (--store) and/or run on Ray (--engine ray)."""
    name = model_name or model.resolve().name
    if engine not in ("local", "ray"):
        fail(BiorelexError(f"--engine must be 'local' or 'ray', got {engine!r}"))
    if engine == "ray":
        _extract_ray(
            sources,
            model,
            output,
            "text-lines" if lines else format,
            classifier,
            entities,
            candidates,
            batch_size,
            threads,
            store,
            name,
            chunk_size,
            address,
            workers,
            shard_size,
        )
        return
    try:
        import itertools

        from biorelex.data import formats
        from biorelex.inference.batch import extract_corpus
        from biorelex.inference.extractor import Extractor

        target = output_format(output, to_format) if output is not None else None
        extractor = Extractor.from_directory(
            model,
            num_threads=threads,
            classifier_dir=classifier,
            candidates=candidates,
            batch_size=batch_size,
            entities=entities,
            progress=False,
        )
        inputs = itertools.chain.from_iterable(
            formats.read(source, "text-lines" if lines else format) for source in sources
        )
        knowledge = None
        if store is not None:
            from biorelex.store import KnowledgeStore

            knowledge = KnowledgeStore(store)
        result = extract_corpus(
            extractor.predict,
            itertools.islice(inputs, limit) if limit else inputs,
            store=knowledge,
            model_name=name,
            chunk_size=chunk_size,
            overwrite=overwrite,
            keep=store is None or output is not None,
            total=limit,
        )
        documents = result.documents
        if output is not None and target is not None:
            formats.write(documents, output, target)
    except BiorelexError as exc:
        fail(exc)
        return
    if output is None and store is None:
        _print_extraction(documents)
        return
    where = ", ".join(str(x) for x in (output, store) if x)
    typer.echo(
        f"extracted {result.processed} documents ({result.entities} entities, {result.relations} relations)"
        + (f", skipped {result.skipped} already stored" if result.skipped else "")
        + f" -> {where}",
        err=True,
    )


def _extract_ray(
    sources: list[Path],
    model: Path,
    output: Optional[Path],
    format: Optional[str],
    classifier: Optional[Path],
    entities: str,
    candidates: str,
    batch_size: int,
    threads: Optional[int],
    store: Optional[str],
    model_name: str,
    chunk_size: int,
    address: Optional[str],
    workers: int,
    shard_size: int,
) -> None:
    try:
        from biorelex.scale.ray_engine import WorkerOptions, run_ray

        options = WorkerOptions(
            model_dir=str(model.resolve()),
            output_dir=str(output.resolve()) if output else None,
            store_url=store,
            model_name=model_name,
            classifier_dir=str(classifier.resolve()) if classifier else None,
            candidates=candidates,
            entities=entities,
            batch_size=batch_size,
            threads=threads or 1,
            chunk_size=chunk_size,
        )
        results = run_ray(
            [s.resolve() for s in sources],
            options,
            format=format,
            workers=workers,
            address=address,
            shard_size=shard_size,
        )
    except BiorelexError as exc:
        fail(exc)
        return
    documents = sum(r.documents for r in results)
    typer.echo(
        f"ray: {len(results)} shards, {documents} documents extracted, "
        f"{sum(r.skipped for r in results)} skipped (already done), {sum(r.relations for r in results)} relations",
        err=True,
    )


graph_app = typer.Typer(
    help="The knowledge graph of a store: export it, or ask what relates to X.", no_args_is_help=True
)
app.add_typer(graph_app, name="graph")


@graph_app.command("export")
def graph_export(
    store: Annotated[str, typer.Option(help="The store: sqlite:///kg.db or postgresql+psycopg://...")],
    output: Annotated[Path, typer.Option("--output", "-o", help="A .graphml file, or a folder for CSVs.")],
    format: Annotated[str, typer.Option("--format", "-f", help="graphml, csv or neo4j-csv.")] = "graphml",
    model_name: Annotated[Optional[str], typer.Option(help="Only this model's extractions.")] = None,
    min_score: Annotated[float, typer.Option(help="Only relations scored at least this.")] = 0.0,
) -> None:
    """Edges aggregated between entities (concept id, else normalised surface form) with counts, scores
    and evidence."""
    try:
        from biorelex.store import KnowledgeStore
        from biorelex.store.graph import build_graph, export_graph

        with KnowledgeStore(store) as knowledge:
            graph = build_graph(knowledge, model_name, min_score)
        written = export_graph(graph, output, format)
    except BiorelexError as exc:
        fail(exc)
        return
    typer.echo(
        f"{len(graph.nodes)} nodes, {len(graph.edges)} edges -> {', '.join(map(str, written))}", err=True
    )


@graph_app.command("query")
def graph_query(
    entity: Annotated[str, typer.Argument(help="A surface form, concept id or node key.")],
    store: Annotated[str, typer.Option(help="The store: sqlite:///kg.db or postgresql+psycopg://...")],
    model_name: Annotated[Optional[str], typer.Option(help="Only this model's extractions.")] = None,
    min_score: Annotated[float, typer.Option(help="Only relations scored at least this.")] = 0.0,
    top: Annotated[int, typer.Option(help="At most this many edges.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """What relates to ENTITY: its edges, most frequent first, with scores and an evidence sentence."""
    try:
        from biorelex.store import KnowledgeStore
        from biorelex.store.graph import build_graph

        with KnowledgeStore(store) as knowledge:
            graph = build_graph(knowledge, model_name, min_score, node=entity)
    except BiorelexError as exc:
        fail(exc)
        return
    if not graph.edges:
        typer.echo(f"nothing relates to {entity!r} in this store", err=True)
        raise typer.Exit(code=1)
    for edge in graph.edges[:top]:
        data = edge.to_dict()
        if as_json:
            typer.echo(json.dumps(data))
            continue
        head, tail = graph.nodes[edge.head].name, graph.nodes[edge.tail].name
        typer.echo(
            f"{head} --{edge.type}--> {tail}\tcount={edge.count}\tmax={data['max_score']}\t"
            f"mean={data['mean_score']}\t{edge.evidence}"
        )
