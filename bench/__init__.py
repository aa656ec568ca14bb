"""Benchmarks: outside pytest's paths, run by hand (see bench/README.md)."""
