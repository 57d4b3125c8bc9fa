"""Measures computed from the marts: cost, utilization, leakage, trend (and later quality)."""
