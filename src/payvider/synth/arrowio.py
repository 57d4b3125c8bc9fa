"""Vectorised builders of Arrow columns, and chunked writers of canonical tables.

Columns are built from NumPy arrays without Python loops over rows: identifiers are formatted
digit by digit into a fixed-width byte matrix, codes are ``take``-n from small vocabularies, money
is written straight into DECIMAL(18, 2) buffers from integer cents.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from payvider.schema import get_table

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "date": pa.date32(),
    "money": pa.decimal128(18, 2),
    "integer": pa.int64(),
    "number": pa.decimal128(18, 4),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of canonical table ``table``, columns in declared order."""
    decl = get_table(table)
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in decl.columns])


def _validity(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None or bool(valid.all()):
        return None
    return pa.py_buffer(np.packbits(valid.astype(np.bool_), bitorder="little"))


def ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """Strings ``prefix`` + zero-padded ``numbers`` (all the same length), built in bulk."""
    n = len(numbers)
    p = prefix.encode("ascii")
    total = len(p) + width
    buf = np.empty((n, total), dtype=np.uint8)
    if p:
        buf[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    x = np.asarray(numbers, dtype=np.int64).copy()
    for k in range(width - 1, -1, -1):
        buf[:, len(p) + k] = 48 + (x % 10)
        x //= 10
    offsets = np.arange(0, (n + 1) * total, total, dtype=np.int64)
    if offsets[-1] < 2**31 - 1:
        return pa.Array.from_buffers(
            pa.string(),
            n,
            [_validity(valid), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf)],
        )
    arr = pa.Array.from_buffers(
        pa.large_string(), n, [_validity(valid), pa.py_buffer(offsets), pa.py_buffer(buf)]
    )
    return arr.cast(pa.string())


def digits(numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """Zero-padded digit strings of fixed width."""
    return ids("", numbers, width, valid)


def vocab(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def take(voc: pa.Array, idx: np.ndarray) -> pa.Array:
    """``voc[idx]`` with negative indices as nulls."""
    idx = np.asarray(idx)
    mask = idx < 0
    if mask.any():
        ind = pa.array(np.where(mask, 0, idx).astype(np.int32), mask=mask)
    else:
        ind = pa.array(idx.astype(np.int32))
    return voc.take(ind)


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """date32 from days since 1970-01-01; ``valid`` False gives null."""
    arr = np.asarray(days, dtype=np.int32)
    if valid is not None and not valid.all():
        return pa.array(arr, type=pa.int32(), mask=~valid).view(pa.date32())
    return pa.array(arr, type=pa.int32()).view(pa.date32())


def decimal(units: np.ndarray, scale: int, valid: np.ndarray | None = None) -> pa.Array:
    """DECIMAL(18, scale) from integer units of 10**-scale (cents for scale 2)."""
    u = np.asarray(units, dtype=np.int64)
    n = len(u)
    v = np.empty((n, 2), dtype=np.int64)
    v[:, 0] = u
    v[:, 1] = u >> 63
    return pa.Array.from_buffers(pa.decimal128(18, scale), n, [_validity(valid), pa.py_buffer(v)])


def money(dollars: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """DECIMAL(18, 2) from float dollars, rounded half away from zero to cents."""
    return decimal(cents(dollars), 2, valid)


def cents(dollars: np.ndarray) -> np.ndarray:
    d = np.asarray(dollars, dtype=np.float64)
    return (np.sign(d) * np.floor(np.abs(d) * 100.0 + 0.5)).astype(np.int64)


def number(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """DECIMAL(18, 4) from floats."""
    v = np.asarray(values, dtype=np.float64)
    return decimal(np.round(v * 10_000.0).astype(np.int64), 4, valid)


def integers(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = np.asarray(values, dtype=np.int64)
    if valid is not None and not valid.all():
        return pa.array(arr, type=pa.int64(), mask=~valid)
    return pa.array(arr, type=pa.int64())


def booleans(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = np.asarray(values, dtype=np.bool_)
    if valid is not None and not valid.all():
        return pa.array(arr, type=pa.bool_(), mask=~valid)
    return pa.array(arr, type=pa.bool_())


def constant(value: str | None, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, pa.string())
    return pa.array([value], type=pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))


def concat(parts: Sequence[pa.Array]) -> pa.Array:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pa.array([], type=pa.string())
    return pa.concat_arrays(parts)


def build_table(table: str, columns: dict[str, pa.Array], n: int) -> pa.Table:
    """A table in canonical column order and types; undeclared columns are an error."""
    schema = arrow_schema(table)
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise KeyError(f"{table}: columns not in the declaration: {sorted(unknown)}")
    arrays = []
    for field in schema:
        arr = columns.get(field.name)
        if arr is None:
            arr = pa.nulls(n, field.type)
        elif arr.type != field.type:
            arr = arr.cast(field.type)
        if len(arr) != n:
            raise ValueError(f"{table}.{field.name}: {len(arr)} values, expected {n}")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


#: Columns with few distinct values: dictionary-encoded in Parquet (the rest are not, which
#: saves the writer from building dictionaries it then abandons).
_DICT_COLUMNS = {
    "claim_type",
    "adjustment_type",
    "payer",
    "plan",
    "place_of_service_code",
    "bill_type_code",
    "drg_code_type",
    "drg_code",
    "revenue_center_code",
    "hcpcs_code",
    "hcpcs_modifier_1",
    "rendering_npi",
    "rendering_tin",
    "billing_npi",
    "billing_tin",
    "facility_npi",
    "admit_source_code",
    "admit_type_code",
    "discharge_disposition_code",
    "data_source",
    "diagnosis_code_type",
    "diagnosis_code",
    "present_on_admission",
    "procedure_code_type",
    "procedure_code",
    "prescribing_provider_npi",
    "dispensing_provider_npi",
    "ndc_code",
    "gender",
    "sex",
    "race",
    "ethnicity",
    "city",
    "state",
    "zip_code",
    "payer_type",
    "product_line",
    "encounter_type",
    "attending_provider_npi",
    "primary_diagnosis_code",
    "source_code_type",
    "source_code",
    "status",
    "units",
    "practitioner_npi",
    "instrument",
    "domain",
    "item",
    "source_description",
    "first_name",
    "last_name",
    "middle_name",
    "original_reason_entitlement_code",
    "dual_status_code",
    "medicare_status_code",
    "pcp_npi",
    "region",
}


class TableWriter:
    """Appends chunks of one canonical table to ``out/<table>.parquet`` (or ``.csv``)."""

    def __init__(self, out: Path, table: str, fmt: str) -> None:
        self.table = table
        self.fmt = fmt
        self.schema = arrow_schema(table)
        self.path = out / f"{table}.{fmt}"
        self.rows = 0
        self._writer: Any = None

    def _open(self) -> None:
        if self.fmt == "parquet":
            dict_cols = [f.name for f in self.schema if f.name in _DICT_COLUMNS]
            self._writer = pq.ParquetWriter(
                self.path,
                self.schema,
                compression="zstd",
                compression_level=1,
                use_dictionary=dict_cols,
                write_statistics=True,
            )
        else:
            self._writer = pacsv.CSVWriter(
                self.path,
                self.schema,
                write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed"),
            )

    def write(self, tbl: pa.Table) -> None:
        if self._writer is None:
            self._open()
        if tbl.num_rows == 0:
            return
        if tbl.schema != self.schema:
            tbl = tbl.cast(self.schema)
        if self.fmt == "parquet":
            self._writer.write_table(tbl, row_group_size=1_048_576)
        else:
            self._writer.write_table(tbl)
        self.rows += tbl.num_rows

    def close(self) -> None:
        if self._writer is None:
            self._open()
        self._writer.close()


class Sink:
    """Writers for every output table, fed through a background thread.

    Generation of the next chunk overlaps with encoding and compressing the previous one (Arrow
    releases the GIL while writing). The queue is bounded, so at most two chunks are in memory.
    """

    def __init__(self, out: Path, tables: Sequence[str], fmt: str, depth: int = 2) -> None:
        self.writers = {t: TableWriter(out, t, fmt) for t in tables}
        self._q: queue.Queue[tuple[str, pa.Table] | None] = queue.Queue(maxsize=depth * 8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="payvider-synth-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            if self._error is not None:
                continue
            name, tbl = item
            try:
                self.writers[name].write(tbl)
            except BaseException as exc:  # surfaced in put() / close()
                self._error = exc

    def put(self, name: str, tbl: pa.Table) -> None:
        if self._error is not None:
            raise self._error
        self._q.put((name, tbl))

    def abort(self) -> None:
        """Stop the writer thread after a failure elsewhere; files are left incomplete."""
        self._error = self._error or RuntimeError("aborted")
        self._q.put(None)
        self._thread.join()
        for w in self.writers.values():
            if w._writer is not None:
                try:
                    w._writer.close()
                except Exception:
                    pass

    def close(self) -> dict[str, int]:
        self._q.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        for w in self.writers.values():
            w.close()
        return {t: w.rows for t, w in self.writers.items()}
