"""Reading one input file into an Arrow table, catching whole-file problems.

Whole-file problems (missing file, empty, truncated, not UTF-8, wrong delimiter, unreadable
Parquet) raise :class:`InputRejected` naming the file. Rows with the wrong number of fields do not
stop the load: they come back separately so they can be quarantined with their row numbers.

Row numbers are 1-based data-record numbers: the header is not counted, so "row 1" is the first
record under the header (line 2 of a CSV file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from payvider.ingest.errors import InputRejected

ROW = "_row"
FILE = "_file_index"
#: Distinguishes several canonical rows made from one source row (wide diagnosis columns).
PART = "_part"
DATA_SUFFIXES = (".csv", ".parquet")
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class MalformedRow:
    row: int
    reason: str
    text: str


@dataclass
class FileRead:
    """The records of one file as Arrow, with ``_row`` and ``_file`` columns added."""

    path: Path
    table: pa.Table
    malformed: list[MalformedRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.malformed)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_file(path: Path, display_name: str | None = None, file_index: int = 0) -> FileRead:
    """Read a CSV or Parquet file; every CSV column is read as text so validation sees it raw.

    ``file_index`` is stored in the ``_file_index`` column so rows of several files can be
    told apart after they are concatenated.
    """
    name = display_name or path.name
    if not path.exists():
        raise InputRejected(name, "file not found")
    if path.stat().st_size == 0:
        raise InputRejected(name, "file is empty")
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, name, file_index)
    return _read_csv(path, name, file_index)


def _read_parquet(path: Path, name: str, file_index: int) -> FileRead:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise InputRejected(name, f"not a readable Parquet file ({exc})") from None
    if table.num_rows == 0:
        raise InputRejected(name, "file has a header but no rows")
    return FileRead(path, _with_row_numbers(table, np.arange(1, table.num_rows + 1), file_index))


def _header_line(path: Path, name: str) -> str:
    with open(path, "rb") as f:
        raw = f.readline()
    try:
        return raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise InputRejected(name, "not UTF-8 text (the header line cannot be decoded)") from None


def _read_csv(path: Path, name: str, file_index: int) -> FileRead:
    header = _header_line(path, name)
    if not header.strip():
        raise InputRejected(name, "file has no header line")
    columns = next(
        iter(
            pacsv.read_csv(
                pa.py_buffer(header.encode() + b"\n"),
                read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            ).to_pylist()
        ),
        {},
    )
    names = [str(v) if v is not None else "" for v in columns.values()]
    if len(names) == 1:
        for delim, label in _OTHER_DELIMITERS.items():
            if delim in header:
                raise InputRejected(
                    name,
                    f"wrong delimiter: the header has a single column and contains {label}s; "
                    "files must be comma-separated",
                )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputRejected(name, f"header repeats column(s) {', '.join(dupes)}")

    invalid: list[tuple[int | None, int, int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def read(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=on_invalid, newlines_in_values=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )

    try:
        table = read(threads=True)
        if invalid and any(number is None for number, *_ in invalid):
            invalid.clear()
            table = read(threads=False)  # slower, but gives the line number of each bad row
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "UTF8" in msg or "UTF-8" in msg:
            raise InputRejected(
                name, "not UTF-8 text (invalid byte sequence in the data)"
            ) from None
        raise InputRejected(name, f"not a readable CSV file ({msg})") from None

    with open(path, "rb") as f:
        f.seek(-1, 2)
        ends_with_newline = f.read(1) in (b"\n", b"\r")
    total = table.num_rows + len(invalid)
    if invalid:
        last_line, expected, actual, _ = invalid[-1]
        if not ends_with_newline and last_line is not None and last_line - 1 == total:
            raise InputRejected(
                name,
                f"truncated: the last row (row {total}) has {actual} of {expected} fields and the "
                "file does not end with a newline",
            )
    if total == 0:
        raise InputRejected(name, "file has a header but no rows")

    bad_rows = np.array(sorted(int(n) - 1 for n, *_ in invalid), dtype=np.int64)
    all_rows = np.arange(1, total + 1, dtype=np.int64)
    good_rows = np.setdiff1d(all_rows, bad_rows, assume_unique=True)
    malformed = [
        MalformedRow(int(n) - 1, f"row has {actual} fields, the header has {expected}", text[:200])
        for n, expected, actual, text in invalid
    ]
    return FileRead(path, _with_row_numbers(table, good_rows, file_index), malformed)


def _with_row_numbers(table: pa.Table, rows: np.ndarray, file_index: int) -> pa.Table:
    table = table.append_column(ROW, pa.array(rows, type=pa.int64()))
    index = np.full(table.num_rows, file_index, dtype=np.int32)
    return table.append_column(FILE, pa.array(index, type=pa.int32()))
