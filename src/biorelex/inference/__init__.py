"""Inference: preprocess -> forward -> postprocess, Documents in and out."""
