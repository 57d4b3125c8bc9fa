"""Readers and validation: files in, canonical batches (and a quarantine) out."""

from payvider.ingest.errors import InputRejected
from payvider.ingest.load import LoadReport, TableReport, load_batch

__all__ = ["InputRejected", "LoadReport", "TableReport", "load_batch"]
