"""The ``biorelex`` command line: thin commands that parse, then call one library function.

One module per group of commands, all registered on the one typer ``app`` of ``_common`` when this
package imports them. Heavy imports (torch, transformers, fastapi...) happen inside the commands,
so ``biorelex --help`` starts instantly.
"""

from __future__ import annotations

import importlib

from biorelex.cli._common import app

# imported in the order `biorelex --help` lists their commands: corpora, training, using a
# trained model, extraction, serving
COMMAND_MODULES = ("data", "training", "evaluation", "extraction", "serving")
for _module in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["COMMAND_MODULES", "app"]
