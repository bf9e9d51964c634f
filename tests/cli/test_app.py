"""The command-line package as a whole: every command registered, light to start, runnable with -m."""

from __future__ import annotations

import subprocess
import sys

from typer.main import get_command

from biorelex.cli import COMMAND_MODULES, app

EXPECTED = {
    "data": ["stats", "convert", "formats"],
    "training": ["train", "distill", "self-train", "cv", "pretrain", "interpolate"],
    "evaluation": ["export", "evaluate", "predict", "compare", "explain"],
    "extraction": ["extract", "graph"],
    "serving": ["serve"],
}


def test_every_command_module_registers_its_commands_in_help_order() -> None:
    assert tuple(EXPECTED) == COMMAND_MODULES
    listed = list(get_command(app).commands)  # type: ignore[attr-defined]
    expected = [name for names in EXPECTED.values() for name in names]
    # typer lists command groups (`graph`) after the plain commands
    assert listed == [name for name in expected if name != "graph"] + ["graph"]


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys; from biorelex.cli import app; "
        "print(sorted(m for m in ('torch','transformers','pysbd','defusedxml','fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_the_same_app() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "biorelex.cli", "formats"], capture_output=True, text=True, check=True
    )
    assert "pubtator" in result.stdout
