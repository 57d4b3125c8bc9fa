"""Pieces the Synthea, FHIR and CCLF readers share.

* :class:`Sources` keeps the files a reader used (name → SHA-256, the batch identity) and hands out
  ``_file_index`` values.
* :class:`Collector` gathers canonical rows (as Python dicts) for readers that parse record by
  record, and turns them into the Arrow tables of a :class:`~payvider.ingest.RawBatch`.
* :func:`derived_npi` makes a stable, check-digit-valid NPI from a source identifier that is not
  an NPI (Synthea's provider and organization UUIDs).
* Small vocabularies (US states, race and ethnicity) and the shipped reference tables.

Several canonical rows can come from one source record (the diagnoses listed on one claim, the
items of one ExplanationOfBenefit, the components of one Observation). Validation tells rows apart
by file and record number, so the n-th row made from a record gets its own ``_file_index`` that
*names the same file* (see :meth:`Sources.part_index`): quarantine rows still show the source file
and its record number.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pyarrow as pa

from payvider.ingest.codes import luhn_npi_check_digit
from payvider.ingest.files import FILE, ROW, file_sha256
from payvider.ingest.findings import Finding
from payvider.ingest.load import RawBatch
from payvider.schema import TABLES

Progress = Callable[[str], None]


def quiet(_msg: str) -> None:
    """A progress callback that says nothing."""


# --- files and row identities ------------------------------------------------------------------


@dataclass
class Sources:
    """The files of one batch and the ``_file_index`` values that point at them."""

    files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    file_names: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)
    _parts: dict[tuple[int, int], int] = field(default_factory=dict)

    def add(self, path: Path, name: str | None = None) -> int:
        """Register a file (hashing it) and return its index."""
        name = name or path.name
        if name in self._index:
            return self._index[name]
        self.files[name] = file_sha256(path)
        self._index[name] = len(self.file_names)
        self.file_names.append(name)
        return self._index[name]

    def index(self, name: str) -> int:
        return self._index[name]

    def part_index(self, file_index: int, part: int) -> int:
        """The index to use for the ``part``-th (0-based) row made from one record of a file.

        Part 0 is the file's own index; later parts get extra entries of ``file_names`` that repeat
        the file's name, so every canonical row has its own (file index, record number) pair.
        """
        if part == 0:
            return file_index
        key = (file_index, part)
        if key not in self._parts:
            self._parts[key] = len(self.file_names)
            self.file_names.append(self.file_names[file_index])
        return self._parts[key]


@dataclass
class Collector:
    """Canonical rows gathered record by record, with malformed records and findings."""

    sources: Sources = field(default_factory=Sources)
    rows: dict[str, list[dict]] = field(default_factory=dict)
    malformed: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    def add(self, table: str, row: dict, file_index: int, record: int, part: int = 0) -> None:
        """Add a canonical row made from record ``record`` of file ``file_index``."""
        row[ROW] = record
        row[FILE] = self.sources.part_index(file_index, part)
        self.rows.setdefault(table, []).append(row)

    def bad(
        self,
        table: str | None,
        file: str,
        row: int | None,
        reason: str,
        field: str | None = None,
        value: object = None,
    ) -> None:
        """Report a record that cannot become a canonical row."""
        if table is not None:
            self.rows.setdefault(table, [])
        text = None if value is None else str(value)[:200]
        self.malformed.append(
            {
                "table": table,
                "file": file,
                "row": row,
                "field": field,
                "value": text,
                "reason": reason,
            }
        )

    def finding(self, table: str, check: str, rows: int, detail: str) -> None:
        if rows:
            self.findings.append(Finding(table, check, rows, detail))

    def batch(self, source: str, reader: str) -> RawBatch:
        """The collected rows as a :class:`RawBatch` (``rows_read`` counts malformed records)."""
        tables = {name: rows_to_table(name, rows) for name, rows in self.rows.items()}
        return make_batch(source, reader, self.sources, tables, self)


def rows_to_table(table: str, rows: list[dict]) -> pa.Table:
    """Dict rows → Arrow: declared columns that occur as text, plus ``_row`` and ``_file_index``."""
    spec = TABLES[table]
    present = [c for c in spec.column_names if any(r.get(c) is not None for r in rows)]
    data: dict[str, pa.Array] = {
        c: pa.array([text_value(r.get(c)) for r in rows], pa.string()) for c in present
    }
    data[ROW] = pa.array([r[ROW] for r in rows], pa.int64())
    data[FILE] = pa.array([r[FILE] for r in rows], pa.int32())
    return pa.table(data)


def text_value(value: object) -> str | None:
    """A raw value as the text a reader hands to validation (booleans as true/false)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def make_batch(
    source: str,
    reader: str,
    sources: Sources,
    tables: dict[str, pa.Table],
    collected: Collector,
) -> RawBatch:
    """Assemble a RawBatch; every table named by a malformed record is present (maybe empty)."""
    for m in collected.malformed:
        name = m["table"]
        if name is not None and name not in tables:
            tables[name] = pa.table({ROW: pa.array([], pa.int64()), FILE: pa.array([], pa.int32())})
    rows_read = {name: t.num_rows for name, t in tables.items()}
    for m in collected.malformed:
        if m["table"] is not None:
            rows_read[m["table"]] += 1
    return RawBatch(
        source=source,
        reader=reader,
        files=dict(sources.files),
        file_names=list(sources.file_names),
        tables=tables,
        rows_read=rows_read,
        malformed=collected.malformed,
        findings=collected.findings,
        ignored_files=collected.ignored_files,
    )


