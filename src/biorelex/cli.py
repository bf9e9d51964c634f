"""The ``biorelex`` command line: thin commands that parse, then call one library function.

Heavy imports happen inside the commands so that ``biorelex --help`` starts instantly.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from biorelex.errors import BiorelexError, ConfigError

app = typer.Typer(
    name="biorelex",
    help="BERT-based biomedical relation extraction: read corpora, train, evaluate, extract.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

WRITE_SUFFIXES = {".jsonl": "jsonl", ".xml": "bioc-xml", ".json": "bioc-json", ".pubtator": "pubtator"}


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Set up logging for every command."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


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
        _fail(exc)
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
        name = to_format or WRITE_SUFFIXES.get(target.suffix)
        if name is None:
            raise BiorelexError(f"cannot tell the output format of {target}; pass --to")
        report = ReadReport(lenient=lenient)
        count = formats.write(formats.read(source, from_format, report=report), target, name)
    except BiorelexError as exc:
        _fail(exc)
        return
    typer.echo(f"wrote {count} documents to {target} ({name}); {report.summary()}", err=True)


@app.command("formats")
def list_formats() -> None:
    """List the corpus formats biorelex reads and writes."""
    from biorelex.data.formats import FORMATS

    for spec in FORMATS.values():
        mode = "read/write" if spec.writer else "read"
        typer.echo(f"{spec.name:10s} {mode:10s} {spec.description}")


ConfigArg = Annotated[Optional[Path], typer.Argument(help="A TOML config (defaults when omitted).")]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override a config value: section.key=value (repeatable)."),
]


def _load_config(config: Path | None, overrides: list[str] | None) -> Any:
    from biorelex.config import load_config

    return load_config(config, overrides or [])


def _print_scores(title: str, scores: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name in scores["positive"]:
        row = scores["per_class"][name]
        table.add_row(
            name,
            f"{100 * row['precision']:.2f}",
            f"{100 * row['recall']:.2f}",
            f"{100 * row['f1']:.2f}",
            str(row["support"]),
        )
    table.add_row(
        "micro (positive classes)",
        f"{100 * scores['micro_precision']:.2f}",
        f"{100 * scores['micro_recall']:.2f}",
        f"{100 * scores['micro_f1']:.2f}",
        str(sum(scores["per_class"][n]["support"] for n in scores["positive"])),
    )
    Console(stderr=True).print(table)


@app.command()
def train(
    config: ConfigArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory.")] = Path("runs/latest"),
    overrides: SetOption = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from its checkpoint.")] = False,
) -> None:
    """Train a relation classifier (or, with model.task = "joint", the joint NER+RE model), then
    score it on dev and test (gold entities; predicted entities for the joint model)."""
    try:
        run_config = _load_config(config, overrides)
        if run_config.model.task == "joint":
            from biorelex.training.joint import train_joint

            result = train_joint(run_config, output, resume=resume)
        else:
            from biorelex.training.trainer import train as run_training

            result = run_training(run_config, output, resume=resume)
    except BiorelexError as exc:
        _fail(exc)
        return
    _print_run(result.summary, output)


def _print_joint(split: str, scores: dict[str, Any]) -> None:
    typer.echo(
        f"{split}: NER F1 {100 * scores['ner_f1']:.2f}, RE F1 strict {100 * scores['re_f1_strict']:.2f} "
        f"(macro {100 * scores['re_macro_f1_strict']:.2f}), RE F1 boundaries "
        f"{100 * scores['re_f1_boundaries']:.2f}; {scores['setting']}"
    )


def _print_run(summary: dict[str, Any], output: Path) -> None:
    if summary["setting"].get("entities") == "predicted":
        for split, scores in summary["scores"].items():
            _print_joint(split, scores)
        typer.echo(f"model: {output / 'model'}")
        return
    for split, scores in summary["scores"].items():
        typer.echo(
            f"{split}: micro-F1 {100 * scores['micro_f1']:.2f} (P {100 * scores['micro_precision']:.2f}, "
            f"R {100 * scores['micro_recall']:.2f}) over {scores['pairs']} pairs, gold entities"
        )
    typer.echo(f"model: {output / 'model'}")


@app.command()
def distill(
    teacher: Annotated[Path, typer.Argument(help="The trained teacher's model directory.")],
    config: Annotated[
        Optional[Path], typer.Option("--config", "-c", help="Run config (TOML) for data and training.")
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory.")] = Path("runs/student"),
    student: Annotated[
        Optional[str], typer.Option(help="Student encoder; default: the teacher's first --layers layers.")
    ] = None,
    layers: Annotated[Optional[int], typer.Option(help="Layers the default student keeps.")] = None,
    overrides: SetOption = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from its checkpoint.")] = False,
) -> None:
    """Distil a teacher into a smaller student (soft labels + gold labels), then score it."""
    try:
        extra = list(overrides or [])
        if student is not None:
            extra.append(f"distill.student={json.dumps(student)}")
        if layers is not None:
            extra.append(f"distill.layers={layers}")
        run_config = _load_config(config, extra)
        from biorelex.training.distill import distill as run_distill

        result = run_distill(run_config, teacher, output, resume=resume)
    except BiorelexError as exc:
        _fail(exc)
        return
    _print_run(result.summary, output)


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="A trained relation classifier directory.")],
    output: Annotated[Path, typer.Argument(help="Folder to write the exported model to.")],
    onnx: Annotated[bool, typer.Option("--onnx", help="Export to ONNX (the only target so far).")] = True,
    quantize: Annotated[
        Optional[str], typer.Option(help="Quantise the exported graph: int8 (dynamic).")
    ] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset version.")] = 17,
) -> None:
    """Export encoder + head as one ONNX graph (optionally int8) that predicts without torch."""
    try:
        if not onnx:
            raise ConfigError("only --onnx export exists; pass --onnx")
        from biorelex.inference.onnx import export_onnx

        metadata = export_onnx(model, output, quantize, opset)
    except BiorelexError as exc:
        _fail(exc)
        return
    typer.echo(
        f"exported {model} -> {output} ({metadata['precision']}; fp32 graph vs PyTorch max |diff| "
        f"{metadata['parity_fp32_max_abs_diff']:.1e}); use it with `biorelex predict {output} ...`"
    )


@app.command()
def evaluate(
    model: Annotated[Path, typer.Argument(help="A trained model directory.")],
    data: Annotated[Path, typer.Argument(help="Gold data, any readable format.")],
    format: Annotated[
        Optional[str], typer.Option("--format", "-f", help="Input format (detected if omitted).")
    ] = None,
    candidates: Annotated[
        str, typer.Option(help="auto, pairs, all, or a preset (chemprot, ddi...).")
    ] = "auto",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Report directory.")] = None,
    batch_size: Annotated[int, typer.Option(help="Pairs per forward pass.")] = 64,
    lenient: Annotated[bool, typer.Option(help="Skip bad input records (each one reported).")] = False,
) -> None:
    """Score a model on gold data: micro-F1 over positive classes, per class, AUC; report files with -o.

    A joint NER+RE model is scored end to end: NER, RE strict and RE boundaries (predicted entities).
    """
    try:
        from biorelex.models.serialization import load_metadata

        if load_metadata(model).get("kind") == "joint":
            _evaluate_joint(model, data, format, output, batch_size, lenient)
            return
        from biorelex.data import formats
        from biorelex.errors import ReadReport
        from biorelex.evaluation.evaluate import evaluate as run_evaluation
        from biorelex.evaluation.evaluate import write_report
        from biorelex.inference.predictor import Predictor

        predictor = Predictor.from_directory(model, batch_size=batch_size, candidates=candidates)
        documents = list(formats.read(data, format, report=ReadReport(lenient=lenient)))
        evaluation = run_evaluation(predictor, documents, {"split": str(data), "candidates": candidates})
        if output is not None:
            write_report(evaluation, output)
    except BiorelexError as exc:
        _fail(exc)
        return
    _print_scores(f"{data} (gold entities)", evaluation.scores)
    typer.echo(
        json.dumps(
            {
                k: evaluation.scores[k]
                for k in ("micro_precision", "micro_recall", "micro_f1", "macro_f1", "accuracy", "pairs")
            }
        )
    )


def _evaluate_joint(
    model: Path, data: Path, format: str | None, output: Path | None, batch_size: int, lenient: bool
) -> None:
    from biorelex.data import formats
    from biorelex.errors import ReadReport
    from biorelex.inference.extractor import Extractor
    from biorelex.training.joint import evaluate_joint, joint_headline, write_joint_report

    extractor = Extractor.from_directory(model, batch_size=batch_size)
    documents = list(formats.read(data, format, report=ReadReport(lenient=lenient)))
    scores, predicted = evaluate_joint(extractor, documents)
    if output is not None:
        write_joint_report(scores, predicted, output)
    _print_joint(str(data), joint_headline(scores))
    typer.echo(json.dumps({k: v for k, v in scores.items() if k in ("ner", "re_strict", "re_boundaries")}))


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(help="A trained model directory.")],
    source: Annotated[Path, typer.Argument(help="Documents with entities, any readable format.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file (format from suffix or --to).")],
    format: Annotated[
        Optional[str], typer.Option("--format", "-f", help="Input format (detected if omitted).")
    ] = None,
    to_format: Annotated[Optional[str], typer.Option("--to", help="Output format.")] = None,
    candidates: Annotated[
        str, typer.Option(help="auto, pairs, all, or a preset (chemprot, ddi...).")
    ] = "auto",
    batch_size: Annotated[int, typer.Option(help="Pairs per forward pass.")] = 64,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for the forward pass.")] = None,
) -> None:
    """Classify every candidate pair and write the Documents with scored relations."""
    try:
        from biorelex.data import formats
        from biorelex.inference.predictor import Predictor

        name = to_format or WRITE_SUFFIXES.get(output.suffix)
        if name is None:
            raise BiorelexError(f"cannot tell the output format of {output}; pass --to")
        predictor = Predictor.from_directory(
            model, num_threads=threads, batch_size=batch_size, candidates=candidates
        )
        documents = predictor.predict(list(formats.read(source, format)))
        count = formats.write(documents, output, name)
    except BiorelexError as exc:
        _fail(exc)
        return
    relations = sum(len(d.relations) for d in documents)
    typer.echo(f"wrote {count} documents with {relations} predicted relations to {output} ({name})", err=True)


@app.command()
def cv(
    config: ConfigArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory.")] = Path("runs/cv"),
    overrides: SetOption = None,
    folds: Annotated[int, typer.Option(help="Folds (a corpus's own folds when it has them).")] = 10,
) -> None:
    """k-fold cross-validation; prints mean and standard deviation of the test scores."""
    try:
        from biorelex.training.cv import cross_validate

        summary = cross_validate(_load_config(config, overrides), output, folds)
    except BiorelexError as exc:
        _fail(exc)
        return
    f1 = summary["micro_f1"]
    typer.echo(f"{summary['folds']}-fold F1 {100 * f1['mean']:.2f} +- {100 * f1['std']:.2f} (gold entities)")
    if "auc_macro" in summary:
        auc = summary["auc_macro"]
        typer.echo(f"AUC {100 * auc['mean']:.2f} +- {100 * auc['std']:.2f}")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Report directory of system A (evaluate -o / run/test).")],
    run_b: Annotated[Path, typer.Argument(help="Report directory of system B, same split.")],
    samples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Paired bootstrap significance of micro-F1(A) - micro-F1(B)."""
    try:
        from biorelex.evaluation.evaluate import compare_runs

        result = compare_runs(run_a, run_b, samples, seed)
    except BiorelexError as exc:
        _fail(exc)
        return
    typer.echo(
        f"F1 A {100 * result['f1_a']:.2f}, B {100 * result['f1_b']:.2f}, delta {100 * result['delta']:+.2f} "
        f"(95% CI {100 * result['ci_low']:+.2f} .. {100 * result['ci_high']:+.2f}), "
        f"p = {result['p_value']:.4f} over {result['pairs']} pairs, {samples} resamples"
    )
    typer.echo(json.dumps(result))


