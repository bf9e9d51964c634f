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
PrecisionOption = Annotated[
    str,
    typer.Option(
        help="fp32, or bf16: a PyTorch classifier's forward under bfloat16 autocast (faster on CPUs with bf16)."
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option(
        help="Batches run at once, the CPU threads shared among them; 2 on a 2-core CPU gives "
        "more pairs/s over a whole file, 1 the lowest latency per batch."
    ),
]


def _load_config(
    config: Path | None, overrides: list[str] | None, options: dict[str, Any] | None = None
) -> Any:
    """``config`` with the ``--set`` overrides, then a command's own options (``{"dotted.key": value}``;
    ``None`` = not given) as overrides, so an explicit option wins over ``--set``."""
    from biorelex.config import load_config

    given = [f"{key}={json.dumps(value)}" for key, value in (options or {}).items() if value is not None]
    return load_config(config, [*(overrides or []), *given])


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
    keep_members: Annotated[
        Path | None,
        typer.Option(
            help="With model.per_type_binary: keep each finished binary model's dev/test scores in "
            "this JSON file, and restore members from it instead of retraining them (a new machine "
            "continues the run; scores only, so no model is saved while a member has no weights).",
        ),
    ] = None,
) -> None:
    """Train a relation classifier (or, with model.task = "joint", the joint NER+RE model), then
    score it on dev and test (gold entities; predicted entities for the joint model)."""
    try:
        run_config = _load_config(config, overrides)
        if keep_members is not None and not (
            run_config.model.per_type_binary and run_config.model.task != "joint"
        ):
            raise ConfigError("--keep-members needs model.per_type_binary = true (one binary model per type)")
        if run_config.model.task == "joint":
            from biorelex.training.joint import train_joint

            result = train_joint(run_config, output, resume=resume)
        else:
            from biorelex.training.trainer import train as run_training

            store = None
            if keep_members is not None:
                from biorelex.training.member_store import JsonMemberStore

                store = JsonMemberStore(keep_members)
            result = run_training(run_config, output, resume=resume, member_store=store)
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
    if summary.get("members_restored"):
        typer.echo(f"no model saved: members {summary['members_restored']} were restored from kept scores")
        return
    typer.echo(f"model: {output / 'model'}")


