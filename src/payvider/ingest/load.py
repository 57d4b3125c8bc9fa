"""Loading a folder (or file) of canonical CSV/Parquet files into a workspace as one batch.

The batch is all or nothing: every file is read and checked for whole-file problems before
anything is written, and the batch folder is renamed into place only when everything is written.
Rows that fail validation go to the batch's quarantine with file, row, field, value and reason;
for every table ``read = loaded + quarantined``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from payvider import __version__
from payvider.engine.backends import DuckDBEngine, Engine
from payvider.engine.workspace import Workspace
from payvider.ingest import codes
from payvider.ingest.errors import InputRejected
from payvider.ingest.files import DATA_SUFFIXES, FILE, PART, ROW, file_sha256, read_file
from payvider.ingest.findings import Finding, run_checks
from payvider.ingest.validate import FAILURE_SCHEMA, validate_table
from payvider.schema import TABLES, Table
from payvider.schema.tables import (
    WIDE_CODE_COUNT,
    WIDE_CODE_TYPE_COLUMNS,
    WIDE_DIAGNOSIS_COLUMNS,
    WIDE_POA_COLUMNS,
    WIDE_PROCEDURE_COLUMNS,
    WIDE_PROCEDURE_DATE_COLUMNS,
)

WIDE_COLUMNS = frozenset(
    WIDE_DIAGNOSIS_COLUMNS
    + WIDE_POA_COLUMNS
    + WIDE_PROCEDURE_COLUMNS
    + WIDE_PROCEDURE_DATE_COLUMNS
    + WIDE_CODE_TYPE_COLUMNS
)
#: Tables that hold claims adjusted by replacement/void claims.
ADJUSTABLE = ("medical_claim", "pharmacy_claim")
#: How product_line is derived from Tuva's payer_type when a file has no product_line.
PAYER_TYPE_TO_PRODUCT_LINE = {
    "medicare": "medicare_ffs",
    "medicare advantage": "medicare_advantage",
    "medicare_advantage": "medicare_advantage",
    "medicaid": "medicaid",
    "commercial": "commercial",
}
QUARANTINE_COLUMNS = ["table", "file", "row", "field", "value", "reason"]

Progress = Callable[[str], None]


@dataclass
class TableReport:
    table: str
    files: list[str]
    read: int
    loaded: int
    quarantined: int

    @property
    def reconciles(self) -> bool:
        return self.read == self.loaded + self.quarantined


@dataclass
class LoadReport:
    batch_id: str
    source: str
    reader: str
    status: str  # "loaded" or "already loaded"
    loaded_at: str
    software_version: str
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    ignored_files: list[str] = field(default_factory=list)
    tables: list[TableReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    quarantine_reasons: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["tables"] = [asdict(t) | {"reconciles": t.reconciles} for t in self.tables]
        out["findings"] = [f.to_dict() for f in self.findings]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> LoadReport:
        data = dict(data)
        tables = [
            TableReport(**{k: v for k, v in t.items() if k != "reconciles"})
            for t in data.pop("tables", [])
        ]
        findings = [Finding(**f) for f in data.pop("findings", [])]
        return cls(tables=tables, findings=findings, **data)

    @property
    def rows_read(self) -> int:
        return sum(t.read for t in self.tables)


# --- discovering files ---------------------------------------------------------------------------


def table_for_file(path: Path) -> str | None:
    """The canonical table a file belongs to: its stem, or the longest table name it starts with
    followed by ``_``, ``-`` or ``.`` (``medical_claim_2024-01.csv``, ``eligibility_seed.csv``)."""
    stem = path.name.lower()
    for suffix in DATA_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    best = None
    for name in TABLES:
        if stem == name or any(stem.startswith(name + sep) for sep in "_-."):
            if best is None or len(name) > len(best):
                best = name
    return best


def discover(path: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Data files by table, and the names of files that are not data files."""
    if not path.exists():
        raise InputRejected(str(path), "no such file or folder")
    candidates = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    by_table: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for p in candidates:
        if not p.name.lower().endswith(DATA_SUFFIXES):
            ignored.append(p.name)
            continue
        table = table_for_file(p)
        if table is None:
            raise InputRejected(
                p.name,
                "does not match a canonical table; name data files after a table "
                f"({', '.join(sorted(TABLES))})",
            )
        by_table.setdefault(table, []).append(p)
    if not by_table:
        raise InputRejected(str(path), "no CSV or Parquet data files found")
    return by_table, ignored


