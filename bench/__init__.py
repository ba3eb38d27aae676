"""Benchmarks: hand-written NumPy and optional PyTorch references for the autodiff engine."""
