"""CMS Claim and Claim Line Feed (CCLF) files → canonical payer tables.

Shared Savings Program ACOs receive their assigned beneficiaries' Medicare claims as fixed-width
text files: CCLF1 (Part A claim headers), CCLF2 (Part A revenue center lines), CCLF3 (Part A
procedures), CCLF4 (Part A diagnoses), CCLF5 (Part B physician lines), CCLF6 (Part B DME lines),
CCLF7 (Part D fills), CCLF8 (beneficiary demographics), CCLF9 (MBI crosswalk), CCLFA/CCLFB (Part A
and Part B benefit enhancement files) and CCLF0 (summary statistics). The record layouts are the
published ones (``reference/cclf_layouts.csv``, CCLF Information Packet v36).

Every file is read as one text column with its record numbers and cut into fields with DuckDB
``substr`` over Arrow (no Python loop over records). The mapping rules are documented in
``docs/readers.md``; the main ones:

* A record whose length is not the layout's, or whose dates, amounts or numbers do not follow the
  layout, is quarantined with the file, record number and CCLF field. A file in which no record
  has the layout's length is rejected (it is some other file, or another layout version).
* Members are keyed by their current MBI: CCLF9 maps earlier MBIs to the current one.
* Adjustments: CLM_ADJSMT_TYPE_CD 0 is an original, 1 a cancellation (void), 2 an adjustment
  (replacement). Claim versions are grouped by the Information Packet's natural keys (Part A:
  billing CCN, from and thru dates, MBI; Part B and DME: claim control number and MBI; Part D: fill
  date, pharmacy, dispensing status, prescription reference and fill numbers); a cancellation or
  adjustment names the latest earlier version of its group that is not itself a cancellation, or,
  for Part A, the claim whose CLM_CNTL_NUM is its CLM_ORG_CNTL_NUM. The final-claims mart then
  nets them.
* Part A amounts are claim-level: the line covered paid amounts are kept and whatever the header
  CLM_PMT_AMT adds beyond their sum goes on the claim's first line, so a claim's lines add up to
  its payment; the total charge and the CCLFA cost sharing also go on the first line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from payvider.ingest.errors import InputRejected
from payvider.ingest.files import FILE, ROW
from payvider.ingest.load import RawBatch
from payvider.ingest.readers._common import Collector, Progress, make_batch, quiet

NAME = "cclf"
DATA_SOURCE = "cclf"
PAYER = "medicare"
LAYOUT_SOURCE = "CCLF Information Packet v36"

#: The canonical table a malformed record of each file counts against (None: no canonical rows).
FILE_TABLES: dict[str, str | None] = {
    "CCLF1": "medical_claim",
    "CCLF2": "medical_claim",
    "CCLF3": "medical_claim_procedure",
    "CCLF4": "medical_claim_diagnosis",
    "CCLF5": "medical_claim",
    "CCLF6": "medical_claim",
    "CCLF7": "pharmacy_claim",
    "CCLF8": "eligibility",
    "CCLF9": None,
    "CCLFA": None,
    "CCLFB": None,
}
#: CCLF date values that mean "no date" (Information Packet: missing and open-ended dates).
NULL_DATES = ("1000-01-01", "9999-12-31", "0001-01-01")
#: Part A claim types with an admission (SNF 20/30, inpatient 60/61).
ADMISSION_CLAIM_TYPES = ("20", "30", "60", "61")
#: CMS beneficiary race codes (RTI) → race, and the code that denotes Hispanic ethnicity.
RACE_CODES = {
    "1": "white",
    "2": "black or african american",
    "3": "other",
    "4": "asian",
    "6": "american indian or alaska native",
}
HISPANIC_RACE_CODE = "5"
#: NCPDP provider id qualifier for an NPI (CCLF7 PRVDR_SRVC_ID_QLFYR_CD, PRVDR_PRSBNG_ID_QLFYR_CD).
NPI_QUALIFIER = "01"

_KIND = re.compile(
    r"(?:^|[^A-Z0-9])(?:CCLF([0-9AB])(?=$|[^A-Z0-9]|[YR][0-9])|ZC([0-9AB])(?=W?[YR][0-9]))",
    re.IGNORECASE,
)
_YEAR = re.compile(r"ZC[0-9AB]W?[YR]([0-9]{2})", re.IGNORECASE)
_FILE_DATE = re.compile(r"(?:^|\.)D([0-9]{6})(?:\.|$)", re.IGNORECASE)


# --- layouts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a CCLF record layout (1-based start)."""

    name: str
    start: int
    length: int
    type: str  # text, number, date, amount or quantity
    format: str


