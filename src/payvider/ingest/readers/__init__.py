"""Readers: each turns one kind of export into a :class:`~payvider.ingest.RawBatch`.

Every reader goes through the same validation, quarantine and reconciled counts as the canonical
reader. A reader module exposes ``NAME``, ``looks_like(path) -> bool`` and
``read(path, progress) -> RawBatch``; modules load only when used.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path

from payvider.engine.workspace import Workspace
from payvider.ingest.errors import InputRejected
from payvider.ingest.load import LoadReport, load_batch, load_raw_batch

#: Reader name -> module. ``canonical`` is the folder-of-tables reader in ``payvider.ingest.load``.
READER_MODULES: dict[str, str] = {
    "synthea": "payvider.ingest.readers.synthea",
    "fhir": "payvider.ingest.readers.fhir",
    "cclf": "payvider.ingest.readers.cclf",
}
READERS: tuple[str, ...] = ("auto", "canonical", *READER_MODULES)


def _module(name: str):
    try:
        return importlib.import_module(READER_MODULES[name])
    except ModuleNotFoundError as exc:  # pragma: no cover - a reader not yet installed
        raise InputRejected(name, f"the {name} reader is not available ({exc})") from None


def detect_reader(path: Path) -> str:
    """The reader whose format ``path`` looks like; ``canonical`` when none claims it."""
    for name in READER_MODULES:
        try:
            module = importlib.import_module(READER_MODULES[name])
        except ModuleNotFoundError:
            continue
        if module.looks_like(Path(path)):
            return name
    return "canonical"


def ingest_path(
    workspace: Workspace,
    path: Path,
    reader: str = "auto",
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Load ``path`` with the named reader (or the one that recognises it)."""
    path = Path(path)
    if reader not in READERS:
        raise ValueError(f"unknown reader {reader!r}; choose one of {', '.join(READERS)}")
    if reader == "auto":
        reader = detect_reader(path)
    if reader == "canonical":
        return load_batch(workspace, path, as_of=as_of, progress=progress)
    raw = _module(reader).read(path, progress)
    return load_raw_batch(workspace, raw, as_of=as_of, progress=progress)