# --- derived identifiers -----------------------------------------------------------------------


def derived_npi(source_id: str, entity_type: str = "individual") -> str:
    """A stable NPI-shaped identifier for a source id that is not an NPI.

    Ten digits: ``1`` (clinicians) or ``2`` (organizations), eight digits from the SHA-256 of the
    id, and the Luhn check digit CMS specifies for NPIs. The same id always gives the same NPI;
    these are not real NPIs and are reported as derived.
    """
    digest = hashlib.sha256(f"payvider-npi:{source_id}".encode()).hexdigest()
    body = ("1" if entity_type == "individual" else "2") + f"{int(digest, 16) % 10**8:08d}"
    return body + str(luhn_npi_check_digit(body))


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic identifier for a source record that has none of its own."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:20]}"


# --- dates --------------------------------------------------------------------------------------


def date_part(value: object) -> str | None:
    """``2014-05-06T04:34:30-04:00`` → ``2014-05-06`` (the date as written, local to the source)."""
    if value is None:
        return None
    text = str(value).strip()
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    if len(text) == 7 and text[4] == "-":  # FHIR partial date YYYY-MM
        return text + "-01"
    if len(text) == 4 and text.isdigit():  # FHIR partial date YYYY
        return text + "-01-01"
    return text or None


def day_before(iso_date: str) -> str:
    return (dt.date.fromisoformat(iso_date) - dt.timedelta(days=1)).isoformat()


# --- vocabularies -------------------------------------------------------------------------------

#: USPS codes of the states, DC and territories, by name (lower case).
US_STATES: dict[str, str] = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "district of columbia": "DC",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
    "puerto rico": "PR",
    "guam": "GU",
    "virgin islands": "VI",
    "american samoa": "AS",
    "northern mariana islands": "MP",
}


def state_code(value: str | None) -> str | None:
    """A state as its two-letter USPS code (``Massachusetts`` → ``MA``); codes pass through."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) == 2:
        return text.upper()
    return US_STATES.get(text.lower(), text)


#: OMB race categories (CDC Race & Ethnicity code set) by code, and Synthea's words for them.
RACE_BY_CODE = {
    "1002-5": "american indian or alaska native",
    "2028-9": "asian",
    "2054-5": "black or african american",
    "2076-8": "native hawaiian or other pacific islander",
    "2106-3": "white",
    "2131-1": "other",
}
RACE_BY_WORD = {
    "white": "white",
    "black": "black or african american",
    "asian": "asian",
    "native": "american indian or alaska native",
    "hawaiian": "native hawaiian or other pacific islander",
    "other": "other",
}
ETHNICITY_BY_CODE = {"2135-2": "hispanic or latino", "2186-5": "not hispanic or latino"}
ETHNICITY_BY_WORD = {"hispanic": "hispanic or latino", "nonhispanic": "not hispanic or latino"}


# --- reference tables ---------------------------------------------------------------------------


@cache
def reference_rows(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a shipped reference CSV in ``payvider/ingest/readers/reference``."""
    text = (resources.files("payvider.ingest.readers") / "reference" / name).read_text("utf-8")
    return tuple(csv.DictReader(line for line in text.splitlines() if line.strip()))


@cache
def snomed_to_icd10cm() -> dict[str, str]:
    """SNOMED CT concept → ICD-10-CM code (no dot) from the shipped map."""
    return {r["snomed_code"]: r["icd10cm_code"].replace(".", "") for r in snomed_map_rows()}


def snomed_map_rows() -> tuple[dict[str, str], ...]:
    return reference_rows("snomed_icd10cm.csv")


@cache
def specialty_by_name() -> dict[str, dict[str, str]]:
    """CMS specialty rows keyed by lower-case specialty name and by aliases."""
    out: dict[str, dict[str, str]] = {}
    for r in reference_rows("provider_specialty.csv"):
        for name in [r["specialty"], *filter(None, r["aliases"].split("|"))]:
            out[name.strip().lower()] = r
    return out


@cache
def specialty_by_taxonomy() -> dict[str, dict[str, str]]:
    return {
        r["nucc_taxonomy_code"]: r
        for r in reference_rows("provider_specialty.csv")
        if r["nucc_taxonomy_code"]
    }


def unique(values: Iterable[str | None]) -> list[str]:
    """Distinct non-empty values in first-seen order."""
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return list(seen)
