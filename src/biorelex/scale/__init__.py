"""Batch extraction beyond one process: input shards through a Ray Data actor pool (``[scale]`` extra)."""
