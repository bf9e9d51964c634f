"""``biorelex evaluate``, ``predict``, ``compare``, ``export`` and ``explain``: trained models in use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from biorelex.cli._common import (
    PrecisionOption,
    WorkersOption,
    app,
    fail,
    output_format,
    print_joint,
    print_scores,
)
from biorelex.errors import BiorelexError, ConfigError


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
        fail(exc)
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
    entities: Annotated[
        Optional[str],
        typer.Option(
            help="Joint models: 'predicted' (end to end, the default) or 'given' (its RE over the gold mentions)."
        ),
    ] = None,
) -> None:
    """Score a model on gold data: micro-F1 over positive classes, per class, AUC; report files with -o.

    A joint NER+RE model is scored end to end: NER, RE strict and RE boundaries (predicted entities),
    or with --entities given its RE alone over the gold mentions.
    """
    try:
        from biorelex.models.serialization import is_joint_model

        if is_joint_model(model):
            if precision != "fp32" or workers != 1:
                raise BiorelexError(
                    "--precision and --workers apply to relation classifiers, not joint models"
                )
            _evaluate_joint(model, data, format, output, batch_size, lenient, entities or "predicted")
            return
        if entities == "predicted":
            raise BiorelexError("a relation classifier scores the given entities' pairs; drop --entities")
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
        fail(exc)
        return
    print_scores(f"{data} (gold entities)", evaluation.scores)
    typer.echo(
        json.dumps(
            {
                k: evaluation.scores[k]
                for k in ("micro_precision", "micro_recall", "micro_f1", "macro_f1", "accuracy", "pairs")
            }
        )
    )


def _evaluate_joint(
    model: Path,
    data: Path,
    format: str | None,
    output: Path | None,
    batch_size: int,
    lenient: bool,
    entities: str,
) -> None:
    from biorelex.data import formats
    from biorelex.errors import ReadReport
    from biorelex.inference.extractor import Extractor
    from biorelex.training.joint import evaluate_joint, joint_headline, write_joint_report

    extractor = Extractor.from_directory(model, batch_size=batch_size, entities=entities)
    documents = list(formats.read(data, format, report=ReadReport(lenient=lenient)))
    scores, predicted = evaluate_joint(extractor, documents)
    if output is not None:
        write_joint_report(scores, predicted, output)
    print_joint(str(data), joint_headline(scores))
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

        name = output_format(output, to_format)
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
        fail(exc)
        return
    relations = sum(len(d.relations) for d in documents)
    typer.echo(f"wrote {count} documents with {relations} predicted relations to {output} ({name})", err=True)


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
        fail(exc)
        return
    typer.echo(
        f"F1 A {100 * result['f1_a']:.2f}, B {100 * result['f1_b']:.2f}, delta {100 * result['delta']:+.2f} "
        f"(95% CI {100 * result['ci_low']:+.2f} .. {100 * result['ci_high']:+.2f}), "
        f"p = {result['p_value']:.4f} over {result['pairs']} pairs, {samples} resamples"
    )
    typer.echo(json.dumps(result))


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
        fail(exc)
        return
    for path in written:
        typer.echo(str(path))
