"""Benchmarks (`make bench`): numbers measured on this machine, written to bench/results/."""