if __name__ == "__main__":  # pragma: no cover
    app()


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
    source: Annotated[
        Path, typer.Argument(help="Plain text (.txt file or folder), PubTator, BioC or JSONL.")
    ],
    model: Annotated[Path, typer.Option("--model", "-m", help="A trained joint NER+RE model directory.")],
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Output file; omitted: print the extraction.")
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
        str, typer.Option(help="Pipeline mode: 'predicted' (the model's NER) or 'given' (the input's).")
    ] = "predicted",
    candidates: Annotated[str, typer.Option(help="Pipeline mode: pairing, 'all' or a preset.")] = "all",
    batch_size: Annotated[int, typer.Option(help="Sentences per forward pass.")] = 32,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for the forward pass.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Only the first N documents of the input.")] = None,
) -> None:
    """Entities and relations from raw text with a joint NER+RE model (or a pipeline with --classifier)."""
    try:
        from biorelex.data import formats
        from biorelex.inference.extractor import Extractor

        name = None
        if output is not None:
            name = to_format or WRITE_SUFFIXES.get(output.suffix)
            if name is None:
                raise BiorelexError(f"cannot tell the output format of {output}; pass --to")
        extractor = Extractor.from_directory(
            model,
            num_threads=threads,
            classifier_dir=classifier,
            candidates=candidates,
            batch_size=batch_size,
            entities=entities,
        )
        import itertools

        inputs = formats.read(source, "text-lines" if lines else format)
        documents = extractor.predict(list(itertools.islice(inputs, limit) if limit else inputs))
        if output is not None and name is not None:
            formats.write(documents, output, name)
    except BiorelexError as exc:
        _fail(exc)
        return
    n_entities = sum(len(d.entities) for d in documents)
    n_relations = sum(len(d.relations) for d in documents)
    if output is None:
        _print_extraction(documents)
    else:
        typer.echo(
            f"wrote {len(documents)} documents with {n_entities} entities and {n_relations} relations "
            f"to {output} ({name})",
            err=True,
        )


@app.command()
def explain(
    model: Annotated[Path, typer.Argument(help="A trained model directory (joint or classifier).")],
    text: Annotated[str, typer.Argument(help="The sentence to inspect.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the PNG heat maps.")] = Path(
        "attention"
    ),
    layer: Annotated[Optional[list[int]], typer.Option(help="Layer(s) to draw (default: the last).")] = None,
    head: Annotated[Optional[list[int]], typer.Option(help="Head(s) to draw besides the mean.")] = None,
) -> None:
    """Attention heat maps (PNG) of chosen layers and heads for a sentence (Giorgi et al., Fig. 2)."""
    try:
        from biorelex.inference.explain import explain as draw
        from biorelex.models.serialization import load_metadata

        if load_metadata(model).get("kind") == "joint":
            from biorelex.models.joint.model import JointModel

            loaded: Any = JointModel.load(model)
        else:
            from biorelex.models.relation_model import RelationModel

            loaded = RelationModel.load(model)
        written = draw(loaded, text, output, layer or [], head or [])
    except BiorelexError as exc:
        _fail(exc)
        return
    for path in written:
        typer.echo(str(path))
