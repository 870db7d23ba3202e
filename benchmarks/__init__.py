"""Benchmarks: scripts that print measured figures (NAB quality, detector cost)."""
