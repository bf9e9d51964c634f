"""What every command shares: the typer app, logging set-up, error exit, option types, printers."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from biorelex.config import RESUME_MAY_DIFFER
from biorelex.errors import BiorelexError

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


def fail(error: Exception) -> None:
    """Print ``error`` as one line (no traceback) and exit with code 2."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


def output_format(path: Path, given: str | None) -> str:
    """The writer for ``path``: ``given`` (``--to``), else the one its name says (``*abstracts*.tsv``:
    ChemProt; otherwise by suffix)."""
    chemprot = path.suffix == ".tsv" and "abstracts" in path.name
    name = given or ("chemprot" if chemprot else WRITE_SUFFIXES.get(path.suffix))
    if name is None:
        raise BiorelexError(f"cannot tell the output format of {path}; pass --to")
    return name


ConfigArg = Annotated[Optional[Path], typer.Argument(help="A TOML config (defaults when omitted).")]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override a config value: section.key=value (repeatable)."),
]
ResumeOption = Annotated[
    bool,
    typer.Option(
        help="Continue an interrupted run from its checkpoint, with the configuration it started "
        f"with (only {', '.join(sorted(RESUME_MAY_DIFFER))} may change).",
    ),
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


def load_run_config(
    config: Path | None, overrides: list[str] | None, options: dict[str, Any] | None = None
) -> Any:
    """``config`` with the ``--set`` overrides, then a command's own options (``{"dotted.key": value}``;
    ``None`` = not given) as overrides, so an explicit option wins over ``--set``."""
    from biorelex.config import load_config

    given = [f"{key}={json.dumps(value)}" for key, value in (options or {}).items() if value is not None]
    return load_config(config, [*(overrides or []), *given])


def print_scores(title: str, scores: dict[str, Any]) -> None:
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


def print_joint(split: str, scores: dict[str, Any]) -> None:
    typer.echo(
        f"{split}: NER F1 {100 * scores['ner_f1']:.2f}, RE F1 strict {100 * scores['re_f1_strict']:.2f} "
        f"(macro {100 * scores['re_macro_f1_strict']:.2f}), RE F1 boundaries "
        f"{100 * scores['re_f1_boundaries']:.2f}; {scores['setting']}"
    )


def print_run(summary: dict[str, Any], output: Path) -> None:
    if summary["setting"].get("entities") == "predicted":
        for split, scores in summary["scores"].items():
            print_joint(split, scores)
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
