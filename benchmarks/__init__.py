"""Benchmarks and evaluations; each writes its figures to a results file."""
