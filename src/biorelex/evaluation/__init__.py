"""Evaluation: scores as the benchmarks compute them, plots and significance tests."""
