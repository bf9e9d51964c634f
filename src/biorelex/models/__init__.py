"""Encoders and relation models (torch lives below this package, never in data/formats)."""