def batch_identity(files: dict[str, str]) -> str:
    """A batch is identified by its content: the names and hashes of its files."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{files[name]}\n".encode())
    return h.hexdigest()[:16]


# --- header handling -----------------------------------------------------------------------------


def prepare_columns(spec: Table, table: pa.Table, name: str, findings: list[Finding]) -> pa.Table:
    """Rename aliases, derive product_line, restore zero-padded codes, check required columns and
    report (and drop) columns the canonical table does not have. ``name`` is the source file."""
    renames = {}
    for col in table.column_names:
        low = col.strip().lower()
        target = spec.aliases.get(low, low)
        renames[col] = target
    table = table.rename_columns([renames[c] for c in table.column_names])
    cols = set(table.column_names)

    if spec.name == "eligibility" and "product_line" not in cols and "payer_type" in cols:
        mapping = PAYER_TYPE_TO_PRODUCT_LINE
        values = [
            None if v is None else mapping.get(v.strip().lower(), v)
            for v in table.column("payer_type").to_pylist()
        ]
        table = table.append_column("product_line", pa.array(values, pa.string()))
        findings.append(
            Finding(
                spec.name,
                "product_line_derived",
                table.num_rows,
                f"{name} has no product_line column; derived from payer_type "
                "(medicare → medicare_ffs, medicaid → medicaid, commercial → commercial)",
            )
        )
        cols.add("product_line")

    table = _pad_numeric_codes(spec, table, name, findings)
    missing = [c for c in spec.required_columns if c not in cols]
    if missing:
        raise InputRejected(
            name, f"missing required column(s) for {spec.name}: {', '.join(missing)}"
        )
    known = set(spec.column_names) | {ROW, FILE}
    if spec.name == "medical_claim":
        known |= WIDE_COLUMNS
    ignored = sorted(cols - known)
    if ignored:
        findings.append(
            Finding(
                spec.name,
                "columns_ignored",
                len(ignored),
                f"{name}: columns not in the canonical {spec.name} table were not loaded: "
                + ", ".join(ignored),
            )
        )
        table = table.drop_columns(ignored)
    return table


#: Fixed widths of codes that lose leading zeros when a tool stores them as numbers.
CODE_WIDTHS = {
    "npi": 10,
    "tin": 9,
    "ndc": 11,
    "zip": 5,
    "bill_type": 3,
    "revenue_code": 4,
    "place_of_service": 2,
    "drg": 3,
}


def _pad_numeric_codes(
    spec: Table, table: pa.Table, name: str, findings: list[Finding]
) -> pa.Table:
    """Codes stored as integers (``02`` → ``2``) get their leading zeros back, and it is reported."""
    import pyarrow.compute as pc

    padded = []
    for col in spec.columns:
        width = CODE_WIDTHS.get(col.code or "")
        if not width or col.name not in table.column_names:
            continue
        arr = table.column(col.name)
        if not pa.types.is_integer(arr.type):
            continue
        text = pc.utf8_lpad(pc.cast(arr, pa.string()), width=width, padding="0")
        table = table.set_column(table.column_names.index(col.name), col.name, text)
        padded.append(col.name)
    if padded:
        findings.append(
            Finding(
                spec.name,
                "codes_stored_as_numbers",
                len(padded),
                f"{name}: code columns stored as numbers were zero-padded to their width: "
                + ", ".join(padded),
            )
        )
    return table


# --- wide diagnosis / procedure columns ----------------------------------------------------------


def _long_codes(
    engine: Engine, claims: ir.Table, kind: str, findings: list[Finding]
) -> ir.Table | None:
    """Melt Tuva's wide diagnosis_code_N / procedure_code_N columns into long rows, one per
    claim and position (taken from the claim's lowest line), keeping the source row ids."""
    code_cols = WIDE_DIAGNOSIS_COLUMNS if kind == "diagnosis" else WIDE_PROCEDURE_COLUMNS
    present = [c for c in code_cols if c in claims.columns]
    if not present:
        return None
    type_col = f"{kind}_code_type"
    extra_name = "present_on_admission" if kind == "diagnosis" else "procedure_date"
    extra_cols = WIDE_POA_COLUMNS if kind == "diagnosis" else WIDE_PROCEDURE_DATE_COLUMNS

    # Claim-level codes are repeated on every line (Tuva layout); take them from the claim's lowest
    # line (then earliest row) and count claims whose lines disagree. Working per line first and
    # melting only the chosen lines is far cheaper than melting every line.
    def text(col: str) -> ir.StringValue:
        return claims[col].cast("string").strip().nullif("")

    order = (
        claims.claim_line_number.cast("string").try_cast("int64").fill_null(999_999) * 4_294_967_296
        + claims[ROW]
    )
    signature = ibis.literal("|").join([text(c).fill_null("") for c in present])
    lines = claims.select(
        FILE,
        ROW,
        *present,
        *[c for c in extra_cols if c in claims.columns],
        *([type_col] if type_col in claims.columns else []),
        claim_id=claims.claim_id.cast("string").strip(),
        __order=order,
        __signature=signature,
    )
    per_claim = lines.group_by("claim_id").aggregate(
        __first=lines["__order"].min(), __variants=lines["__signature"].nunique()
    )
    joined = lines.inner_join(per_claim, "claim_id")
    chosen = engine.materialize(
        joined.filter(joined["__order"] == joined["__first"]).drop("__order", "__first")
    )
    conflicts = int(chosen.filter(chosen["__variants"] > 1).count().execute())
    if conflicts:
        findings.append(
            Finding(
                f"medical_claim_{kind}",
                "lines_disagree",
                conflicts,
                f"claims whose lines list different {kind} codes; the codes on the lowest line "
                "number were used",
            )
        )
    parts = []
    for i in range(1, WIDE_CODE_COUNT + 1):
        code_col, extra_col = f"{kind}_code_{i}", extra_cols[i - 1]
        if code_col not in chosen.columns:
            continue
        code = chosen[code_col].cast("string").strip().nullif("")
        parts.append(
            chosen.filter(code.notnull()).select(
                **{FILE: chosen[FILE], ROW: chosen[ROW], PART: ibis.literal(i, "int64")},
                claim_id=chosen.claim_id,
                **{
                    f"{kind}_sequence": ibis.literal(str(i)),
                    f"{kind}_code": code,
                    f"{kind}_code_type": (
                        chosen[type_col].cast("string")
                        if type_col in chosen.columns
                        else ibis.null().cast("string")
                    ),
                    extra_name: (
                        chosen[extra_col].cast("string")
                        if extra_col in chosen.columns
                        else ibis.null().cast("string")
                    ),
                },
            )
        )
    first = engine.materialize(ibis.union(*parts, distinct=False))

    if kind == "diagnosis":
        raw_type = first.diagnosis_code_type.strip().lower()
        code = first.diagnosis_code.strip().upper().replace(".", "")
        # A diagnosis column holds diagnoses: a procedure code system named on it is a label error
        # whenever the code is a well-formed ICD-10-CM code (seven-character CM codes such as
        # S0501XA are also well-formed PCS strings, so the PCS pattern cannot tell them apart).
        looks_cm = code.re_search(codes.ICD10CM)
        counts = (
            first.aggregate(
                missing=raw_type.isnull().sum(),
                mislabelled=(raw_type.isin(["icd-10-pcs", "icd-9-pcs"]) & looks_cm).sum(),
            )
            .to_pyarrow()
            .to_pylist()[0]
        )
        missing, mislabelled = int(counts["missing"] or 0), int(counts["mislabelled"] or 0)
        if missing:
            findings.append(
                Finding(
                    "medical_claim_diagnosis",
                    "code_type_missing",
                    missing,
                    "diagnosis_code_type is missing; read as icd-10-cm",
                )
            )
        if mislabelled:
            findings.append(
                Finding(
                    "medical_claim_diagnosis",
                    "code_type_mislabelled",
                    mislabelled,
                    "diagnosis_code_type says a procedure code system but the codes are "
                    "ICD-10-CM diagnoses; read as icd-10-cm",
                )
            )
        fixed = ibis.cases(
            (raw_type.isnull(), "icd-10-cm"),
            (raw_type.isin(["icd-10-pcs", "icd-9-pcs"]) & looks_cm, "icd-10-cm"),
            else_=raw_type,
        )
        first = first.mutate(diagnosis_code_type=fixed)
    else:
        raw_type = first.procedure_code_type.strip().lower()
        first = first.mutate(procedure_code_type=raw_type.fill_null("icd-10-pcs"))
    return first


# --- adjustments -----------------------------------------------------------------------------------


def _adjustment_failures(typed: ir.Table, earlier_ids: ir.Table | None) -> ir.Table:
    """Voids and replacements must name the claim they adjust; a void must find it."""
    adj = typed.adjustment_type.fill_null("original")
    needs_target = typed.filter((adj != "original") & typed.adjusted_claim_id.isnull()).select(
        FILE,
        ROW,
        PART,
        field=ibis.literal("adjusted_claim_id"),
        value=ibis.null().cast("string"),
        reason=ibis.literal("a replacement or void must name the claim it adjusts"),
    )
    known = typed.select(claim_id=typed.claim_id)
    if earlier_ids is not None:
        known = ibis.union(known, earlier_ids.select("claim_id"), distinct=False)
    known = known.distinct()
    voids = typed.filter((adj == "void") & typed.adjusted_claim_id.notnull())
    orphan = voids.anti_join(known, voids.adjusted_claim_id == known.claim_id).select(
        FILE,
        ROW,
        PART,
        field=ibis.literal("adjusted_claim_id"),
        value=voids.adjusted_claim_id,
        reason=ibis.literal("void without original: the claim it voids is not loaded"),
    )
    return ibis.union(needs_target, orphan, distinct=False)


# --- the load ------------------------------------------------------------------------------------


@dataclass
class RawBatch:
    """What a reader hands to validation: raw tables under canonical column names.

    Each table carries ``_row`` (int64, the source record number) and ``_file_index`` (int32, an
    index into ``file_names``) so quarantined rows can be traced to their file and row. Values may
    be text or typed; validation converts them by the declarations. ``medical_claim`` may carry
    the wide ``diagnosis_code_N`` columns.
    """

    source: str
    reader: str
    files: dict[str, str]  # file name -> sha256; the batch identity
    file_names: list[str]
    tables: dict[str, pa.Table]
    rows_read: dict[str, int]
    malformed: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def batch_id(self) -> str:
        return batch_identity(self.files)


def already_loaded(workspace: Workspace, files: dict[str, str]) -> LoadReport | None:
    """The stored report if a batch with these files is already in the workspace."""
    batch_id = batch_identity(files)
    if not workspace.has_batch(batch_id):
        return None
    report = LoadReport.from_dict(workspace.batch_report(batch_id))
    report.status = "already loaded"
    return report


def load_batch(
    workspace: Workspace,
    path: Path,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load ``path`` (a folder of canonical files, or one file) into ``workspace`` as a batch."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    path = Path(path)
    by_table, ignored_files = discover(path)
    all_files = [p for paths in by_table.values() for p in paths]
    hashes = {p.name: file_sha256(p) for p in all_files}
    previous = already_loaded(workspace, hashes)
    if previous is not None:
        return previous

    findings: list[Finding] = []
    file_names = [p.name for p in all_files]
    file_index = {name: i for i, name in enumerate(file_names)}
    raw_tables: dict[str, pa.Table] = {}
    malformed_rows: list[dict] = []
    rows_read: dict[str, int] = {}
    for table_name, paths in by_table.items():
        spec = TABLES[table_name]
        parts = []
        for p in paths:
            say(f"reading {p.name}")
            read = read_file(p, p.name, file_index[p.name])
            parts.append(prepare_columns(spec, read.table, p.name, findings))
            rows_read[table_name] = rows_read.get(table_name, 0) + read.rows_read
            malformed_rows += [
                {
                    "table": table_name,
                    "file": p.name,
                    "row": m.row,
                    "field": None,
                    "value": m.text,
                    "reason": m.reason,
                }
                for m in read.malformed
            ]
        raw_tables[table_name] = pa.concat_tables(parts, promote_options="permissive")
    raw = RawBatch(
        source=str(path),
        reader="canonical",
        files=hashes,
        file_names=file_names,
        tables=raw_tables,
        rows_read=rows_read,
        malformed=malformed_rows,
        findings=findings,
        ignored_files=ignored_files,
    )
    return load_raw_batch(workspace, raw, as_of, say, started)


def load_raw_batch(
    workspace: Workspace,
    raw: RawBatch,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    started: float | None = None,
) -> LoadReport:
    """Validate a reader's raw tables and write them to ``workspace`` as one batch."""
    started = started if started is not None else time.perf_counter()
    say = progress or (lambda _msg: None)
    previous = already_loaded(workspace, raw.files)
    if previous is not None:
        return previous
    for name in raw.tables:
        if name not in TABLES:
            raise ValueError(f"reader produced unknown table {name!r}")
    engine = DuckDBEngine()
    try:
        report = _validate_and_write(
            engine,
            workspace,
            raw.tables,
            raw.rows_read,
            raw.malformed,
            raw.findings,
            raw.file_names,
            as_of or dt.date.today(),
            say,
            LoadReport(
                batch_id=raw.batch_id,
                source=raw.source,
                reader=raw.reader,
                status="loaded",
                loaded_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                software_version=__version__,
                files=raw.files,
                ignored_files=raw.ignored_files,
            ),
        )
    finally:
        engine.close()
    report.seconds = round(time.perf_counter() - started, 3)
    # Rewrite the report with the final timing (the folder is already in place).
    (workspace.batches_dir / report.batch_id / "load_report.json").write_text(
        json.dumps(report.to_dict(), indent=2, default=str) + "\n"
    )
    return report


def _validate_and_write(
    engine: Engine,
    workspace: Workspace,
    raw_tables: dict[str, pa.Table],
    rows_read: dict[str, int],
    malformed_rows: list[dict],
    findings: list[Finding],
    file_names: list[str],
    as_of: dt.date,
    say: Progress,
    report: LoadReport,
) -> LoadReport:
    raw_exprs = {
        name: engine.from_arrow(t).mutate(**{PART: ibis.literal(0, "int64")})
        for name, t in raw_tables.items()
    }
    # Derived long tables from wide claim columns (unless the batch has its own long file).
    if "medical_claim" in raw_exprs:
        for kind in ("diagnosis", "procedure"):
            target = f"medical_claim_{kind}"
            long = _long_codes(engine, raw_exprs["medical_claim"], kind, findings)
            if long is None or int(long.count().execute()) == 0:
                continue
            if target in raw_exprs:
                raise InputRejected(
                    target,
                    f"the batch has both a {target} file and wide {kind}_code_N columns in "
                    "medical_claim; send one or the other",
                )
            raw_exprs[target] = long
            rows_read[target] = int(long.count().execute())

    names = sorted(raw_exprs, key=lambda n: list(TABLES).index(n))
    loaded: dict[str, ir.Table] = {}
    failures: dict[str, ir.Table] = {}
    for name in names:
        say(f"validating {name}")
        spec = TABLES[name]
        raw = raw_exprs[name]
        keep = [c for c in raw.columns if c in set(spec.column_names) | {ROW, FILE, PART}]
        validated = validate_table(engine, raw.select(*keep), spec, as_of)
        fails = validated.failures
        if name in ADJUSTABLE:
            earlier = [pq_path for pq_path in workspace.table_files(name)]
            earlier_ids = (
                ibis.union(
                    *[engine.read_parquet(f).select("claim_id") for f in earlier], distinct=False
                )
                if earlier
                else None
            )
            ok = validated.typed.anti_join(fails, [FILE, ROW, PART])
            fails = ibis.union(fails, _adjustment_failures(ok, earlier_ids), distinct=False)
        fails = engine.materialize(fails)
        failures[name] = fails
        loaded[name] = engine.materialize(validated.typed.anti_join(fails, [FILE, ROW, PART]))

    say("checking data quality")
    findings += run_checks(loaded)
    report.findings = findings

    with workspace.writing_batch(report.batch_id) as tmp:
        quarantine_parts = []
        for name in names:
            spec = TABLES[name]
            n_loaded = int(loaded[name].count().execute())
            fails = failures[name]
            n_quarantined = int(fails.select(FILE, ROW, PART).distinct().count().execute())
            n_malformed = sum(1 for m in malformed_rows if m["table"] == name)
            table_report = TableReport(
                table=name,
                files=sorted(
                    {
                        file_names[i]
                        for i in loaded[name].select(FILE).distinct().to_pyarrow()[FILE].to_pylist()
                    }
                    | {
                        file_names[i]
                        for i in fails.select(FILE).distinct().to_pyarrow()[FILE].to_pylist()
                    }
                    | {m["file"] for m in malformed_rows if m["table"] == name}
                ),
                read=rows_read[name],
                loaded=n_loaded,
                quarantined=n_quarantined + n_malformed,
            )
            if not table_report.reconciles:
                raise RuntimeError(
                    f"{name}: counts do not reconcile (read {table_report.read}, loaded "
                    f"{table_report.loaded}, quarantined {table_report.quarantined})"
                )
            report.tables.append(table_report)
            if n_loaded:
                say(f"writing {name}")
                engine.write_parquet(
                    loaded[name].select(*spec.column_names), tmp / f"{name}.parquet"
                )
            if n_quarantined:
                quarantine_parts.append(
                    fails.order_by([FILE, ROW, PART, "field"])
                    .mutate(table=ibis.literal(name))
                    .to_pyarrow()
                )
        quarantine = _quarantine_table(quarantine_parts, malformed_rows, file_names)
        pq.write_table(quarantine, tmp / "quarantine.parquet")
        report.quarantine_reasons = _reason_summary(quarantine)
        (tmp / "load_report.json").write_text(
            json.dumps(report.to_dict(), indent=2, default=str) + "\n"
        )
    return report


_WIDE_NAMES = {
    "diagnosis_code": "diagnosis_code",
    "present_on_admission": "diagnosis_poa",
    "procedure_code": "procedure_code",
    "procedure_date": "procedure_date",
}


def _quarantine_table(
    parts: list[pa.Table], malformed: list[dict], file_names: list[str]
) -> pa.Table:
    schema = pa.schema(
        [
            ("table", pa.string()),
            ("file", pa.string()),
            ("row", pa.int64()),
            ("field", pa.string()),
            ("value", pa.string()),
            ("reason", pa.string()),
        ]
    )
    rows: list[pa.Table] = []
    for part in parts:
        names = pa.array([file_names[i] for i in part[FILE].to_pylist()], pa.string())
        # Rows made from wide columns point back at the source column (diagnosis_code_3 …).
        fields = [
            f"{_WIDE_NAMES[f]}_{n}" if n and f in _WIDE_NAMES else f
            for f, n in zip(part["field"].to_pylist(), part[PART].to_pylist(), strict=True)
        ]
        rows.append(
            pa.table(
                {
                    "table": part["table"],
                    "file": names,
                    "row": part[ROW],
                    "field": pa.array(fields, pa.string()),
                    "value": part["value"],
                    "reason": part["reason"],
                },
                schema=schema,
            )
        )
    if malformed:
        rows.append(pa.Table.from_pylist(malformed, schema=schema))
    return pa.concat_tables(rows) if rows else schema.empty_table()


def _reason_summary(quarantine: pa.Table) -> list[dict]:
    """Quarantined rows counted by table, field and reason, with a first example row."""
    if quarantine.num_rows == 0:
        return []
    grouped = quarantine.group_by(["table", "field", "reason"], use_threads=False).aggregate(
        [("row", "count"), ("file", "first"), ("row", "min")]
    )
    out = [
        {
            "table": r["table"],
            "field": r["field"],
            "reason": r["reason"],
            "failures": r["row_count"],
            "example": f"{r['file_first']} row {r['row_min']}",
        }
        for r in grouped.to_pylist()
    ]
    return sorted(out, key=lambda r: (r["table"], -r["failures"]))


__all__ = [
    "LoadReport",
    "TableReport",
    "load_batch",
    "discover",
    "table_for_file",
    "FAILURE_SCHEMA",
]
