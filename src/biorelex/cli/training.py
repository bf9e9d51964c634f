"""``biorelex train``, ``distill``, ``self-train``, ``cv``, ``pretrain`` and ``interpolate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from biorelex.cli._common import ConfigArg, ResumeOption, SetOption, app, fail, load_run_config, print_run
from biorelex.errors import BiorelexError, ConfigError


@app.command()
def train(
    config: ConfigArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory.")] = Path("runs/latest"),
    overrides: SetOption = None,
    resume: ResumeOption = False,
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
        run_config = load_run_config(config, overrides)
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
        fail(exc)
        return
    print_run(result.summary, output)


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
    resume: ResumeOption = False,
) -> None:
    """Distil a teacher into a smaller student (soft labels + gold labels), then score it."""
    try:
        options = {"distill.student": student, "distill.layers": layers, "distill.ffn_keep": ffn_keep}
        run_config = load_run_config(config, overrides, options)
        from biorelex.training.distill import distill as run_distill

        result = run_distill(run_config, teacher, output, resume=resume)
    except BiorelexError as exc:
        fail(exc)
        return
    print_run(result.summary, output)


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
        run_config = load_run_config(config, overrides, options)
        from biorelex.training.selftrain import self_train as run_self_train

        report = run_self_train(run_config, output, teacher, resume=resume)
    except BiorelexError as exc:
        fail(exc)
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
def cv(
    config: ConfigArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory.")] = Path("runs/cv"),
    overrides: SetOption = None,
    folds: Annotated[int, typer.Option(help="Folds (a corpus's own folds when it has them).")] = 10,
) -> None:
    """k-fold cross-validation; prints mean and standard deviation of the test scores.

    Rerun on the same --output after a stop: done folds are skipped, a stopped fold resumes at its last epoch.
    """
    try:
        from biorelex.training.cv import cross_validate

        summary = cross_validate(load_run_config(config, overrides), output, folds)
    except BiorelexError as exc:
        fail(exc)
        return
    f1 = summary["micro_f1"]
    typer.echo(f"{summary['folds']}-fold F1 {100 * f1['mean']:.2f} +- {100 * f1['std']:.2f} (gold entities)")
    if "auc_macro" in summary:
        auc = summary["auc_macro"]
        typer.echo(f"AUC {100 * auc['mean']:.2f} +- {100 * auc['std']:.2f}")
    if "dev" in summary:  # each fold chose its epoch on a dev set held out of its training fold
        dev = summary["dev"]
        epochs = ", ".join(str(e) for e in dev["best_epoch_per_fold"])
        typer.echo(
            f"dev F1 of the chosen epochs {100 * dev['micro_f1']['mean']:.2f} +- "
            f"{100 * dev['micro_f1']['std']:.2f} (epochs per fold: {epochs})"
        )


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
        fail(exc)
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
        fail(exc)
        return
    typer.echo(f"encoder {1 - weight:.2f} x original + {weight:.2f} x {adapted}: {output / 'encoder'}")