@cache
def layouts() -> dict[str, tuple[Field, ...]]:
    """The shipped record layouts by file (``CCLF1`` …), in field order."""
    text = (
        resources.files("payvider.ingest.readers") / "reference" / "cclf_layouts.csv"
    ).read_text("utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    out: dict[str, list[Field]] = {}
    for r in csv.DictReader(lines):
        out.setdefault(r["file"], []).append(
            Field(r["field"], int(r["start"]), int(r["length"]), r["type"], r["format"])
        )
    return {k: tuple(v) for k, v in out.items()}


def record_length(kind: str) -> int:
    """Characters in one record of ``kind`` (the end of its last field)."""
    last = layouts()[kind][-1]
    return last.start + last.length - 1


# --- files ----------------------------------------------------------------------------------------


def file_kind(name: str) -> str | None:
    """``CCLF1`` … ``CCLFB`` or ``CCLF0`` for a CCLF file name (CMS ``ZC1Y23`` names too)."""
    m = _KIND.search(name)
    if m is None:
        return None
    return "CCLF" + (m.group(1) or m.group(2)).upper()


def performance_year(name: str) -> int | None:
    """The performance year a CMS file name carries (``…ZC8Y23…`` → 2023; else its ``D`` date)."""
    m = _YEAR.search(name)
    if m:
        return 2000 + int(m.group(1))
    m = _FILE_DATE.search(name)
    if m:
        return 2000 + int(m.group(1)[:2])
    return None


def _candidates(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    return [path]


def looks_like(path: Path) -> bool:
    """A CCLF file, or a folder whose files are CCLF files."""
    path = Path(path)
    if not path.exists():
        return False
    files = _candidates(path)
    kinds = [file_kind(p.name) for p in files]
    return bool(files) and any(kinds) and sum(k is not None for k in kinds) * 2 >= len(kinds)


def discover(path: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """CCLF files by kind, and files that are recognised but not read (CCLF0 summaries)."""
    path = Path(path)
    if not path.exists():
        raise InputRejected(str(path), "no such file or folder")
    by_kind: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for p in _candidates(path):
        kind = file_kind(p.name)
        if kind is None:
            raise InputRejected(
                p.name,
                "not a CCLF file: the name must say which file it is (CCLF1 … CCLF9, CCLFA, "
                "CCLFB, or CMS's ZC1 … ZCB names such as P.A1234.ACO.ZC1Y23.D230115.T1200000)",
            )
        if kind == "CCLF0":
            ignored.append(p.name)
            continue
        by_kind.setdefault(kind, []).append(p)
    if not by_kind:
        raise InputRejected(str(path), "no CCLF claim or beneficiary files found")
    return by_kind, ignored


def _read_lines(path: Path, name: str) -> tuple[pa.Table, bool]:
    """The records of a fixed-width file as one text column, and whether it needed Latin-1."""
    opts = dict(
        read_options=pacsv.ReadOptions(column_names=["line"], block_size=1 << 24),
        parse_options=pacsv.ParseOptions(
            delimiter="\x1f",
            quote_char=False,
            escape_char=False,
            double_quote=False,
            ignore_empty_lines=False,
            newlines_in_values=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={"line": pa.string()}, strings_can_be_null=False
        ),
    )
    if path.stat().st_size == 0:
        return pa.table({"line": pa.array([], pa.string())}), False
    try:
        return pacsv.read_csv(path, **opts), False
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) and "UTF-8" not in str(exc):
            raise InputRejected(
                name, f"not a fixed-width text file ({str(exc).splitlines()[0]})"
            ) from None
    # CCLF text is ASCII; names with accented letters may come as Latin-1.
    data = path.read_bytes().decode("latin-1").encode("utf-8")
    return pacsv.read_csv(pa.BufferReader(data), **opts), True


# --- SQL helpers ----------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f'"{name}"'


def _text_sql(f: Field) -> str:
    """The field's text: trimmed; blanks and CCLF's ``~`` fill are null."""
    v = f"trim(substr(line, {f.start}, {f.length}))"
    return f"CASE WHEN regexp_full_match({v}, '~*') THEN NULL ELSE {v} END"


_AMOUNT_RE = {
    "amount": r"[+-]?([0-9]+(\.[0-9]{0,2})?|\.[0-9]{1,2})|([0-9]+(\.[0-9]{0,2})?|\.[0-9]{1,2})[+-]",
    "quantity": r"[+-]?([0-9]+(\.[0-9]{0,4})?|\.[0-9]{1,4})|([0-9]+(\.[0-9]{0,4})?|\.[0-9]{1,4})[+-]",
}
_NULL_DATES_SQL = ", ".join(f"'{d}'" for d in NULL_DATES)
_PROBLEMS = {
    "number": "not a number (the layout has digits only)",
    "date": "not a date (CCLF dates are YYYY-MM-DD)",
    "amount": "not an amount (CCLF amounts are signed decimals such as -1234.56)",
    "quantity": "not a quantity (a signed decimal with up to 4 places)",
    "code": "unknown claim adjustment type code (expected 0, 1 or 2)",
}


def _bad_sql(f: Field, col: str) -> str | None:
    """SQL true when the (text) field breaks its layout type."""
    if f.type == "number":
        return f"NOT regexp_full_match({col}, '[0-9]+')"
    if f.type == "date":
        return (
            f"({col} NOT IN ({_NULL_DATES_SQL}) AND (NOT regexp_full_match({col}, "
            f"'[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') OR try_strptime({col}, '%Y-%m-%d') IS NULL))"
        )
    if f.type in _AMOUNT_RE:
        return f"NOT regexp_full_match(replace({col}, ' ', ''), '{_AMOUNT_RE[f.type]}')"
    if f.name == "CLM_ADJSMT_TYPE_CD":
        return f"NOT regexp_full_match({col}, '0?[012]')"
    return None


def _typed_sql(f: Field, col: str) -> str:
    """SQL for the field in its type: DATE, DECIMAL or text."""
    if f.type == "date":
        return (
            f"CASE WHEN {col} IN ({_NULL_DATES_SQL}) THEN NULL "
            f"ELSE CAST(try_strptime({col}, '%Y-%m-%d') AS DATE) END"
        )
    if f.type in _AMOUNT_RE:
        scale, width = (2, 22) if f.type == "amount" else (4, 26)
        x = f"replace({col}, ' ', '')"
        signed = (
            f"CASE WHEN regexp_full_match({x}, '.*[+-]') "
            f"THEN right({x}, 1) || left({x}, length({x}) - 1) ELSE {x} END"
        )
        return f"TRY_CAST({signed} AS DECIMAL({width}, {scale}))"
    if f.name == "CLM_ADJSMT_TYPE_CD":
        return f"right({col}, 1)"
    return col


#: Rows made from a claim whose adjustment cannot be resolved share the claim's quarantine reason.
_CLAIM_PROBLEM = "v.problem, 'CLM_ADJSMT_TYPE_CD' AS field, v.adj AS value"


def _money(expr: str) -> str:
    return f"CAST(CAST({expr} AS DECIMAL(22, 2)) AS VARCHAR)"


def _day(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR)"


# --- reading --------------------------------------------------------------------------------------


def read(path: Path, progress: Progress | None = None) -> RawBatch:
    """Read a folder of CCLF files (or one file) into a RawBatch."""
    say = progress or quiet
    path = Path(path)
    by_kind, ignored = discover(path)
    out = Collector()
    out.ignored_files = ignored
    con = duckdb.connect()
    try:
        mapper = _Mapper(con, out, say)
        for kind in sorted(by_kind):
            mapper.load(kind, by_kind[kind])
        tables = mapper.run()
    finally:
        con.close()
    return make_batch(str(path), NAME, out.sources, tables, out)


class _Mapper:
    """Registers the parsed CCLF files with DuckDB and turns them into canonical tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, out: Collector, say: Progress) -> None:
        self.con = con
        self.out = out
        self.say = say
        self.kinds: set[str] = set()
        self.years: dict[int, int] = {}  # file index -> performance year (CCLF8)
        self.tables: dict[str, pa.Table] = {}

    # --- parsing ------------------------------------------------------------------------------

    def load(self, kind: str, paths: list[Path]) -> None:
        """Read every file of one kind, quarantine malformed records, register ``<kind>``."""
        layout = layouts()[kind]
        length = record_length(kind)
        table = FILE_TABLES[kind]
        parts = []
        for p in paths:
            self.say(f"reading {p.name}")
            index = self.out.sources.add(p)
            lines, latin1 = _read_lines(p, p.name)
            if latin1:
                self.out.finding(
                    table or "eligibility",
                    "latin1_text",
                    lines.num_rows,
                    f"{p.name} is not UTF-8; it was read as Latin-1 text",
                )
            n = lines.num_rows
            lines = lines.append_column(ROW, pa.array(range(1, n + 1), pa.int64()))
            lines = lines.append_column(FILE, pa.array([index] * n, pa.int32()))
            parts.append(lines)
            if kind == "CCLF8":
                year = performance_year(p.name)
                if year is not None:
                    self.years[index] = year
        self.con.register(f"raw_{kind}", pa.concat_tables(parts))
        fields = ", ".join(f"{_text_sql(f)} AS {_q(f.name)}" for f in layout)
        self.con.execute(
            f"CREATE TEMP TABLE txt_{kind} AS SELECT {ROW}, {FILE}, length(line) AS __len, "
            f"line AS __line, {fields} FROM raw_{kind}"
        )
        self._reject_wrong_layout(kind, paths, length)
        checks = []
        for f in layout:
            cond = _bad_sql(f, _q(f.name))
            if cond is not None:
                checks.append(f"CASE WHEN {_q(f.name)} IS NOT NULL AND {cond} THEN '{f.name}' END")
        problems = f"list_filter([{', '.join(checks)}], x -> x IS NOT NULL)" if checks else "[]"
        self.con.execute(
            f"CREATE TEMP TABLE chk_{kind} AS SELECT *, "
            f"CASE WHEN __len <> {length} THEN [] ELSE {problems} END AS __problems "
            f"FROM txt_{kind}"
        )
        by_name = {f.name: f for f in layout}
        bad = self.con.sql(
            f"SELECT {FILE}, {ROW}, __len, __line, __problems FROM chk_{kind} "
            f"WHERE __len <> {length} OR len(__problems) > 0 ORDER BY {FILE}, {ROW}"
        ).fetchall()
        names = self.out.sources.file_names
        for file_index, row, n, line, problems in bad:
            if n != length:
                self.out.bad(
                    table,
                    names[file_index],
                    row,
                    f"record is {n} characters long; {kind} records are {length} "
                    f"({LAYOUT_SOURCE} layout)",
                    value=line[:60],
                )
                continue
            values = [
                line[by_name[p].start - 1 : by_name[p].start - 1 + by_name[p].length]
                for p in problems
            ]
            reasons = [
                f"{p}: {_PROBLEMS['code' if p == 'CLM_ADJSMT_TYPE_CD' else by_name[p].type]}"
                for p in problems
            ]
            self.out.bad(
                table,
                names[file_index],
                row,
                "; ".join(reasons),
                field=", ".join(problems),
                value=" | ".join(v.strip() for v in values),
            )
        typed = ", ".join(f"{_typed_sql(f, _q(f.name))} AS {_q(f.name)}" for f in layout)
        self.con.execute(
            f"CREATE TEMP TABLE {kind} AS SELECT {ROW}, {FILE}, {typed} FROM chk_{kind} "
            f"WHERE __len = {length} AND len(__problems) = 0"
        )
        self.kinds.add(kind)

    def _reject_wrong_layout(self, kind: str, paths: list[Path], length: int) -> None:
        """A file none of whose records has the layout's length is not a file of this layout."""
        names = self.out.sources.file_names
        for file_index, total, right, lengths in self.con.sql(
            f"""SELECT {FILE}, count(*), count(*) FILTER (WHERE __len = {length}),
                       list(DISTINCT __len ORDER BY __len)[1:5]
                FROM txt_{kind} GROUP BY {FILE}"""
        ).fetchall():
            if total and not right:
                found = ", ".join(str(n) for n in lengths)
                raise InputRejected(
                    names[file_index],
                    f"no record is {length} characters long (found {found}): not a {kind} file "
                    f"in the {LAYOUT_SOURCE} layout",
                )

    # --- mapping ------------------------------------------------------------------------------

    def has(self, *kinds: str) -> bool:
        return all(k in self.kinds for k in kinds)

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def run(self) -> dict[str, pa.Table]:
        """The canonical tables made from the loaded files."""
        self._xref()
        self._member_views()
        steps = [
            ("eligibility", self._eligibility, ("CCLF8",)),
            ("institutional claims", self._part_a, ("CCLF1",)),
            ("physician claims", self._part_b, ("CCLF5",)),
            ("DME claims", self._dme, ("CCLF6",)),
            ("Part D fills", self._part_d, ("CCLF7",)),
        ]
        for label, step, needs in steps:
            if self.has(*needs):
                self.say(f"mapping {label}")
                step()
        if not self.has("CCLF1"):
            for kind in ("CCLF2", "CCLF3", "CCLF4"):
                if self.has(kind):
                    self._orphans(kind, FILE_TABLES[kind] or "medical_claim")
        self._claims_union()
        self._providers()
        if self.has("CCLFB") and not self.has("CCLF5"):
            self.out.finding(
                "medical_claim", "cclfb_unused", 1, "CCLFB without CCLF5: nothing to attach it to"
            )
        return self.tables

    def _orphans(self, kind: str, table: str) -> None:
        """Every record of a Part A detail file delivered without its CCLF1 headers."""
        names = self.out.sources.file_names
        for file_index, row, claim in self.con.sql(
            f"SELECT {FILE}, {ROW}, CUR_CLM_UNIQ_ID FROM {kind} ORDER BY {FILE}, {ROW}"
        ).fetchall():
            self.out.bad(
                table,
                names[file_index],
                row,
                f"{kind} record of a claim whose CCLF1 header is not loaded (no CCLF1 file)",
                field="CUR_CLM_UNIQ_ID",
                value=claim,
            )

    def _xref(self) -> None:
        """``xref(prvs, crnt)``: every earlier MBI → the beneficiary's current MBI."""
        if not self.has("CCLF9"):
            self.con.execute("CREATE TEMP TABLE xref (prvs VARCHAR, crnt VARCHAR)")
            return
        self.con.execute(
            """CREATE TEMP TABLE xref AS SELECT DISTINCT PRVS_NUM AS prvs, CRNT_NUM AS crnt
               FROM CCLF9 WHERE PRVS_NUM IS NOT NULL AND CRNT_NUM IS NOT NULL
                 AND PRVS_NUM <> CRNT_NUM"""
        )
        for _ in range(10):  # chains: A → B, B → C becomes A → C
            changed = self.con.sql(
                "SELECT count(*) FROM xref a JOIN xref b ON a.crnt = b.prvs"
            ).fetchone()[0]
            if not changed:
                break
            self.con.execute(
                """CREATE OR REPLACE TEMP TABLE xref AS
                   SELECT a.prvs, coalesce(b.crnt, a.crnt) AS crnt
                   FROM xref a LEFT JOIN xref b ON a.crnt = b.prvs"""
            )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE xref AS SELECT prvs, min(crnt) AS crnt FROM xref "
            "GROUP BY prvs"
        )
        n = self.con.sql("SELECT count(*) FROM xref").fetchone()[0]
        self.out.finding(
            "eligibility",
            "mbi_crosswalk",
            n,
            "earlier MBIs in CCLF9 were replaced by the beneficiary's current MBI (member_id)",
        )

    def _member_views(self) -> None:
        """``<kind>_m``: the file's records with ``member_id``, the current MBI."""
        for kind in sorted(self.kinds):
            if any(f.name == "BENE_MBI_ID" for f in layouts()[kind]):
                self.con.execute(
                    f"CREATE TEMP VIEW {kind}_m AS SELECT k.*, "
                    f"coalesce(x.crnt, k.BENE_MBI_ID) AS member_id "
                    f"FROM {kind} k LEFT JOIN xref x ON x.prvs = k.BENE_MBI_ID"
                )

    # --- eligibility ------------------------------------------------------------------------

    def _eligibility(self) -> None:
        years = self.years
        missing = self.con.sql(f"SELECT DISTINCT {FILE} FROM CCLF8").fetchall()
        fallback = None
        if any(i not in years for (i,) in missing):
            fallback = self._latest_claim_year()
            if fallback is None:
                names = self.out.sources.file_names
                name = next(names[i] for (i,) in missing if i not in years)
                raise InputRejected(
                    name,
                    "cannot tell the performance year: use CMS's file name (…ZC8Y23…, or a "
                    ".D230115. file date) or load the claim files with it",
                )
            self.out.finding(
                "eligibility",
                "performance_year_from_claims",
                1,
                f"a CCLF8 file name carries no performance year; {fallback}, the year of the "
                "latest claim in the batch, was used",
            )
        self.con.register(
            "ref_year",
            pa.table(
                {
                    "fi": pa.array(list(years), pa.int32()),
                    "year": pa.array(list(years.values()), pa.int32()),
                }
            ),
        )
        fb = "NULL" if fallback is None else str(fallback)
        race = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in RACE_CODES.items())
        # The span: the performance year, from the later entitlement start, to death.
        start = (
            "greatest(make_date(py, 1, 1), BENE_PART_A_ENRLMT_BGN_DT, BENE_PART_B_ENRLMT_BGN_DT)"
        )
        self.tables["eligibility"] = self.arrow(
            f"""
            WITH b AS (
                SELECT e.*, coalesce(y.year, {fb}) AS py
                FROM CCLF8_m e LEFT JOIN ref_year y ON y.fi = e.{FILE}
            )
            SELECT member_id,
                   BENE_1ST_NAME AS first_name, BENE_MIDL_NAME AS middle_name,
                   BENE_LAST_NAME AS last_name,
                   CASE BENE_SEX_CD WHEN '1' THEN 'male' WHEN '2' THEN 'female'
                        ELSE 'unknown' END AS gender,
                   CASE BENE_RACE_CD {race} END AS race,
                   CASE WHEN BENE_RACE_CD = '{HISPANIC_RACE_CODE}' THEN 'hispanic or latino' END
                       AS ethnicity,
                   {_day("BENE_DOB")} AS birth_date, {_day("BENE_DEATH_DT")} AS death_date,
                   {_day(start)} AS enrollment_start_date,
                   {_day("least(make_date(py, 12, 31), BENE_DEATH_DT)")} AS enrollment_end_date,
                   '{PAYER}' AS payer, 'medicare' AS payer_type,
                   'medicare_ffs' AS product_line,
                   BENE_ORGNL_ENTLMT_RSN_CD AS original_reason_entitlement_code,
                   BENE_DUAL_STUS_CD AS dual_status_code,
                   BENE_MDCR_STUS_CD AS medicare_status_code,
                   nullif(concat_ws(' ', BENE_LINE_1_ADR, BENE_LINE_2_ADR), '') AS address,
                   GEO_ZIP_PLC_NAME AS city, GEO_USPS_STATE_CD AS state,
                   coalesce(GEO_ZIP5_CD, BENE_ZIP_CD) AS zip_code,
                   '{DATA_SOURCE}' AS data_source, {ROW}, {FILE}
            FROM b ORDER BY {FILE}, {ROW}
            """
        )

    def _latest_claim_year(self) -> int | None:
        parts = [
            f"SELECT max(year(CLM_THRU_DT)) AS y FROM {k}"
            for k in ("CCLF1", "CCLF5", "CCLF6")
            if self.has(k)
        ]
        if self.has("CCLF7"):
            parts.append("SELECT max(year(CLM_LINE_FROM_DT)) AS y FROM CCLF7")
        if not parts:
            return None
        return self.con.sql(f"SELECT max(y) FROM ({' UNION ALL '.join(parts)})").fetchone()[0]

    # --- adjustments ------------------------------------------------------------------------

    def _versions(
        self, name: str, source: str, family: Iterable[str], explicit: str | None
    ) -> None:
        """``<name>(claim_id, adjustment_type, adjusted_claim_id, problem)`` per claim version.

        ``source`` has one row per claim version with ``claim_id``, ``adj`` (0/1/2), ``efctv``,
        ``ld`` and the family columns; ``explicit`` names a (claim_id, target) table of targets
        the file states itself (Part A original control numbers).
        """
        fam = " || chr(31) || ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in family)
        explicit_join = f"LEFT JOIN {explicit} x ON x.claim_id = o.claim_id" if explicit else ""
        explicit_col = "x.target" if explicit else "NULL"
        self.con.execute(
            f"""
            CREATE TEMP TABLE {name} AS
            WITH v AS (
                SELECT claim_id, coalesce(adj, '0') AS adj, efctv, ld, {fam} AS fam
                FROM {source}
            ), o AS (
                SELECT *, last_value(CASE WHEN adj <> '1' THEN claim_id END IGNORE NULLS) OVER (
                    PARTITION BY fam ORDER BY efctv NULLS FIRST, ld NULLS FIRST, adj, claim_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prior
                FROM v
            )
            SELECT o.claim_id, coalesce({explicit_col}, o.prior) AS target, o.adj,
                   CASE WHEN o.adj = '0' THEN 'original'
                        WHEN o.adj = '1' THEN 'void'
                        WHEN coalesce({explicit_col}, o.prior) IS NULL THEN 'original'
                        ELSE 'replacement' END AS adjustment_type,
                   CASE WHEN o.adj <> '0' THEN coalesce({explicit_col}, o.prior) END
                       AS adjusted_claim_id,
                   CASE WHEN o.adj = '1' AND coalesce({explicit_col}, o.prior) IS NULL
                        THEN 'cancellation (CLM_ADJSMT_TYPE_CD 1) of a claim that is not in '
                             || 'these files: no earlier claim with the same natural key; '
                             || 'load it with the claim it cancels'
                   END AS problem
            FROM o {explicit_join}
            """
        )
        orphan_adjustments = self.con.sql(
            f"SELECT count(*) FROM {name} WHERE adj = '2' AND target IS NULL"
        ).fetchone()[0]
        self.out.finding(
            "medical_claim" if name != "rx_versions" else "pharmacy_claim",
            "adjustment_without_original",
            orphan_adjustments,
            "adjustment claims (CLM_ADJSMT_TYPE_CD 2) whose earlier version is not in these "
            "files were loaded as the claim of record",
        )

    def _without_problems(self, table: str, rows: pa.Table) -> pa.Table:
        """Quarantine the rows of ``rows`` that carry a ``problem``; return the others."""
        self.con.register("__rows", rows)
        self._quarantine_problems("__rows", table)
        kept = self.arrow(
            f"SELECT * EXCLUDE (problem, field, value) FROM __rows WHERE problem IS NULL "
            f"ORDER BY {FILE}, {ROW}"
        )
        self.con.unregister("__rows")
        return kept

    def _quarantine_problems(self, relation: str, table: str) -> None:
        """Rows of ``relation`` with a ``problem`` go to the quarantine."""
        names = self.out.sources.file_names
        for file_index, row, field, value, problem in self.con.sql(
            f"SELECT {FILE}, {ROW}, field, value, problem FROM {relation} "
            f"WHERE problem IS NOT NULL ORDER BY {FILE}, {ROW}"
        ).fetchall():
            self.out.bad(table, names[file_index], row, problem, field=field, value=value)

    # --- Part A -------------------------------------------------------------------------------

    def _part_a(self) -> None:
        con = self.con
        con.execute(
            f"""
            CREATE TEMP TABLE a_head AS
            SELECT h.*, CUR_CLM_UNIQ_ID AS claim_id
            FROM CCLF1_m h
            QUALIFY row_number() OVER (PARTITION BY CUR_CLM_UNIQ_ID
                                       ORDER BY CLM_IDR_LD_DT DESC NULLS LAST, {FILE}, {ROW}) = 1
            """
        )
        con.execute(
            """
            CREATE TEMP TABLE a_explicit AS
            SELECT a.claim_id, min(b.claim_id) AS target
            FROM a_head a JOIN a_head b
              ON b.CLM_CNTL_NUM = a.CLM_ORG_CNTL_NUM AND b.claim_id <> a.claim_id
                 AND coalesce(b.CLM_ADJSMT_TYPE_CD, '0') <> '1'
            WHERE a.CLM_ORG_CNTL_NUM IS NOT NULL AND coalesce(a.CLM_ADJSMT_TYPE_CD, '0') <> '0'
            GROUP BY a.claim_id
            """
        )
        con.execute(
            """
            CREATE TEMP VIEW a_src AS
            SELECT claim_id, CLM_ADJSMT_TYPE_CD AS adj, CLM_EFCTV_DT AS efctv,
                   CLM_IDR_LD_DT AS ld, member_id,
                   coalesce(CLM_BLG_PRVDR_OSCAR_NUM, PRVDR_OSCAR_NUM) AS ccn,
                   CLM_FROM_DT AS from_dt, CLM_THRU_DT AS thru_dt
            FROM a_head
            """
        )
        self._versions(
            "a_versions", "a_src", ("member_id", "ccn", "from_dt", "thru_dt"), "a_explicit"
        )
        # Cost sharing and admission date from CCLFA, when delivered.
        if self.has("CCLFA"):
            con.execute(
                """
                CREATE TEMP TABLE a_extra AS
                SELECT CUR_CLM_UNIQ_ID AS claim_id,
                       any_value(CLM_ACTV_CARE_FROM_DT) AS admit_dt,
                       sum(coalesce(CLM_MDCR_IP_BENE_DDCTBL_AMT, 0)
                           + coalesce(CLM_MDCR_DDCTBL_AMT, 0)) AS deductible,
                       sum(coalesce(CLM_MDCR_COINSRNC_AMT, 0)) AS coinsurance,
                       sum(coalesce(CLM_BLOOD_LBLTY_AMT, 0)) AS blood
                FROM CCLFA GROUP BY CUR_CLM_UNIQ_ID
                """
            )
        else:
            con.execute(
                "CREATE TEMP TABLE a_extra (claim_id VARCHAR, admit_dt DATE, "
                "deductible DECIMAL(22,2), coinsurance DECIMAL(22,2), blood DECIMAL(22,2))"
            )
            self.out.finding(
                "medical_claim",
                "institutional_allowed_is_payment",
                int(con.sql("SELECT count(*) FROM a_head").fetchone()[0]),
                "no CCLFA file: institutional claims carry no beneficiary cost sharing, so their "
                "allowed_amount is the Medicare payment",
            )
        if self.has("CCLF2"):
            line_src = f"""
                SELECT {ROW}, {FILE}, CUR_CLM_UNIQ_ID AS claim_id,
                       CAST(CLM_LINE_NUM AS BIGINT) AS line_no, CLM_LINE_FROM_DT,
                       CLM_LINE_THRU_DT, CLM_LINE_INSTNL_REV_CTR_DT,
                       CLM_LINE_PROD_REV_CTR_CD, CLM_LINE_HCPCS_CD, CLM_LINE_SRVC_UNIT_QTY,
                       CLM_LINE_CVRD_PD_AMT, HCPCS_1_MDFR_CD, HCPCS_2_MDFR_CD, HCPCS_3_MDFR_CD,
                       HCPCS_4_MDFR_CD, HCPCS_5_MDFR_CD, TRUE AS from_cclf2
                FROM CCLF2"""
        else:
            line_src = (
                f"SELECT NULL::BIGINT AS {ROW}, NULL::INTEGER AS {FILE}, NULL AS claim_id, "
                "NULL::BIGINT AS line_no, NULL::DATE AS CLM_LINE_FROM_DT, "
                "NULL::DATE AS CLM_LINE_THRU_DT, NULL::DATE AS CLM_LINE_INSTNL_REV_CTR_DT, "
                "NULL AS CLM_LINE_PROD_REV_CTR_CD, NULL AS CLM_LINE_HCPCS_CD, "
                "NULL::DECIMAL(26,4) AS CLM_LINE_SRVC_UNIT_QTY, "
                "NULL::DECIMAL(22,2) AS CLM_LINE_CVRD_PD_AMT, NULL AS HCPCS_1_MDFR_CD, "
                "NULL AS HCPCS_2_MDFR_CD, NULL AS HCPCS_3_MDFR_CD, NULL AS HCPCS_4_MDFR_CD, "
                "NULL AS HCPCS_5_MDFR_CD, TRUE AS from_cclf2 WHERE FALSE"
            )
        # Lines: CCLF2 lines of known headers, plus one line for a header without lines.
        con.execute(
            f"""
            CREATE TEMP TABLE a_lines AS
            WITH l AS ({line_src}),
            headless AS (
                SELECT h.{ROW}, h.{FILE}, h.claim_id, 1::BIGINT AS line_no,
                       NULL::DATE AS CLM_LINE_FROM_DT, NULL::DATE AS CLM_LINE_THRU_DT,
                       NULL::DATE AS CLM_LINE_INSTNL_REV_CTR_DT, NULL AS CLM_LINE_PROD_REV_CTR_CD,
                       NULL AS CLM_LINE_HCPCS_CD, NULL::DECIMAL(26,4) AS CLM_LINE_SRVC_UNIT_QTY,
                       NULL::DECIMAL(22,2) AS CLM_LINE_CVRD_PD_AMT, NULL AS HCPCS_1_MDFR_CD,
                       NULL AS HCPCS_2_MDFR_CD, NULL AS HCPCS_3_MDFR_CD, NULL AS HCPCS_4_MDFR_CD,
                       NULL AS HCPCS_5_MDFR_CD, FALSE AS from_cclf2
                FROM a_head h WHERE h.claim_id NOT IN (SELECT claim_id FROM l
                                                       WHERE claim_id IS NOT NULL)
            ),
            all_lines AS (SELECT * FROM l UNION ALL SELECT * FROM headless)
            SELECT x.*, h.claim_id IS NULL AS orphan,
                   x.line_no = min(x.line_no) OVER (PARTITION BY x.claim_id) AS first_line,
                   sum(coalesce(x.CLM_LINE_CVRD_PD_AMT, 0)) OVER (PARTITION BY x.claim_id)
                       AS lines_paid
            FROM all_lines x LEFT JOIN a_head h ON h.claim_id = x.claim_id
            """
        )
        self._orphan_lines("a_lines", "CCLF2")
        headless = con.sql("SELECT count(*) FROM a_lines WHERE NOT from_cclf2").fetchone()[0]
        self.out.finding(
            "medical_claim",
            "claims_without_revenue_lines",
            headless,
            "CCLF1 claims without CCLF2 revenue center lines were loaded as one line made from "
            "the header",
        )
        moved = con.sql(
            """SELECT count(DISTINCT l.claim_id) FROM a_lines l JOIN a_head h USING (claim_id)
               WHERE l.first_line AND l.from_cclf2
                 AND coalesce(h.CLM_PMT_AMT, 0) <> l.lines_paid"""
        ).fetchone()[0]
        self.out.finding(
            "medical_claim",
            "header_payment_on_first_line",
            moved,
            "Part A claims whose CLM_PMT_AMT differs from the sum of their revenue center paid "
            "amounts (DRG and per-diem payments): the difference is on the claim's first line",
        )
        bill_type = (
            "CASE WHEN h.CLM_BILL_FAC_TYPE_CD IS NOT NULL AND h.CLM_BILL_CLSFCTN_CD IS NOT NULL "
            "AND h.CLM_BILL_FREQ_CD IS NOT NULL THEN h.CLM_BILL_FAC_TYPE_CD || "
            "h.CLM_BILL_CLSFCTN_CD || h.CLM_BILL_FREQ_CD END"
        )
        drg = (
            "CASE WHEN regexp_full_match(h.DGNS_DRG_CD, '[0-9]{1,4}') "
            "THEN lpad(CAST(CAST(h.DGNS_DRG_CD AS INTEGER) AS VARCHAR), 3, '0') "
            "ELSE h.DGNS_DRG_CD END"
        )
        line_end = "coalesce(l.CLM_LINE_THRU_DT, l.CLM_LINE_FROM_DT, l.CLM_LINE_INSTNL_REV_CTR_DT)"
        admitted = f"h.CLM_TYPE_CD IN ({', '.join(repr(t) for t in ADMISSION_CLAIM_TYPES)})"
        paid = (
            "coalesce(l.CLM_LINE_CVRD_PD_AMT, 0) + CASE WHEN l.first_line "
            "THEN coalesce(h.CLM_PMT_AMT, 0) - l.lines_paid ELSE 0 END"
        )
        share = (
            "CASE WHEN l.first_line THEN coalesce(e.deductible, 0) + coalesce(e.coinsurance, 0) "
            "+ coalesce(e.blood, 0) ELSE 0 END"
        )
        con.execute(
            f"""
            CREATE TEMP TABLE claims_a AS
            SELECT l.claim_id, l.line_no AS claim_line_number, 'institutional' AS claim_type,
                   v.adjustment_type, v.adjusted_claim_id, h.member_id, '{PAYER}' AS payer,
                   {_day("h.CLM_FROM_DT")} AS claim_start_date,
                   {_day("h.CLM_THRU_DT")} AS claim_end_date,
                   {_day("coalesce(l.CLM_LINE_FROM_DT, l.CLM_LINE_INSTNL_REV_CTR_DT)")}
                       AS claim_line_start_date,
                   {_day(line_end)} AS claim_line_end_date,
                   CASE WHEN {admitted} THEN {_day("coalesce(e.admit_dt, h.CLM_FROM_DT)")} END
                       AS admission_date,
                   CASE WHEN {admitted} AND coalesce(h.BENE_PTNT_STUS_CD, '') <> '30'
                        THEN {_day("h.CLM_THRU_DT")} END AS discharge_date,
                   h.CLM_ADMSN_SRC_CD AS admit_source_code,
                   h.CLM_ADMSN_TYPE_CD AS admit_type_code,
                   h.BENE_PTNT_STUS_CD AS discharge_disposition_code,
                   CAST(NULL AS VARCHAR) AS place_of_service_code,
                   {bill_type} AS bill_type_code,
                   CASE WHEN h.DGNS_DRG_CD IS NOT NULL THEN 'ms-drg' END AS drg_code_type,
                   {drg} AS drg_code,
                   l.CLM_LINE_PROD_REV_CTR_CD AS revenue_center_code,
                   CAST(l.CLM_LINE_SRVC_UNIT_QTY AS VARCHAR) AS service_unit_quantity,
                   l.CLM_LINE_HCPCS_CD AS hcpcs_code,
                   l.HCPCS_1_MDFR_CD AS hcpcs_modifier_1, l.HCPCS_2_MDFR_CD AS hcpcs_modifier_2,
                   l.HCPCS_3_MDFR_CD AS hcpcs_modifier_3, l.HCPCS_4_MDFR_CD AS hcpcs_modifier_4,
                   l.HCPCS_5_MDFR_CD AS hcpcs_modifier_5,
                   coalesce(h.ATNDG_PRVDR_NPI_NUM, h.CLM_ATNDG_PRVDR_NPI_NUM) AS rendering_npi,
                   CAST(NULL AS VARCHAR) AS rendering_tin,
                   coalesce(h.CLM_BLG_PRVDR_NPI_NUM, h.FAC_PRVDR_NPI_NUM) AS billing_npi,
                   CAST(NULL AS VARCHAR) AS billing_tin,
                   h.FAC_PRVDR_NPI_NUM AS facility_npi,
                   {_day("h.CLM_EFCTV_DT")} AS paid_date,
                   {_money(paid)} AS paid_amount,
                   {_money(f"{paid} + {share}")} AS allowed_amount,
                   CASE WHEN l.first_line THEN {_money("h.CLM_MDCR_INSTNL_TOT_CHRG_AMT")} END
                       AS charge_amount,
                   CASE WHEN l.first_line THEN {_money("e.coinsurance")} END AS coinsurance_amount,
                   CAST(NULL AS VARCHAR) AS copayment_amount,
                   CASE WHEN l.first_line THEN {_money("e.deductible")} END AS deductible_amount,
                   CASE WHEN l.first_line AND e.claim_id IS NOT NULL THEN {_money(share)} END
                       AS member_liability_amount,
                   v.problem, 'CLM_ADJSMT_TYPE_CD' AS field, h.CLM_ADJSMT_TYPE_CD AS value,
                   l.{ROW}, l.{FILE}
            FROM a_lines l
            JOIN a_head h ON h.claim_id = l.claim_id
            JOIN a_versions v ON v.claim_id = l.claim_id
            LEFT JOIN a_extra e ON e.claim_id = l.claim_id
            """
        )
        self._quarantine_problems("claims_a", "medical_claim")
        self._part_a_codes()

    def _orphan_lines(self, relation: str, kind: str) -> None:
        names = self.out.sources.file_names
        for file_index, row, claim in self.con.sql(
            f"SELECT {FILE}, {ROW}, claim_id FROM {relation} WHERE orphan ORDER BY {FILE}, {ROW}"
        ).fetchall():
            self.out.bad(
                "medical_claim",
                names[file_index],
                row,
                f"{kind} line of a claim whose CCLF1 header is not loaded (not in CCLF1, or "
                "quarantined)",
                field="CUR_CLM_UNIQ_ID",
                value=claim,
            )

    def _part_a_codes(self) -> None:
        """Diagnoses (CCLF1 principal + CCLF4) and procedures (CCLF3) of Part A claims."""
        con = self.con
        if self.has("CCLF4"):
            cclf4 = f"""
                SELECT d.{ROW}, d.{FILE}, d.CUR_CLM_UNIQ_ID AS claim_id, d.CLM_DGNS_CD AS code,
                       CAST(d.CLM_VAL_SQNC_NUM AS INTEGER) AS sqnc, d.CLM_POA_IND AS poa,
                       d.DGNS_PRCDR_ICD_IND AS icd, h.claim_id IS NULL AS orphan
                FROM CCLF4 d LEFT JOIN a_head h ON h.claim_id = d.CUR_CLM_UNIQ_ID"""
        else:
            cclf4 = (
                f"SELECT NULL::BIGINT AS {ROW}, NULL::INTEGER AS {FILE}, NULL AS claim_id, "
                "NULL AS code, NULL::INTEGER AS sqnc, NULL AS poa, NULL AS icd, FALSE AS orphan "
                "WHERE FALSE"
            )
        con.execute(f"CREATE TEMP TABLE a_dx_src AS {cclf4}")
        names = self.out.sources.file_names
        for file_index, row, claim in con.sql(
            f"SELECT {FILE}, {ROW}, claim_id FROM a_dx_src WHERE orphan ORDER BY {FILE}, {ROW}"
        ).fetchall():
            self.out.bad(
                "medical_claim_diagnosis",
                names[file_index],
                row,
                "CCLF4 diagnosis of a claim whose CCLF1 header is not loaded",
                field="CUR_CLM_UNIQ_ID",
                value=claim,
            )
        # The principal diagnosis comes first: from CCLF4 when it lists it, else from CCLF1.
        con.execute(
            f"""
            CREATE TEMP TABLE dx_a AS
            WITH d AS (
                SELECT s.*, s.code = h.PRNCPL_DGNS_CD AS principal
                FROM a_dx_src s JOIN a_head h ON h.claim_id = s.claim_id
                WHERE NOT s.orphan
            ), p AS (
                SELECT h.{ROW}, h.{FILE}, h.claim_id, h.PRNCPL_DGNS_CD AS code,
                       0 AS sqnc, NULL AS poa, h.DGNS_PRCDR_ICD_IND AS icd, TRUE AS principal
                FROM a_head h
                WHERE h.PRNCPL_DGNS_CD IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM d WHERE d.claim_id = h.claim_id AND d.principal)
            ), u AS (
                SELECT {ROW}, {FILE}, claim_id, code, sqnc, poa, icd, principal FROM d
                UNION ALL SELECT {ROW}, {FILE}, claim_id, code, sqnc, poa, icd, principal FROM p
            )
            SELECT claim_id,
                   CAST(row_number() OVER (PARTITION BY claim_id
                        ORDER BY principal DESC, sqnc, {FILE}, {ROW}) AS VARCHAR)
                       AS diagnosis_sequence,
                   CASE WHEN icd = '9' THEN 'icd-9-cm' ELSE 'icd-10-cm' END
                       AS diagnosis_code_type,
                   code AS diagnosis_code,
                   nullif(left(poa, 1), '') AS present_on_admission,
                   {_CLAIM_PROBLEM}, u.{ROW}, u.{FILE}
            FROM u JOIN a_versions v USING (claim_id)
            """
        )
        if self.has("CCLF3"):
            con.execute(
                """
                CREATE TEMP TABLE a_px_src AS
                SELECT p.*, h.claim_id IS NULL AS orphan
                FROM CCLF3 p LEFT JOIN a_head h ON h.claim_id = p.CUR_CLM_UNIQ_ID
                """
            )
            for file_index, row, claim in con.sql(
                f"SELECT {FILE}, {ROW}, CUR_CLM_UNIQ_ID FROM a_px_src WHERE orphan "
                f"ORDER BY {FILE}, {ROW}"
            ).fetchall():
                self.out.bad(
                    "medical_claim_procedure",
                    names[file_index],
                    row,
                    "CCLF3 procedure of a claim whose CCLF1 header is not loaded",
                    field="CUR_CLM_UNIQ_ID",
                    value=claim,
                )
            self.tables["medical_claim_procedure"] = self.arrow(
                f"""
                SELECT CUR_CLM_UNIQ_ID AS claim_id,
                       CAST(row_number() OVER (PARTITION BY CUR_CLM_UNIQ_ID
                            ORDER BY CAST(CLM_VAL_SQNC_NUM AS INTEGER), {FILE}, {ROW})
                            AS VARCHAR) AS procedure_sequence,
                       CASE WHEN DGNS_PRCDR_ICD_IND = '9' THEN 'icd-9-pcs' ELSE 'icd-10-pcs' END
                           AS procedure_code_type,
                       CLM_PRCDR_CD AS procedure_code,
                       {_day("CLM_PRCDR_PRFRM_DT")} AS procedure_date,
                       {_CLAIM_PROBLEM}, p.{ROW}, p.{FILE}
                FROM a_px_src p JOIN a_versions v ON v.claim_id = p.CUR_CLM_UNIQ_ID
                WHERE NOT orphan ORDER BY p.{FILE}, p.{ROW}
                """
            )
            self.tables["medical_claim_procedure"] = self._without_problems(
                "medical_claim_procedure", self.tables["medical_claim_procedure"]
            )

    # --- Part B -------------------------------------------------------------------------------

    def _line_versions(self, kind: str, name: str) -> None:
        """Claim versions of a line file (CCLF5, CCLF6), grouped by control number and MBI."""
        self.con.execute(
            f"""
            CREATE TEMP VIEW {name}_src AS
            SELECT CUR_CLM_UNIQ_ID AS claim_id,
                   arg_min(CLM_ADJSMT_TYPE_CD, CAST(CLM_LINE_NUM AS BIGINT)) AS adj,
                   max(CLM_EFCTV_DT) AS efctv, max(CLM_IDR_LD_DT) AS ld,
                   arg_min(CLM_CNTL_NUM, CAST(CLM_LINE_NUM AS BIGINT)) AS cntl,
                   arg_min(member_id, CAST(CLM_LINE_NUM AS BIGINT)) AS member_id
            FROM {kind}_m GROUP BY CUR_CLM_UNIQ_ID
            """
        )
        self._versions(name, f"{name}_src", ("member_id", "cntl"), None)

    def _part_b(self) -> None:
        con = self.con
        self._line_versions("CCLF5", "b_versions")
        if self.has("CCLFB"):
            con.execute(
                """CREATE TEMP TABLE b_extra AS
                   SELECT CUR_CLM_UNIQ_ID AS claim_id, CAST(CLM_LINE_NUM AS BIGINT) AS line_no,
                          sum(CLM_MDCR_DDCTBL_AMT) AS deductible
                   FROM CCLFB GROUP BY ALL"""
            )
        else:
            con.execute(
                "CREATE TEMP TABLE b_extra (claim_id VARCHAR, line_no BIGINT, "
                "deductible DECIMAL(22,2))"
            )
        con.execute(
            f"""
            CREATE TEMP TABLE claims_b AS
            SELECT l.CUR_CLM_UNIQ_ID AS claim_id,
                   CAST(CAST(l.CLM_LINE_NUM AS BIGINT) AS VARCHAR) AS claim_line_number,
                   'professional' AS claim_type, v.adjustment_type, v.adjusted_claim_id,
                   l.member_id AS member_id, '{PAYER}' AS payer,
                   {_day("l.CLM_FROM_DT")} AS claim_start_date,
                   {_day("l.CLM_THRU_DT")} AS claim_end_date,
                   {_day("l.CLM_LINE_FROM_DT")} AS claim_line_start_date,
                   {_day("l.CLM_LINE_THRU_DT")} AS claim_line_end_date,
                   l.CLM_POS_CD AS place_of_service_code,
                   CAST(l.CLM_LINE_SRVC_UNIT_QTY AS VARCHAR) AS service_unit_quantity,
                   l.CLM_LINE_HCPCS_CD AS hcpcs_code,
                   l.HCPCS_1_MDFR_CD AS hcpcs_modifier_1, l.HCPCS_2_MDFR_CD AS hcpcs_modifier_2,
                   l.HCPCS_3_MDFR_CD AS hcpcs_modifier_3, l.HCPCS_4_MDFR_CD AS hcpcs_modifier_4,
                   l.HCPCS_5_MDFR_CD AS hcpcs_modifier_5,
                   coalesce(l.RNDRG_PRVDR_NPI_NUM, l.CLM_RNDRG_PRVDR_NPI_NUM) AS rendering_npi,
                   l.CLM_RNDRG_PRVDR_TAX_NUM AS rendering_tin,
                   l.CLM_RNDRG_PRVDR_TAX_NUM AS billing_tin,
                   {_day("l.CLM_EFCTV_DT")} AS paid_date,
                   {_money("l.CLM_LINE_CVRD_PD_AMT")} AS paid_amount,
                   {_money("l.CLM_LINE_ALOWD_CHRG_AMT")} AS allowed_amount,
                   {_money("x.deductible")} AS deductible_amount,
                   {_money("l.CLM_LINE_ALOWD_CHRG_AMT - l.CLM_LINE_CVRD_PD_AMT")}
                       AS member_liability_amount,
                   v.problem, 'CLM_ADJSMT_TYPE_CD' AS field, l.CLM_ADJSMT_TYPE_CD AS value,
                   l.{ROW}, l.{FILE}
            FROM CCLF5_m l
            JOIN b_versions v ON v.claim_id = l.CUR_CLM_UNIQ_ID
            LEFT JOIN b_extra x ON x.claim_id = l.CUR_CLM_UNIQ_ID
                               AND x.line_no = CAST(l.CLM_LINE_NUM AS BIGINT)
            """
        )
        self._quarantine_problems("claims_b", "medical_claim")
        # Claim diagnoses: CLM_DGNS_1_CD … CLM_DGNS_12_CD of the claim's lowest line, in order.
        files = [i for (i,) in con.sql(f"SELECT DISTINCT {FILE} FROM CCLF5").fetchall()]
        parts = self.out.sources.part_index
        con.register(
            "b_parts",
            pa.table(
                {
                    "fi": pa.array([f for f in files for _ in range(12)], pa.int32()),
                    "pos": pa.array([k for _ in files for k in range(1, 13)], pa.int32()),
                    "part_fi": pa.array(
                        [parts(f, k - 1) for f in files for k in range(1, 13)], pa.int32()
                    ),
                }
            ),
        )
        positions = " UNION ALL ".join(
            f"SELECT {FILE}, {ROW}, claim_id, icd, {k} AS pos, CLM_DGNS_{k}_CD AS code FROM first"
            for k in range(1, 13)
        )
        con.execute(
            f"""
            CREATE TEMP TABLE dx_b AS
            WITH first AS (
                SELECT {FILE}, {ROW}, CUR_CLM_UNIQ_ID AS claim_id, DGNS_PRCDR_ICD_IND AS icd,
                       {", ".join(f"CLM_DGNS_{k}_CD" for k in range(1, 13))}
                FROM CCLF5
                QUALIFY row_number() OVER (PARTITION BY CUR_CLM_UNIQ_ID
                        ORDER BY CAST(CLM_LINE_NUM AS BIGINT), {FILE}, {ROW}) = 1
            ), codes AS ({positions})
            SELECT c.claim_id,
                   CAST(row_number() OVER (PARTITION BY c.claim_id ORDER BY c.pos) AS VARCHAR)
                       AS diagnosis_sequence,
                   CASE WHEN c.icd = '9' THEN 'icd-9-cm' ELSE 'icd-10-cm' END
                       AS diagnosis_code_type,
                   c.code AS diagnosis_code, CAST(NULL AS VARCHAR) AS present_on_admission,
                   {_CLAIM_PROBLEM}, c.{ROW}, p.part_fi AS {FILE}
            FROM codes c JOIN b_parts p ON p.fi = c.{FILE} AND p.pos = c.pos
            JOIN b_versions v ON v.claim_id = c.claim_id
            WHERE c.code IS NOT NULL
            """
        )

    def _dme(self) -> None:
        self._line_versions("CCLF6", "d_versions")
        self.con.execute(
            f"""
            CREATE TEMP TABLE claims_d AS
            SELECT l.CUR_CLM_UNIQ_ID AS claim_id,
                   CAST(CAST(l.CLM_LINE_NUM AS BIGINT) AS VARCHAR) AS claim_line_number,
                   'professional' AS claim_type, v.adjustment_type, v.adjusted_claim_id,
                   l.member_id AS member_id, '{PAYER}' AS payer,
                   {_day("l.CLM_FROM_DT")} AS claim_start_date,
                   {_day("l.CLM_THRU_DT")} AS claim_end_date,
                   {_day("l.CLM_LINE_FROM_DT")} AS claim_line_start_date,
                   {_day("l.CLM_LINE_THRU_DT")} AS claim_line_end_date,
                   l.CLM_POS_CD AS place_of_service_code,
                   l.CLM_LINE_HCPCS_CD AS hcpcs_code,
                   coalesce(l.PAYTO_PRVDR_NPI_NUM, l.CLM_BLG_PRVDR_NPI_NUM) AS billing_npi,
                   {_day("l.CLM_EFCTV_DT")} AS paid_date,
                   {_money("l.CLM_LINE_CVRD_PD_AMT")} AS paid_amount,
                   {_money("l.CLM_LINE_ALOWD_CHRG_AMT")} AS allowed_amount,
                   {_money("l.CLM_LINE_ALOWD_CHRG_AMT - l.CLM_LINE_CVRD_PD_AMT")}
                       AS member_liability_amount,
                   v.problem, 'CLM_ADJSMT_TYPE_CD' AS field, l.CLM_ADJSMT_TYPE_CD AS value,
                   l.{ROW}, l.{FILE}
            FROM CCLF6_m l JOIN d_versions v ON v.claim_id = l.CUR_CLM_UNIQ_ID
            """
        )
        self._quarantine_problems("claims_d", "medical_claim")

    def _claims_union(self) -> None:
        """medical_claim and medical_claim_diagnosis from whatever claim files were loaded."""
        con = self.con
        names = {
            r[0]
            for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        }
        claims = [t for t in ("claims_a", "claims_b", "claims_d") if t in names]
        if claims:
            union = " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in claims)
            table = self.arrow(
                f"SELECT * EXCLUDE (problem, field, value), '{DATA_SOURCE}' AS data_source "
                f"FROM ({union}) WHERE problem IS NULL ORDER BY {FILE}, {ROW}"
            )
            self.tables["medical_claim"] = _cast_ids(table)
        dx = [t for t in ("dx_a", "dx_b") if t in names]
        if dx:
            union = " UNION ALL ".join(f"SELECT * FROM {t}" for t in dx)
            table = self.arrow(
                f"SELECT * FROM ({union}) ORDER BY claim_id, diagnosis_sequence::INT"
            )
            self.tables["medical_claim_diagnosis"] = _cast_ids(
                self._without_problems("medical_claim_diagnosis", table)
            )
        for name in ("medical_claim_procedure", "eligibility"):
            if name in self.tables:
                self.tables[name] = _cast_ids(self.tables[name])

    # --- Part D -------------------------------------------------------------------------------

    def _part_d(self) -> None:
        con = self.con
        con.execute(
            """
            CREATE TEMP VIEW rx_src AS
            SELECT CUR_CLM_UNIQ_ID AS claim_id, any_value(CLM_ADJSMT_TYPE_CD) AS adj,
                   max(CLM_EFCTV_DT) AS efctv, max(CLM_IDR_LD_DT) AS ld,
                   any_value(member_id) AS member_id,
                   any_value(CLM_LINE_FROM_DT) AS fill_dt,
                   any_value(PRVDR_SRVC_ID_QLFYR_CD) AS pharmacy_qualifier,
                   any_value(CLM_SRVC_PRVDR_GNRC_ID_NUM) AS pharmacy,
                   any_value(CLM_DSPNSNG_STUS_CD) AS dispensing,
                   any_value(CLM_LINE_RX_SRVC_RFRNC_NUM) AS rx_number,
                   any_value(CLM_LINE_RX_FILL_NUM) AS fill_number
            FROM CCLF7_m GROUP BY CUR_CLM_UNIQ_ID
            """
        )
        self._versions(
            "rx_versions",
            "rx_src",
            (
                "member_id",
                "fill_dt",
                "pharmacy_qualifier",
                "pharmacy",
                "dispensing",
                "rx_number",
                "fill_number",
            ),
            None,
        )
        npi = "CASE WHEN {q} = '" + NPI_QUALIFIER + "' THEN {v} END"
        con.execute(
            f"""
            CREATE TEMP TABLE claims_rx AS
            SELECT l.CUR_CLM_UNIQ_ID AS claim_id, '1' AS claim_line_number,
                   v.adjustment_type, v.adjusted_claim_id,
                   l.member_id AS member_id, '{PAYER}' AS payer,
                   {npi.format(q="l.PRVDR_PRSBNG_ID_QLFYR_CD", v="l.CLM_PRSBNG_PRVDR_GNRC_ID_NUM")}
                       AS prescribing_provider_npi,
                   {npi.format(q="l.PRVDR_SRVC_ID_QLFYR_CD", v="l.CLM_SRVC_PRVDR_GNRC_ID_NUM")}
                       AS dispensing_provider_npi,
                   {_day("l.CLM_LINE_FROM_DT")} AS dispensing_date,
                   l.CLM_LINE_NDC_CD AS ndc_code,
                   CAST(l.CLM_LINE_SRVC_UNIT_QTY AS VARCHAR) AS quantity,
                   CAST(CAST(l.CLM_LINE_DAYS_SUPLY_QTY AS BIGINT) AS VARCHAR) AS days_supply,
                   CAST(TRY_CAST(l.CLM_LINE_RX_FILL_NUM AS BIGINT) AS VARCHAR) AS refills,
                   {_day("l.CLM_EFCTV_DT")} AS paid_date,
                   {_money("l.CLM_LINE_BENE_PMT_AMT")} AS copayment_amount,
                   v.problem, 'CLM_ADJSMT_TYPE_CD' AS field, l.CLM_ADJSMT_TYPE_CD AS value,
                   '{DATA_SOURCE}' AS data_source, l.{ROW}, l.{FILE}
            FROM CCLF7_m l JOIN rx_versions v ON v.claim_id = l.CUR_CLM_UNIQ_ID
            """
        )
        self._quarantine_problems("claims_rx", "pharmacy_claim")
        self.tables["pharmacy_claim"] = _cast_ids(
            self.arrow(
                f"SELECT * EXCLUDE (problem, field, value) FROM claims_rx WHERE problem IS NULL "
                f"ORDER BY {FILE}, {ROW}"
            )
        )
        rows = con.sql("SELECT count(*) FROM claims_rx WHERE problem IS NULL").fetchone()[0]
        self.out.finding(
            "pharmacy_claim",
            "part_d_costs_not_in_cclf",
            rows,
            "CCLF7 carries no plan payment or total drug cost: paid_amount and allowed_amount "
            "are empty and copayment_amount holds the beneficiary's payment "
            "(CLM_LINE_BENE_PMT_AMT)",
        )

    # --- providers ----------------------------------------------------------------------------

    def _providers(self) -> None:
        """One row per NPI the claims name; CCLF has no names, so each is labelled by its NPI."""
        roles: list[tuple[str, str, str, str, str]] = []  # kind, column, entity, specialty, tin
        if self.has("CCLF5"):
            roles += [
                (
                    "CCLF5",
                    "RNDRG_PRVDR_NPI_NUM",
                    "individual",
                    "CLM_PRVDR_SPCLTY_CD",
                    "CLM_RNDRG_PRVDR_TAX_NUM",
                ),
                (
                    "CCLF5",
                    "CLM_RNDRG_PRVDR_NPI_NUM",
                    "individual",
                    "CLM_PRVDR_SPCLTY_CD",
                    "CLM_RNDRG_PRVDR_TAX_NUM",
                ),
            ]
        if self.has("CCLF1"):
            roles += [
                ("CCLF1", c, "individual", "NULL", "NULL")
                for c in ("ATNDG_PRVDR_NPI_NUM", "OPRTG_PRVDR_NPI_NUM", "OTHR_PRVDR_NPI_NUM")
            ]
            roles += [
                ("CCLF1", c, "organization", "NULL", "NULL")
                for c in ("FAC_PRVDR_NPI_NUM", "CLM_BLG_PRVDR_NPI_NUM")
            ]
        if self.has("CCLF6"):
            roles += [("CCLF6", "PAYTO_PRVDR_NPI_NUM", "organization", "NULL", "NULL")]
        if self.has("CCLF7"):
            roles += [
                ("CCLF7", "CLM_PRSBNG_PRVDR_GNRC_ID_NUM", "individual", "NULL", "NULL"),
                ("CCLF7", "CLM_SRVC_PRVDR_GNRC_ID_NUM", "organization", "NULL", "NULL"),
            ]
        if not roles:
            return
        parts = self.out.sources.part_index
        selects, maps = [], []
        for role, (kind, col, entity, specialty, tin) in enumerate(roles):
            files = [i for (i,) in self.con.sql(f"SELECT DISTINCT {FILE} FROM {kind}").fetchall()]
            maps += [(role, f, parts(f, 20 + role)) for f in files]
            where = f"{col} IS NOT NULL"
            if kind == "CCLF7":
                qualifier = (
                    "PRVDR_PRSBNG_ID_QLFYR_CD" if "PRSBNG" in col else "PRVDR_SRVC_ID_QLFYR_CD"
                )
                where += f" AND {qualifier} = '{NPI_QUALIFIER}'"
            selects.append(
                f"SELECT {role} AS role, {col} AS npi, '{entity}' AS entity_type, "
                f"{specialty} AS specialty, {tin} AS tin, {FILE}, {ROW} FROM {kind} WHERE {where}"
            )
        self.con.register(
            "role_parts",
            pa.table(
                {
                    "role": pa.array([m[0] for m in maps], pa.int32()),
                    "fi": pa.array([m[1] for m in maps], pa.int32()),
                    "part_fi": pa.array([m[2] for m in maps], pa.int32()),
                }
            ),
        )
        table = self.arrow(
            f"""
            WITH seen AS ({" UNION ALL ".join(selects)}),
            per_npi AS (
                SELECT npi,
                       arg_min(entity_type, role) AS entity_type,
                       mode(specialty) FILTER (WHERE specialty IS NOT NULL) AS specialty,
                       mode(tin) FILTER (WHERE tin IS NOT NULL) AS tin,
                       min(role) AS first_role
                FROM seen GROUP BY npi
            ), first_seen AS (
                SELECT npi, role, {FILE}, {ROW} FROM seen
                QUALIFY row_number() OVER (PARTITION BY npi ORDER BY role, {FILE}, {ROW}) = 1
            )
            SELECT p.npi, p.entity_type, 'NPI ' || p.npi AS provider_name,
                   p.specialty AS cms_specialty_code, p.tin,
                   s.{ROW}, rp.part_fi AS {FILE}
            FROM per_npi p JOIN first_seen s USING (npi)
            JOIN role_parts rp ON rp.role = s.role AND rp.fi = s.{FILE}
            ORDER BY p.npi
            """
        )
        self.tables["provider"] = _cast_ids(table)
        self.out.finding(
            "provider",
            "provider_names_not_in_cclf",
            table.num_rows,
            "CCLF files carry NPIs but no provider names: each provider is named 'NPI <number>' "
            "(load a roster to name them); specialty and TIN come from CCLF5 where given",
        )


def _cast_ids(table: pa.Table) -> pa.Table:
    """``_row`` as int64 and ``_file_index`` as int32, the RawBatch convention."""
    table = table.set_column(table.column_names.index(ROW), ROW, table.column(ROW).cast(pa.int64()))
    return table.set_column(
        table.column_names.index(FILE), FILE, table.column(FILE).cast(pa.int32())
    )