@app.command()
def distill(
    teacher: Annotated[Path, typer.Argument(help="The trained teacher's model directory.")],
    config: Annotated[
        Optional[Path], typer.Option("--config", "-c", help="Run config (TOML) for data and training.")
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory.")] = Path("runs/student"),
    student: Annotated[
        Optional[str],
        typer.Option(
            help="Student encoder, or a trained classifier's directory to start from; "
            "default: the teacher's first --layers layers."
        ),
    ] = None,
    layers: Annotated[Optional[int], typer.Option(help="Layers the default student keeps.")] = None,
    ffn_keep: Annotated[
        Optional[float],
        typer.Option(help="Fraction of each layer's feed-forward neurons the student keeps."),
    ] = None,
    overrides: SetOption = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from its checkpoint.")] = False,
) -> None:
    """Distil a teacher into a smaller student (soft labels + gold labels), then score it."""
    try:
        options = {"distill.student": student, "distill.layers": layers, "distill.ffn_keep": ffn_keep}
        run_config = _load_config(config, overrides, options)
        from biorelex.training.distill import distill as run_distill

        result = run_distill(run_config, teacher, output, resume=resume)
    except BiorelexError as exc:
        _fail(exc)
        return
    _print_run(result.summary, output)


@app.command("self-train")
def self_train(
    config: Annotated[
        Optional[Path], typer.Option("--config", "-c", help="Run config (TOML): data, model, [self_train].")
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory.")] = Path("runs/selftrain"),
    teacher: Annotated[
        Optional[Path], typer.Option(help="A trained run directory as round 0 (default: train one).")
    ] = None,
    rounds: Annotated[Optional[int], typer.Option(help="Student rounds after the teacher.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Minimum teacher confidence kept.")] = None,
    unlabeled: Annotated[
        Optional[list[Path]], typer.Option(help="Unlabeled files with entities (repeatable).")
    ] = None,
    overrides: SetOption = None,
    resume: Annotated[bool, typer.Option(help="Skip finished rounds, resume an interrupted one.")] = False,
) -> None:
    """Self-train a relation classifier: teacher -> confident pseudo-labels -> student, N rounds."""
    try:
        options = {
            "self_train.rounds": rounds,
            "self_train.threshold": threshold,
            "self_train.unlabeled": [str(p) for p in unlabeled] if unlabeled else None,
        }
        run_config = _load_config(config, overrides, options)
        from biorelex.training.selftrain import self_train as run_self_train

        report = run_self_train(run_config, output, teacher, resume=resume)
    except BiorelexError as exc:
        _fail(exc)
        return
    for entry in report["rounds"]:
        dev, test = entry.get("dev_micro_f1"), entry.get("test_micro_f1")
        extra_text = f", {entry['pseudo_labels']} pseudo-labels" if entry["round"] else " (supervised)"
        accuracy = entry.get("pseudo_accuracy")
        if accuracy is not None:
            extra_text += f" ({100 * accuracy:.1f}% correct)"
        typer.echo(
            f"round {entry['round']}{extra_text}: dev micro-F1 {_percent(dev)}, test micro-F1 {_percent(test)}"
        )
    typer.echo(
        f"selected round {report['selected_round']} (by dev micro-F1); gold entities; "
        f"report: {output / 'selftrain.json'}"
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


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
    precision: PrecisionOption = "fp32",
    workers: WorkersOption = 1,
) -> None:
    """Score a model on gold data: micro-F1 over positive classes, per class, AUC; report files with -o.

    A joint NER+RE model is scored end to end: NER, RE strict and RE boundaries (predicted entities).
    """
    try:
        from biorelex.models.serialization import is_joint_model

        if is_joint_model(model):
            if precision != "fp32" or workers != 1:
                raise BiorelexError(
                    "--precision and --workers apply to relation classifiers, not joint models"
                )
            _evaluate_joint(model, data, format, output, batch_size, lenient)
            return
        from biorelex.data import formats
        from biorelex.errors import ReadReport
        from biorelex.evaluation.evaluate import evaluate as run_evaluation
        from biorelex.evaluation.evaluate import write_report
        from biorelex.inference.predictor import Predictor

        predictor = Predictor.from_directory(
            model, precision=precision, workers=workers, batch_size=batch_size, candidates=candidates
        )
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
    precision: PrecisionOption = "fp32",
    workers: WorkersOption = 1,
) -> None:
    """Classify every candidate pair and write the Documents with scored relations."""
    try:
        from biorelex.data import formats
        from biorelex.inference.predictor import Predictor

        name = to_format or WRITE_SUFFIXES.get(output.suffix)
        if name is None:
            raise BiorelexError(f"cannot tell the output format of {output}; pass --to")
        predictor = Predictor.from_directory(
            model,
            num_threads=threads,
            precision=precision,
            workers=workers,
            batch_size=batch_size,
            candidates=candidates,
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
        str, typer.Option(help="Pipeline mode: 'predicted' (the model's NER) or 'given' (the input's).")
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
        _fail(BiorelexError(f"--engine must be 'local' or 'ray', got {engine!r}"))
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

        target = None
        if output is not None:
            target = to_format or WRITE_SUFFIXES.get(output.suffix)
            if target is None:
                raise BiorelexError(f"cannot tell the output format of {output}; pass --to")
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
        _fail(exc)
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
        _fail(exc)
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
        _fail(exc)
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
        _fail(exc)
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
        _fail(exc)
        return
    uvicorn.run(create_app(service, settings), host=host, port=port, log_level="info")


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
        from biorelex.models.serialization import is_joint_model

        if is_joint_model(model):
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


@app.command()
def pretrain(
    text: Annotated[
        list[Path], typer.Option("--text", help="Plain text, one document or sentence per line (.gz ok).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output folder (the encoder goes to OUT/encoder).")
    ],
    encoder: Annotated[
        Optional[str], typer.Option(help="Encoder to adapt (default: the embedded MiniLM).")
    ] = None,
    steps: Annotated[
        int, typer.Option(help="Total optimizer steps (extend a finished run with --resume).")
    ] = 1000,
    decay_from: Annotated[
        Optional[int],
        typer.Option(help="Decay every rate linearly to 0 from this step to --steps (default: constant)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Blocks per step.")] = 32,
    max_length: Annotated[int, typer.Option(help="Sub-words per packed block.")] = 128,
    lr: Annotated[
        float, typer.Option(help="Peak learning rate (warm-up, then constant until --decay-from).")
    ] = 5e-5,
    warmup_steps: Annotated[int, typer.Option(help="Linear warm-up steps of the encoder's rate.")] = 100,
    head_warmup_steps: Annotated[
        int, typer.Option(help="First train the MLM head alone (encoder frozen) for N steps.")
    ] = 0,
    head_lr: Annotated[float, typer.Option(help="Learning rate of the MLM head.")] = 1e-3,
    whole_word: Annotated[bool, typer.Option(help="Mask whole words.")] = True,
    heldout_lines: Annotated[int, typer.Option(help="First N lines held out for the MLM loss.")] = 500,
    eval_every: Annotated[int, typer.Option(help="Held-out evaluation every N steps.")] = 200,
    save_every: Annotated[int, typer.Option(help="Checkpoint every N steps.")] = 200,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoint.")] = False,
) -> None:
    """Continued masked-language-model pre-training of an encoder on your text (domain adaptation)."""
    try:
        from biorelex.training.pretrain import PretrainConfig
        from biorelex.training.pretrain import pretrain as run_pretrain

        config = PretrainConfig(
            encoder=encoder,
            texts=[str(t) for t in text],
            max_length=max_length,
            batch_size=batch_size,
            lr=lr,
            warmup_steps=warmup_steps,
            head_warmup_steps=head_warmup_steps,
            head_lr=head_lr,
            steps=steps,
            decay_from=decay_from,
            whole_word=whole_word,
            heldout_lines=heldout_lines,
            eval_every=eval_every,
            save_every=save_every,
        )
        summary = run_pretrain(config, output, resume=resume)
    except BiorelexError as exc:
        _fail(exc)
        return
    last = summary["history"][-1]
    typer.echo(
        f"{summary['steps']} steps, {summary['tokens']} tokens; held-out MLM loss "
        f"{summary['history'][0]['heldout_loss']:.3f} -> {last['heldout_loss']:.3f} "
        f"(perplexity {last['perplexity']:.2f}); encoder: {output / 'encoder'}"
    )


@app.command()
def interpolate(
    adapted: Annotated[str, typer.Argument(help="The domain-adapted encoder (a `pretrain` output folder).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder (encoder in OUT/encoder).")],
    weight: Annotated[
        float, typer.Option(help="Share of the adapted encoder: 0 = the original, 1 = the adapted one.")
    ] = 0.5,
    original: Annotated[
        Optional[str], typer.Option(help="The encoder it was adapted from (default: the embedded MiniLM).")
    ] = None,
) -> None:
    """Interpolate an encoder and its domain-adapted version in weight space (keeps part of each)."""
    try:
        from biorelex.training.pretrain import interpolate_encoders

        interpolate_encoders(original, adapted, weight, output)
    except BiorelexError as exc:
        _fail(exc)
        return
    typer.echo(f"encoder {1 - weight:.2f} x original + {weight:.2f} x {adapted}: {output / 'encoder'}")


if __name__ == "__main__":  # pragma: no cover
    app()
