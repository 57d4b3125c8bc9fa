"""Payvider: the data platform for payer–provider value-based partnerships."""

__version__ = "0.1.0"
