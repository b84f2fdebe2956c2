"""Benchmarks for mmm_jax (run from the repository root: ``python -m benchmarks.<name>``)."""
