"""Benchmarks: commands that print a table, with ratios against a raw baseline."""
