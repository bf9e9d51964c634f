"""``python -m biorelex.cli``: the same command line as ``biorelex``."""

from biorelex.cli import app

app()
