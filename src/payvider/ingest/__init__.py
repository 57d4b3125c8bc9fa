"""Readers and validation: files in, canonical batches (and a quarantine) out."""

from payvider.ingest.errors import InputRejected
from payvider.ingest.load import (
    LoadReport,
    RawBatch,
    TableReport,
    already_loaded,
    load_batch,
    load_raw_batch,
    prepare_columns,
)

__all__ = [
    "InputRejected",
    "LoadReport",
    "RawBatch",
    "TableReport",
    "already_loaded",
    "load_batch",
    "load_raw_batch",
    "prepare_columns",
]
