"""The HTTP API (FastAPI): ``biorelex serve -m MODEL``. Needs the ``serve`` extra."""
