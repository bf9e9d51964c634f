"""``biorelex stats``, ``convert`` and ``formats``: corpora in, statistics and other formats out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from biorelex.cli._common import app, fail, output_format
from biorelex.errors import BiorelexError


def _candidate_config(
    preset: str | None, pairs: list[str] | None, directed: bool | None, scope: str, splitter: str
) -> Any:
    import dataclasses

    from biorelex.data.candidates import PRESETS, CandidateConfig

    base = PRESETS[preset] if preset else CandidateConfig()
    type_pairs = base.type_pairs
    if pairs:
        if any(p.count(":") != 1 for p in pairs):
            raise BiorelexError(f"--pairs takes HEAD:TAIL type patterns, got {pairs!r}")
        type_pairs = tuple((head, tail) for head, tail in (p.split(":") for p in pairs))
    return dataclasses.replace(
        base,
        type_pairs=type_pairs,
        directed=base.directed if directed is None else directed,
        scope=scope,  # type: ignore[arg-type]
        splitter=splitter,
    )


@app.command()
def stats(
    path: Annotated[Optional[Path], typer.Argument(help="A corpus file or folder.")] = None,
    format: Annotated[
        Optional[str], typer.Option("--format", "-f", help="Input format (detected if omitted).")
    ] = None,
    corpus: Annotated[
        Optional[str], typer.Option(help="A catalogued corpus (e.g. chemprot), every split.")
    ] = None,
    data_dir: Annotated[
        Optional[Path], typer.Option(help="Corpus root for --corpus (default ../shared/data).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lenient: Annotated[bool, typer.Option(help="Skip bad records (each one reported).")] = False,
    preset: Annotated[
        Optional[str], typer.Option(help="Candidate preset: chemprot, ddi, bc5cdr, ade.")
    ] = None,
    pairs: Annotated[
        Optional[list[str]], typer.Option(help="Candidate type pair HEAD:TAIL (fnmatch), repeatable.")
    ] = None,
    directed: Annotated[
        Optional[bool], typer.Option("--directed/--undirected", help="Ordered candidate pairs.")
    ] = None,
    scope: Annotated[str, typer.Option(help="Candidate scope: sentence or document.")] = "sentence",
    splitter: Annotated[str, typer.Option(help="Sentence splitter: pysbd, nupunkt, syntok.")] = "pysbd",
) -> None:
    """Documents, sentences, entities and relations by type, and candidate pairs."""
    from biorelex.data import formats
    from biorelex.data.corpora import data_dir as resolve_data_dir
    from biorelex.data.corpora import get_corpus
    from biorelex.data.stats import corpus_stats
    from biorelex.errors import ReadReport

    try:
        if (path is None) == (corpus is None):
            raise BiorelexError("give either a PATH or --corpus NAME")
        results: dict[str, Any] = {}
        if corpus is not None:
            spec = get_corpus(corpus)
            root = resolve_data_dir(data_dir)
            config = (
                _candidate_config(preset or spec.candidates, pairs, directed, scope, splitter)
                if (preset or spec.candidates or pairs)
                else None
            )
            for split in spec.splits:
                report = ReadReport(lenient=lenient or spec.lenient)
                docs = formats.read(root / split.path, split.format, report=report)
                results[split.name] = corpus_stats(docs, config)
                results[split.name]["read_report"] = _report_json(report)
            output: dict[str, Any] = {"corpus": corpus, "splits": results}
            if spec.notes:
                output["notes"] = list(spec.notes)
        else:
            assert path is not None
            report = ReadReport(lenient=lenient)
            name = format or formats.detect_format(path)
            config = (
                _candidate_config(preset, pairs, directed, scope, splitter) if (preset or pairs) else None
            )
            output = {
                "path": str(path),
                "format": name,
                **corpus_stats(formats.read(path, name, report=report), config),
            }
            output["read_report"] = _report_json(report)
    except BiorelexError as exc:
        fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(output, indent=2, ensure_ascii=False))
    else:
        _print_stats(output)


def _report_json(report: Any) -> dict[str, Any]:
    return {"skipped": [str(s) for s in report.skipped], "warnings": dict(report.warnings)}


def _print_stats(output: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    blocks = output["splits"] if "splits" in output else {output["path"]: output}
    console = Console()
    for name, block in blocks.items():
        table = Table(title=f"{output.get('corpus', '')} {name}".strip(), show_header=False)
        for key in ("documents", "sentences", "entities", "discontinuous_entities", "relations"):
            table.add_row(key, str(block[key]))
        table.add_row("entities by type", ", ".join(f"{k}={v}" for k, v in block["entities_by_type"].items()))
        table.add_row(
            "relations by type", ", ".join(f"{k}={v}" for k, v in block["relations_by_type"].items())
        )
        if "candidates" in block:
            cand = block["candidates"]
            table.add_row("candidate pairs", str(cand["pairs"]))
            table.add_row("pairs by label", ", ".join(f"{k}={v}" for k, v in cand["by_label"].items()))
            table.add_row("relations outside candidates", str(cand["mention_relations_outside_candidates"]))
        report = block.get("read_report", {})
        if report.get("skipped") or report.get("warnings"):
            table.add_row(
                "read report",
                f"{len(report['skipped'])} skipped; "
                + ", ".join(f"{k}: {v}" for k, v in report["warnings"].items()),
            )
        console.print(table)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Input file or folder.")],
    target: Annotated[Path, typer.Argument(help="Output file (or folder for brat).")],
    from_format: Annotated[
        Optional[str], typer.Option("--from", help="Input format (detected if omitted).")
    ] = None,
    to_format: Annotated[
        Optional[str], typer.Option("--to", help="Output format (from the suffix if omitted).")
    ] = None,
    lenient: Annotated[bool, typer.Option(help="Skip bad input records (each one reported).")] = False,
) -> None:
    """Convert a corpus between formats (writes jsonl, brat, bioc-xml, bioc-json, pubtator)."""
    from biorelex.data import formats
    from biorelex.errors import ReadReport

    try:
        name = output_format(target, to_format)
        report = ReadReport(lenient=lenient)
        count = formats.write(formats.read(source, from_format, report=report), target, name)
    except BiorelexError as exc:
        fail(exc)
        return
    typer.echo(f"wrote {count} documents to {target} ({name}); {report.summary()}", err=True)


@app.command("formats")
def list_formats() -> None:
    """List the corpus formats biorelex reads and writes."""
    from biorelex.data.formats import FORMATS

    for spec in FORMATS.values():
        mode = "read/write" if spec.writer else "read"
        typer.echo(f"{spec.name:10s} {mode:10s} {spec.description}")
