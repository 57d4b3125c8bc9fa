"""Synthea CSV export → canonical tables (payer side and EHR side).

A Synthea CSV export folder (``patients.csv``, ``payer_transitions.csv``, ``encounters.csv`` …)
describes one synthetic population seen from both sides:

* payer side: ``eligibility`` (payer_transitions + patients + payers), ``medical_claim`` and
  ``medical_claim_diagnosis`` (claims + claims_transactions), ``pharmacy_claim`` (the claims
  Synthea writes for medications) and the ``provider`` roster (providers + organizations);
* EHR side: ``patient``, ``encounter``, ``condition``, ``procedure``, ``observation``,
  ``immunization``, ``medication``, keyed by Synthea's patient ids.

Every file is read as text with its record numbers and the mapping runs as DuckDB SQL over Arrow
tables (no Python row loops). The rules are documented in ``docs/readers.md``; the main ones:

* Enrollment spans: a payer_transitions row is a span ``[START_DATE, END_DATE)``; the canonical
  end date is the day before END_DATE (the next span starts on END_DATE). NO_INSURANCE spans are
  not enrollment and are reported as a finding.
* Claim lines: each CHARGE transaction starts a line (claim_line_number counts CHARGEs in CHARGEID
  order); the transactions that follow it until the next CHARGE settle that line. allowed = charge
  − ADJUSTMENT; paid = the insurer's PAYMENT (ECHECK) before any transfer to a secondary payer;
  copayment = COPAY; member liability = allowed − paid (copay, patient payments and whatever a
  secondary payer covers).
* Institutional or professional follows the encounter class (see ``ENCOUNTER_CLASSES``).
* Synthea provider and organization ids are UUIDs, not NPIs: a stable, check-digit-valid NPI is
  derived from each id (:func:`~payvider.ingest.readers._common.derived_npi`).
* Claim diagnoses are SNOMED CT in Synthea; they are mapped to ICD-10-CM with the shipped map
  (``reference/snomed_icd10cm.csv``); a code without a mapping is quarantined with its reason.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from payvider.ingest.errors import InputRejected
from payvider.ingest.files import FILE, ROW, read_file
from payvider.ingest.load import RawBatch
from payvider.ingest.readers._common import (
    ETHNICITY_BY_WORD,
    RACE_BY_WORD,
    US_STATES,
    Collector,
    Progress,
    derived_npi,
    make_batch,
    quiet,
    snomed_map_rows,
    specialty_by_name,
)

NAME = "synthea"
DATA_SOURCE = "synthea"

#: Files the reader uses, and the canonical table a malformed record of each file counts against.
FILES: dict[str, str] = {
    "patients.csv": "patient",
    "payers.csv": "eligibility",
    "payer_transitions.csv": "eligibility",
    "organizations.csv": "provider",
    "providers.csv": "provider",
    "encounters.csv": "encounter",
    "conditions.csv": "condition",
    "procedures.csv": "procedure",
    "observations.csv": "observation",
    "immunizations.csv": "immunization",
    "medications.csv": "medication",
    "claims.csv": "medical_claim",
    "claims_transactions.csv": "medical_claim",
}
REQUIRED = ("patients.csv", "payer_transitions.csv")
#: Columns the mapping uses, per file (upper case). A file without one of them is rejected.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients.csv": (
        "ID",
        "BIRTHDATE",
        "DEATHDATE",
        "FIRST",
        "LAST",
        "GENDER",
        "ADDRESS",
        "CITY",
        "STATE",
        "ZIP",
        "RACE",
        "ETHNICITY",
    ),
    "payers.csv": ("ID", "NAME", "OWNERSHIP"),
    "payer_transitions.csv": ("PATIENT", "START_DATE", "END_DATE", "PAYER"),
    "organizations.csv": ("ID", "NAME", "ZIP"),
    "providers.csv": ("ID", "ORGANIZATION", "NAME", "SPECIALITY", "ZIP"),
    "encounters.csv": (
        "ID",
        "PATIENT",
        "ORGANIZATION",
        "PROVIDER",
        "ENCOUNTERCLASS",
        "CODE",
        "START",
        "STOP",
        "REASONCODE",
    ),
    "conditions.csv": ("PATIENT", "ENCOUNTER", "CODE", "START", "STOP"),
    "procedures.csv": ("PATIENT", "ENCOUNTER", "CODE", "START", "STOP"),
    "observations.csv": (
        "PATIENT",
        "ENCOUNTER",
        "CATEGORY",
        "CODE",
        "DATE",
        "VALUE",
        "UNITS",
        "TYPE",
    ),
    "immunizations.csv": ("PATIENT", "ENCOUNTER", "CODE", "DATE", "DESCRIPTION"),
    "medications.csv": ("PATIENT", "ENCOUNTER", "CODE", "START", "STOP", "DISPENSES"),
    "claims.csv": (
        "ID",
        "PATIENTID",
        "PRIMARYPATIENTINSURANCEID",
        "HEALTHCARECLAIMTYPEID1",
        "APPOINTMENTID",
        *(f"DIAGNOSIS{i}" for i in range(1, 9)),
    ),
    "claims_transactions.csv": (
        "CLAIMID",
        "CHARGEID",
        "PATIENTID",
        "TYPE",
        "AMOUNT",
        "METHOD",
        "FROMDATE",
        "TODATE",
        "PROCEDURECODE",
        "UNITS",
        "PAYMENTS",
        "ADJUSTMENTS",
        "TRANSFERTYPE",
    ),
}
#: Synthea writes the Unix epoch as the TODATE of lines it has no end for (vaccines).
EPOCH = "1970-01-01"

#: Synthea encounter class → claim type, UB-04 type of bill (institutional) or CMS place of
#: service (professional). Classes not listed are professional, office (11).
ENCOUNTER_CLASSES: dict[str, tuple[str, str | None, str | None]] = {
    "inpatient": ("institutional", "111", None),  # hospital inpatient, admit through discharge
    "emergency": ("institutional", "131", None),  # hospital outpatient (emergency department)
    "outpatient": ("institutional", "131", None),  # hospital outpatient
    "snf": ("institutional", "211", None),  # skilled nursing facility inpatient
    "hospice": ("institutional", "811", None),  # hospice (non-hospital based)
    "home": ("institutional", "321", None),  # home health
    "ambulatory": ("professional", None, "11"),  # office
    "wellness": ("professional", None, "11"),  # office (preventive visit)
    "urgentcare": ("professional", None, "20"),  # urgent care facility
    "virtual": ("professional", None, "02"),  # telehealth other than in the patient's home
}
#: Revenue code put on the encounter line of emergency-class claims, so ED visits are visible.
EMERGENCY_REVENUE_CODE = "0450"


def looks_like(path: Path) -> bool:
    """A folder holding Synthea's patients.csv and payer_transitions.csv (or a csv/ subfolder)."""
    return _csv_folder(Path(path)) is not None


def _csv_folder(path: Path) -> Path | None:
    if not path.is_dir():
        return None
    for folder in (path, path / "csv"):
        if all((folder / name).is_file() for name in REQUIRED):
            return folder
    return None


def read(path: Path, progress: Progress | None = None) -> RawBatch:
    """Read a Synthea CSV export folder into a RawBatch."""
    say = progress or quiet
    path = Path(path)
    folder = _csv_folder(path)
    if folder is None:
        raise InputRejected(
            str(path), "not a Synthea CSV export (needs patients.csv and payer_transitions.csv)"
        )
    out = Collector()
    con = duckdb.connect()
    try:
        present = _load_files(con, folder, out, say)
        tables = _Mapper(con, out, present, say).run()
    finally:
        con.close()
    out.ignored_files = sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.name not in FILES
    )
    return make_batch(str(path), NAME, out.sources, tables, out)


# --- reading ------------------------------------------------------------------------------------


def _load_files(con: duckdb.DuckDBPyConnection, folder: Path, out: Collector, say) -> set[str]:
    """Read each Synthea file as text with record numbers and register it with DuckDB."""
    present: set[str] = set()
    for name, table in FILES.items():
        path = folder / name
        if not path.is_file():
            continue
        say(f"reading {name}")
        index = out.sources.add(path)
        try:
            read = read_file(path, name, index)
            data = read.table
        except InputRejected as exc:
            if exc.problem != "file has a header but no rows" or name in REQUIRED[:1]:
                raise
            data = _header_only(path, index)
            read = None
        if read is not None:
            for bad in read.malformed:
                out.bad(table, name, bad.row, bad.reason, value=bad.text)
        data = data.rename_columns(
            [c if c in (ROW, FILE) else c.strip().upper() for c in data.column_names]
        )
        missing = [c for c in COLUMNS.get(name, ()) if c not in data.column_names]
        if missing:
            raise InputRejected(name, f"missing required column(s): {', '.join(missing)}")
        con.register(_view(name), data)
        present.add(name)
    return present


def _header_only(path: Path, index: int) -> pa.Table:
    header = path.read_text(encoding="utf-8-sig").splitlines()[0]
    cols = [c.strip() for c in header.split(",")]
    data = {c: pa.array([], pa.string()) for c in cols}
    data[ROW] = pa.array([], pa.int64())
    data[FILE] = pa.array([], pa.int32())
    return pa.table(data)


def _view(name: str) -> str:
    return "src_" + name.removesuffix(".csv")


# --- mapping ------------------------------------------------------------------------------------


def _hash_id(prefix: str, *cols: str) -> str:
    """SQL for a content-derived id: the hash of the listed columns and the occurrence number."""
    parts = ", ".join(f"coalesce({c}, '')" for c in cols)
    occurrence = f"row_number() OVER (PARTITION BY {', '.join(cols)} ORDER BY {ROW})"
    return (
        f"'{prefix}-' || substr(sha256(concat_ws(chr(31), {parts}, "
        f"CAST({occurrence} AS VARCHAR))), 1, 20)"
    )


def _day(col: str) -> str:
    return f"substr({col}, 1, 10)"


class _Mapper:
    """The SQL that turns the registered Synthea files into canonical tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, out: Collector, present: set[str], say):
        self.con = con
        self.out = out
        self.present = present
        self.say = say
        self.tables: dict[str, pa.Table] = {}

    def has(self, *names: str) -> bool:
        return all(n in self.present for n in names)

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def run(self) -> dict[str, pa.Table]:
        self._reference_tables()
        self._npis()
        steps = [
            ("patient", self._patients),
            ("eligibility", self._eligibility),
            ("provider", self._providers),
            ("encounter", self._encounters),
            ("condition", self._conditions),
            ("procedure", self._procedures),
            ("observation", self._observations),
            ("immunization", self._immunizations),
            ("medication", self._medications),
            ("medical_claim", self._claims),
        ]
        for name, step in steps:
            self.say(f"mapping {name}")
            step()
        return {k: v for k, v in self.tables.items()}

    # --- lookups ---------------------------------------------------------------------------

    def _reference_tables(self) -> None:
        self.con.register(
            "ref_state",
            pa.table({"name": list(US_STATES), "code": list(US_STATES.values())}),
        )
        self.con.register(
            "ref_race", pa.table({"word": list(RACE_BY_WORD), "value": list(RACE_BY_WORD.values())})
        )
        self.con.register(
            "ref_ethnicity",
            pa.table({"word": list(ETHNICITY_BY_WORD), "value": list(ETHNICITY_BY_WORD.values())}),
        )
        rows = snomed_map_rows()
        self.con.register(
            "ref_icd",
            pa.table(
                {
                    "snomed": [r["snomed_code"] for r in rows],
                    "icd": [r["icd10cm_code"].replace(".", "") for r in rows],
                }
            ),
        )
        specialties = specialty_by_name()
        self.con.register(
            "ref_specialty",
            pa.table(
                {
                    "name": list(specialties),
                    "code": [r["cms_specialty_code"] for r in specialties.values()],
                    "taxonomy": [r["nucc_taxonomy_code"] or None for r in specialties.values()],
                    "primary_care": [r["primary_care"] for r in specialties.values()],
                }
            ),
        )
        classes = ENCOUNTER_CLASSES
        self.con.register(
            "ref_class",
            pa.table(
                {
                    "class": list(classes),
                    "claim_type": [v[0] for v in classes.values()],
                    "bill_type": [v[1] for v in classes.values()],
                    "pos": [v[2] for v in classes.values()],
                }
            ),
        )

    def _npis(self) -> None:
        """Derived NPIs for every clinician and organization id the export mentions."""
        ids: dict[str, str] = {}
        sources = [
            ("providers.csv", "Id", "individual"),
            ("encounters.csv", "PROVIDER", "individual"),
            ("organizations.csv", "Id", "organization"),
            ("encounters.csv", "ORGANIZATION", "organization"),
        ]
        for file, col, kind in sources:
            if not self.has(file):
                continue
            for (value,) in self.con.sql(
                f"SELECT DISTINCT {col} FROM {_view(file)} WHERE {col} IS NOT NULL"
            ).fetchall():
                ids.setdefault(value, kind)
        self.con.register(
            "ref_npi",
            pa.table(
                {
                    "source_id": list(ids),
                    "npi": [derived_npi(i, kind) for i, kind in ids.items()],
                }
            ),
        )
        self.out.finding(
            "provider",
            "npi_derived",
            len(ids),
            "Synthea provider and organization ids are UUIDs, not NPIs: each was given a stable "
            "NPI-shaped number with a valid check digit, derived from the id (not a real NPI)",
        )

    # --- EHR side ----------------------------------------------------------------------------

    def _patients(self) -> None:
        self.tables["patient"] = self.arrow(
            f"""
            SELECT p.Id AS patient_id, p.FIRST AS first_name, p.LAST AS last_name,
                   {self._sex("p.GENDER")} AS sex,
                   p.BIRTHDATE AS birth_date, p.DEATHDATE AS death_date,
                   p.ADDRESS AS address, p.CITY AS city,
                   coalesce(st.code, p.STATE) AS state, p.ZIP AS zip_code,
                   coalesce(r.value, lower(p.RACE)) AS race,
                   coalesce(e.value, lower(p.ETHNICITY)) AS ethnicity,
                   '{DATA_SOURCE}' AS data_source, p.{ROW}, p.{FILE}
            FROM src_patients p
            LEFT JOIN ref_state st ON lower(p.STATE) = st.name
            LEFT JOIN ref_race r ON lower(p.RACE) = r.word
            LEFT JOIN ref_ethnicity e ON lower(p.ETHNICITY) = e.word
            ORDER BY p.{ROW}
            """
        )

    @staticmethod
    def _sex(col: str) -> str:
        return (
            f"CASE WHEN {col} IS NULL THEN NULL WHEN upper({col}) = 'M' THEN 'male' "
            f"WHEN upper({col}) = 'F' THEN 'female' ELSE 'unknown' END"
        )

    def _encounters(self) -> None:
        if not self.has("encounters.csv"):
            return
        self.tables["encounter"] = self.arrow(
            f"""
            SELECT e.Id AS encounter_id, e.PATIENT AS patient_id,
                   lower(e.ENCOUNTERCLASS) AS encounter_type,
                   {_day("e.START")} AS encounter_start_date,
                   {_day("e.STOP")} AS encounter_end_date,
                   pn.npi AS attending_provider_npi, o.npi AS facility_npi,
                   icd.icd AS primary_diagnosis_code,
                   '{DATA_SOURCE}' AS data_source, e.{ROW}, e.{FILE}
            FROM src_encounters e
            LEFT JOIN ref_npi pn ON pn.source_id = e.PROVIDER
            LEFT JOIN ref_npi o ON o.source_id = e.ORGANIZATION
            LEFT JOIN ref_icd icd ON icd.snomed = e.REASONCODE
            ORDER BY e.{ROW}
            """
        )

    def _encounter_npi_join(self, alias: str) -> str:
        if not self.has("encounters.csv"):
            return "LEFT JOIN (SELECT NULL AS npi, NULL AS Id) enc ON FALSE"
        return (
            f"LEFT JOIN (SELECT e.Id, n.npi FROM src_encounters e "
            f"LEFT JOIN ref_npi n ON n.source_id = e.PROVIDER) enc ON enc.Id = {alias}.ENCOUNTER"
        )

    def _conditions(self) -> None:
        if not self.has("conditions.csv"):
            return
        cid = _hash_id("cond", "PATIENT", "ENCOUNTER", "CODE", "START", "STOP")
        self.tables["condition"] = self.arrow(
            f"""
            SELECT {cid} AS condition_id, PATIENT AS patient_id, ENCOUNTER AS encounter_id,
                   {_day("START")} AS recorded_date, {_day("START")} AS onset_date,
                   {_day("STOP")} AS resolved_date, 'snomed-ct' AS source_code_type,
                   CODE AS source_code,
                   CASE WHEN STOP IS NULL THEN 'active' ELSE 'resolved' END AS status,
                   '{DATA_SOURCE}' AS data_source, {ROW}, {FILE}
            FROM src_conditions ORDER BY {ROW}
            """
        )

    def _procedures(self) -> None:
        if not self.has("procedures.csv"):
            return
        pid = _hash_id("proc", "p.PATIENT", "p.ENCOUNTER", "p.CODE", "p.START", "p.STOP")
        self.tables["procedure"] = self.arrow(
            f"""
            SELECT {pid} AS procedure_id, p.PATIENT AS patient_id, p.ENCOUNTER AS encounter_id,
                   {_day("p.START")} AS procedure_date, 'snomed-ct' AS source_code_type,
                   p.CODE AS source_code, enc.npi AS practitioner_npi,
                   '{DATA_SOURCE}' AS data_source, p.{ROW}, p.{FILE}
            FROM src_procedures p {self._encounter_npi_join("p")}
            ORDER BY p.{ROW}
            """
        )

    def _observations(self) -> None:
        if not self.has("observations.csv"):
            return
        oid = _hash_id(
            "obs", "PATIENT", "ENCOUNTER", "CATEGORY", "CODE", "DATE", "VALUE", "UNITS", "TYPE"
        )
        self.tables["observation"] = self.arrow(
            f"""
            SELECT {oid} AS observation_id, PATIENT AS patient_id, ENCOUNTER AS encounter_id,
                   {_day("DATE")} AS observation_date,
                   CASE WHEN regexp_matches(CODE, '^[0-9]{{1,7}}-[0-9]$') THEN 'loinc' END
                       AS source_code_type,
                   CODE AS source_code, VALUE AS result,
                   CASE WHEN TRY_CAST(VALUE AS DOUBLE) IS NOT NULL
                             AND coalesce(lower(TYPE), 'numeric') = 'numeric'
                        THEN trim(VALUE) END AS numeric_result,
                   UNITS AS units, '{DATA_SOURCE}' AS data_source, {ROW}, {FILE}
            FROM src_observations ORDER BY {ROW}
            """
        )

    def _immunizations(self) -> None:
        if not self.has("immunizations.csv"):
            return
        iid = _hash_id("imm", "PATIENT", "ENCOUNTER", "CODE", "DATE")
        self.tables["immunization"] = self.arrow(
            f"""
            SELECT {iid} AS immunization_id, PATIENT AS patient_id, ENCOUNTER AS encounter_id,
                   'cvx' AS source_code_type, CODE AS source_code,
                   DESCRIPTION AS source_description, 'completed' AS status,
                   {_day("DATE")} AS occurrence_date,
                   '{DATA_SOURCE}' AS data_source, {ROW}, {FILE}
            FROM src_immunizations ORDER BY {ROW}
            """
        )

    def _medications(self) -> None:
        if not self.has("medications.csv"):
            return
        mid = _hash_id(
            "med", "m.PATIENT", "m.ENCOUNTER", "m.CODE", "m.START", "m.STOP", "m.DISPENSES"
        )
        self.tables["medication"] = self.arrow(
            f"""
            SELECT {mid} AS medication_id, m.PATIENT AS patient_id, m.ENCOUNTER AS encounter_id,
                   {_day("m.START")} AS prescribing_date, m.CODE AS rxnorm_code,
                   enc.npi AS practitioner_npi,
                   '{DATA_SOURCE}' AS data_source, m.{ROW}, m.{FILE}
            FROM src_medications m {self._encounter_npi_join("m")}
            ORDER BY m.{ROW}
            """
        )

    # --- payer side ------------------------------------------------------------------------

    def _payer_lines(self) -> None:
        """Product line, payer type and enrollment status per payer (payers.csv is small)."""
        rows = []
        if self.has("payers.csv"):
            rows = self.con.sql("SELECT Id, NAME, OWNERSHIP FROM src_payers").fetchall()
        ids, names, types, lines, enrolled = [], [], [], [], []
        for pid, name, ownership in rows:
            payer_type, line, is_enrolled = payer_product_line(name, ownership)
            ids.append(pid)
            names.append(name)
            types.append(payer_type)
            lines.append(line)
            enrolled.append(is_enrolled)
        self.con.register(
            "ref_payer",
            pa.table(
                {
                    "Id": pa.array(ids, pa.string()),
                    "name": pa.array(names, pa.string()),
                    "payer_type": pa.array(types, pa.string()),
                    "product_line": pa.array(lines, pa.string()),
                    "enrolled": pa.array(enrolled, pa.bool_()),
                }
            ),
        )

    def _eligibility(self) -> None:
        self._payer_lines()
        spans = """
            SELECT t.*, py.name AS payer_name, py.payer_type, py.product_line,
                   coalesce(py.enrolled, TRUE) AS enrolled
            FROM src_payer_transitions t LEFT JOIN ref_payer py ON py.Id = t.PAYER
        """
        not_enrolled = self.con.sql(
            f"SELECT count(*), count(DISTINCT PATIENT) FROM ({spans}) WHERE NOT enrolled"
        ).fetchone()
        self.out.finding(
            "eligibility",
            "not_enrolled",
            not_enrolled[0],
            f"payer_transitions spans with NO_INSURANCE ({not_enrolled[1]} patients) are periods "
            "without coverage, not enrollment: no eligibility span was made for them",
        )
        start = _day("s.START_DATE")
        end = _day("s.END_DATE")
        self.tables["eligibility"] = self.arrow(
            f"""
            SELECT s.PATIENT AS member_id, p.FIRST AS first_name, p.LAST AS last_name,
                   {self._sex("p.GENDER")} AS gender,
                   coalesce(r.value, lower(p.RACE)) AS race,
                   coalesce(e.value, lower(p.ETHNICITY)) AS ethnicity,
                   p.BIRTHDATE AS birth_date, p.DEATHDATE AS death_date,
                   {start} AS enrollment_start_date,
                   CASE WHEN {end} IS NULL THEN NULL
                        WHEN TRY_CAST({end} AS DATE) > TRY_CAST({start} AS DATE)
                        THEN CAST(CAST({end} AS DATE) - INTERVAL 1 DAY AS DATE)::VARCHAR
                        ELSE {start} END AS enrollment_end_date,
                   s.payer_name AS payer, s.payer_type, s.product_line,
                   p.ADDRESS AS address, p.CITY AS city, coalesce(st.code, p.STATE) AS state,
                   p.ZIP AS zip_code, '{DATA_SOURCE}' AS data_source, s.{ROW}, s.{FILE}
            FROM ({spans}) s
            LEFT JOIN src_patients p ON p.Id = s.PATIENT
            LEFT JOIN ref_state st ON lower(p.STATE) = st.name
            LEFT JOIN ref_race r ON lower(p.RACE) = r.word
            LEFT JOIN ref_ethnicity e ON lower(p.ETHNICITY) = e.word
            WHERE s.enrolled
            ORDER BY s.{ROW}
            """
        )
        dual = self.con.sql(
            f"SELECT count(*) FROM ({spans}) WHERE lower(payer_name) = 'dual eligible'"
        ).fetchone()[0]
        self.out.finding(
            "eligibility",
            "dual_eligible_as_medicare",
            dual,
            "spans with Synthea's 'Dual Eligible' payer were loaded as medicare_ffs (Medicare is "
            "primary for dual-eligible members); dual_status_code is not known",
        )

    def _providers(self) -> None:
        parts = []
        if self.has("providers.csv"):
            org_join = (
                "LEFT JOIN src_organizations o ON o.Id = p.ORGANIZATION"
                if self.has("organizations.csv")
                else "LEFT JOIN (SELECT NULL AS Id, NULL AS NAME) o ON FALSE"
            )
            parts.append(
                f"""
                SELECT n.npi, 'individual' AS entity_type, p.NAME AS provider_name,
                       sp.taxonomy AS primary_taxonomy_code, sp.code AS cms_specialty_code,
                       p.SPECIALITY AS specialty, sp.primary_care AS primary_care_flag,
                       o.NAME AS health_system, substr(p.ZIP, 1, 5) AS practice_zip_code,
                       p.{ROW}, p.{FILE}
                FROM src_providers p
                LEFT JOIN ref_npi n ON n.source_id = p.Id
                LEFT JOIN ref_specialty sp ON sp.name = lower(trim(p.SPECIALITY))
                {org_join}
                """
            )
        if self.has("organizations.csv"):
            parts.append(
                f"""
                SELECT n.npi, 'organization' AS entity_type, o.NAME AS provider_name,
                       NULL AS primary_taxonomy_code, NULL AS cms_specialty_code,
                       NULL AS specialty, NULL AS primary_care_flag,
                       o.NAME AS health_system, substr(o.ZIP, 1, 5) AS practice_zip_code,
                       o.{ROW}, o.{FILE}
                FROM src_organizations o LEFT JOIN ref_npi n ON n.source_id = o.Id
                """
            )
        if parts:
            self.tables["provider"] = self.arrow(
                " UNION ALL ".join(parts) + f" ORDER BY {FILE}, {ROW}"
            )

    # --- claims ----------------------------------------------------------------------------

    def _claims(self) -> None:
        if not self.has("claims.csv", "claims_transactions.csv"):
            return
        con = self.con
        has_enc = self.has("encounters.csv")
        has_meds = self.has("medications.csv")
        con.execute(
            f"""
            CREATE TEMP TABLE tx AS
            SELECT * REPLACE (CASE WHEN starts_with(TODATE, '{EPOCH}') THEN FROMDATE
                                   ELSE TODATE END AS TODATE),
                   sum(CASE WHEN TYPE = 'CHARGE' THEN 1 ELSE 0 END) OVER (
                       PARTITION BY CLAIMID ORDER BY TRY_CAST(CHARGEID AS BIGINT), {ROW}
                       ROWS UNBOUNDED PRECEDING) AS line_no
            FROM src_claims_transactions
            """
        )
        con.execute(
            f"""
            CREATE TEMP TABLE tx2 AS
            SELECT *, sum(CASE WHEN TYPE = 'TRANSFERIN' AND TRANSFERTYPE = '2' THEN 1 ELSE 0 END)
                       OVER (PARTITION BY CLAIMID, line_no
                             ORDER BY TRY_CAST(CHARGEID AS BIGINT), {ROW}
                             ROWS UNBOUNDED PRECEDING) AS to_secondary
            FROM tx
            """
        )
        epoch = con.sql(
            f"SELECT count(*) FROM src_claims_transactions WHERE starts_with(TODATE, '{EPOCH}')"
        ).fetchone()[0]
        self.out.finding(
            "medical_claim",
            "epoch_to_date",
            epoch,
            f"claims_transactions rows with TODATE {EPOCH} (Synthea's empty date, on vaccine "
            "lines): the line ends on its FROMDATE",
        )
        orphans = con.sql("SELECT count(*) FROM tx2 WHERE line_no = 0").fetchone()[0]
        self.out.finding(
            "medical_claim",
            "transactions_before_charge",
            orphans,
            "claims_transactions rows that come before any CHARGE of their claim settle no line "
            "and were not used",
        )
        money = "CAST({} AS DECIMAL(18, 2))"
        con.execute(
            f"""
            CREATE TEMP TABLE lines AS
            SELECT CLAIMID AS claim_id, line_no,
                   arg_min({ROW}, {ROW}) FILTER (WHERE TYPE = 'CHARGE') AS {ROW},
                   arg_min({FILE}, {ROW}) FILTER (WHERE TYPE = 'CHARGE') AS {FILE},
                   arg_min(PROCEDURECODE, {ROW}) FILTER (WHERE TYPE = 'CHARGE') AS code,
                   arg_min(FROMDATE, {ROW}) FILTER (WHERE TYPE = 'CHARGE') AS from_date,
                   arg_min(TODATE, {ROW}) FILTER (WHERE TYPE = 'CHARGE') AS to_date,
                   arg_min(UNITS, {ROW}) FILTER (WHERE TYPE = 'CHARGE') AS units,
                   arg_min(PATIENTID, {ROW}) FILTER (WHERE TYPE = 'CHARGE') AS patient_id,
                   sum({money.format("AMOUNT")}) FILTER (WHERE TYPE = 'CHARGE') AS charge,
                   coalesce(sum({money.format("ADJUSTMENTS")})
                            FILTER (WHERE TYPE = 'ADJUSTMENT'), 0) AS adjustments,
                   coalesce(sum({money.format("PAYMENTS")}) FILTER (
                       WHERE TYPE = 'PAYMENT' AND METHOD = 'ECHECK' AND to_secondary = 0), 0)
                       AS primary_paid,
                   coalesce(sum({money.format("PAYMENTS")}) FILTER (
                       WHERE TYPE = 'PAYMENT' AND METHOD = 'ECHECK' AND to_secondary > 0), 0)
                       AS secondary_paid,
                   coalesce(sum({money.format("PAYMENTS")})
                            FILTER (WHERE TYPE = 'PAYMENT' AND METHOD = 'COPAY'), 0) AS copay,
                   coalesce(sum({money.format("PAYMENTS")}) FILTER (
                       WHERE TYPE = 'PAYMENT' AND METHOD IN ('CASH', 'CHECK', 'CC')), 0)
                       AS patient_paid
            FROM tx2 WHERE line_no > 0
            GROUP BY CLAIMID, line_no
            """
        )
        enc_cols = (
            "e.ENCOUNTERCLASS AS enc_class, e.CODE AS enc_code, e.START AS enc_start, "
            "e.STOP AS enc_stop, e.PROVIDER AS enc_provider, e.ORGANIZATION AS enc_org"
        )
        enc_join = (
            "LEFT JOIN src_encounters e ON e.Id = c.APPOINTMENTID"
            if has_enc
            else "LEFT JOIN (SELECT NULL AS Id) e ON FALSE"
        )
        if not has_enc:
            enc_cols = (
                "NULL AS enc_class, NULL AS enc_code, NULL AS enc_start, NULL AS enc_stop, "
                "NULL AS enc_provider, NULL AS enc_org"
            )
        med_test = (
            "EXISTS (SELECT 1 FROM src_medications m WHERE m.ENCOUNTER = c.APPOINTMENTID "
            "AND m.CODE = fl.code) AND fl.code IS DISTINCT FROM e.CODE"
            if has_meds
            else "FALSE"
        )
        con.execute(
            f"""
            CREATE TEMP TABLE claim_head AS
            SELECT c.Id AS head_id, c.{ROW} AS claim_row, c.PATIENTID,
                   c.HEALTHCARECLAIMTYPEID1 AS synthea_type,
                   {", ".join(f"c.DIAGNOSIS{i}" for i in range(1, 9))},
                   nullif(nullif(c.PRIMARYPATIENTINSURANCEID, ''), '0') AS payer_id,
                   py.name AS payer, py.Id IS NOT NULL AS payer_known,
                   coalesce(py.enrolled, FALSE) AS insured,
                   {enc_cols},
                   coalesce({med_test}, FALSE) AS is_medication
            FROM src_claims c
            LEFT JOIN ref_payer py ON py.Id = c.PRIMARYPATIENTINSURANCEID
            {enc_join}
            LEFT JOIN (SELECT claim_id, code FROM lines WHERE line_no = 1) fl
                   ON fl.claim_id = c.Id
            """
        )
        self._claim_findings()
        con.execute(
            f"""
            CREATE TEMP TABLE claim_lines AS
            SELECT l.*, h.*, cls.claim_type AS class_claim_type, cls.bill_type, cls.pos,
                   min({_day("l.from_date")}) OVER (PARTITION BY l.claim_id) AS claim_start,
                   max({_day("l.to_date")}) OVER (PARTITION BY l.claim_id) AS claim_end,
                   CASE WHEN h.head_id IS NULL
                            THEN 'claims_transactions line of a claim that is not in claims.csv'
                        WHEN h.payer_id IS NOT NULL AND NOT h.payer_known
                            THEN 'primary payer ' || h.payer_id || ' is not in payers.csv'
                        WHEN NOT h.insured
                            THEN 'self-pay claim (no insurance): not a payer claim line'
                   END AS problem
            FROM lines l
            LEFT JOIN claim_head h ON h.head_id = l.claim_id
            LEFT JOIN ref_class cls ON cls.class = lower(h.enc_class)
            """
        )
        # Lines that cannot be payer claim lines are quarantined with the reason.
        for claim_id, row, problem in con.sql(
            f"SELECT claim_id, {ROW}, problem FROM claim_lines WHERE problem IS NOT NULL "
            f"ORDER BY {ROW}"
        ).fetchall():
            self.out.bad(
                "medical_claim",
                "claims_transactions.csv",
                row,
                problem,
                field="CLAIMID",
                value=claim_id,
            )
        no_lines = con.sql(
            "SELECT count(*) FROM claim_head WHERE head_id NOT IN (SELECT claim_id FROM lines)"
        ).fetchone()[0]
        self.out.finding(
            "medical_claim",
            "claims_without_charges",
            no_lines,
            "claims.csv rows with no CHARGE in claims_transactions.csv have no lines to load",
        )
        claim_type = (
            "coalesce(class_claim_type, CASE synthea_type WHEN '2' THEN 'institutional' "
            "ELSE 'professional' END)"
        )
        self.tables["medical_claim"] = self.arrow(
            f"""
            SELECT claim_id, line_no AS claim_line_number, {claim_type} AS claim_type,
                   'original' AS adjustment_type, coalesce(PATIENTID, patient_id) AS member_id,
                   payer, claim_start AS claim_start_date, claim_end AS claim_end_date,
                   {_day("from_date")} AS claim_line_start_date,
                   {_day("to_date")} AS claim_line_end_date,
                   CASE WHEN lower(enc_class) = 'inpatient' THEN {_day("enc_start")} END
                       AS admission_date,
                   CASE WHEN lower(enc_class) = 'inpatient' THEN {_day("enc_stop")} END
                       AS discharge_date,
                   CASE WHEN {claim_type} = 'professional' THEN coalesce(pos, '11') END
                       AS place_of_service_code,
                   CASE WHEN {claim_type} = 'institutional' THEN bill_type END AS bill_type_code,
                   CASE WHEN lower(enc_class) = 'emergency' AND code = enc_code
                        THEN '{EMERGENCY_REVENUE_CODE}' END AS revenue_center_code,
                   units AS service_unit_quantity,
                   rn.npi AS rendering_npi, org.npi AS billing_npi,
                   CASE WHEN {claim_type} = 'institutional' THEN org.npi END AS facility_npi,
                   CAST(primary_paid AS VARCHAR) AS paid_amount,
                   CAST(charge - adjustments AS VARCHAR) AS allowed_amount,
                   CAST(charge AS VARCHAR) AS charge_amount,
                   CAST(copay AS VARCHAR) AS copayment_amount,
                   CAST(charge - adjustments - primary_paid AS VARCHAR) AS member_liability_amount,
                   '{DATA_SOURCE}' AS data_source, {ROW}, {FILE}
            FROM claim_lines
            LEFT JOIN ref_npi rn ON rn.source_id = enc_provider
            LEFT JOIN ref_npi org ON org.source_id = enc_org
            WHERE problem IS NULL AND NOT is_medication
            ORDER BY {ROW}
            """
        )
        pharmacy = self.arrow(
            f"""
            SELECT claim_id, line_no AS claim_line_number, 'original' AS adjustment_type,
                   coalesce(PATIENTID, patient_id) AS member_id, payer,
                   rn.npi AS prescribing_provider_npi,
                   {_day("from_date")} AS dispensing_date,
                   CAST(NULL AS VARCHAR) AS ndc_code, code AS rxnorm_code,
                   CAST(primary_paid AS VARCHAR) AS paid_amount,
                   CAST(charge - adjustments AS VARCHAR) AS allowed_amount,
                   CAST(charge AS VARCHAR) AS charge_amount,
                   CAST(copay AS VARCHAR) AS copayment_amount,
                   '{DATA_SOURCE}' AS data_source, {ROW}, {FILE}
            FROM claim_lines LEFT JOIN ref_npi rn ON rn.source_id = enc_provider
            WHERE problem IS NULL AND is_medication
            ORDER BY {ROW}
            """
        )
        if pharmacy.num_rows:
            self.tables["pharmacy_claim"] = pharmacy
            self.out.finding(
                "pharmacy_claim",
                "rxnorm_without_ndc",
                pharmacy.num_rows,
                "Synthea bills medications as claims coded in RxNorm; pharmacy_claim requires an "
                "11-digit NDC, which Synthea does not provide, so these fills are quarantined "
                "(the prescriptions themselves are in medication, with their RxNorm codes)",
            )
        self._claim_diagnoses()

    def _claim_findings(self) -> None:
        con = self.con
        sec = con.sql(
            "SELECT count(*), coalesce(sum(secondary_paid), 0) FROM lines WHERE secondary_paid > 0"
        ).fetchone()
        self.out.finding(
            "medical_claim",
            "secondary_payer_paid",
            sec[0],
            f"lines on which a secondary payer paid {sec[1]} in total: counted in "
            "member_liability_amount, not in paid_amount (paid is the primary payer's payment)",
        )
        disagree = con.sql(
            """
            SELECT count(*) FROM claim_head h JOIN ref_class c ON c.class = lower(h.enc_class)
            WHERE NOT h.is_medication AND h.synthea_type IN ('1', '2')
              AND c.claim_type <> CASE h.synthea_type WHEN '2' THEN 'institutional'
                                      ELSE 'professional' END
            """
        ).fetchone()[0]
        self.out.finding(
            "medical_claim",
            "claim_type_from_encounter_class",
            disagree,
            "claims whose type follows the encounter class and differs from Synthea's "
            "HEALTHCARECLAIMTYPEID1 (which reflects the billing organization)",
        )
        coded = con.sql(
            "SELECT count(*) FROM lines l JOIN claim_head h ON h.head_id = l.claim_id "
            "WHERE h.insured AND NOT h.is_medication"
        ).fetchone()[0]
        self.out.finding(
            "medical_claim",
            "hcpcs_not_coded",
            coded,
            "Synthea codes claim lines in SNOMED CT (services) and CVX (vaccines), not HCPCS/CPT: "
            "hcpcs_code is empty; the coded services are in procedure and immunization",
        )

    def _claim_diagnoses(self) -> None:
        """DIAGNOSIS1..8 of the medical claims → medical_claim_diagnosis (SNOMED → ICD-10-CM)."""
        con = self.con
        sources = self.out.sources
        claims_index = sources.index("claims.csv")
        parts = pa.table(
            {
                "position": pa.array(range(1, 9), pa.int64()),
                "file_index": pa.array(
                    [sources.part_index(claims_index, p - 1) for p in range(1, 9)], pa.int32()
                ),
            }
        )
        con.register("ref_dx_part", parts)
        unpivot = " UNION ALL ".join(
            f"SELECT head_id AS claim_id, claim_row, {i} AS position, DIAGNOSIS{i} AS snomed "
            f"FROM claim_head WHERE insured AND NOT is_medication AND DIAGNOSIS{i} IS NOT NULL "
            f"AND head_id IN (SELECT claim_id FROM lines)"
            for i in range(1, 9)
        )
        con.execute(
            f"""
            CREATE TEMP TABLE dx AS
            SELECT d.*, icd.icd,
                   row_number() OVER (PARTITION BY d.claim_id, d.snomed ORDER BY d.position)
                       AS occurrence
            FROM ({unpivot}) d LEFT JOIN ref_icd icd ON icd.snomed = d.snomed
            """
        )
        repeated = con.sql("SELECT count(*) FROM dx WHERE occurrence > 1").fetchone()[0]
        self.out.finding(
            "medical_claim_diagnosis",
            "diagnosis_repeated",
            repeated,
            "claim diagnosis positions that repeat a code listed earlier on the same claim "
            "(Synthea lists the encounter reason and the condition separately); loaded once",
        )
        for _claim_id, row, position, snomed in con.sql(
            "SELECT claim_id, claim_row, position, snomed FROM dx "
            "WHERE occurrence = 1 AND icd IS NULL ORDER BY claim_row, position"
        ).fetchall():
            self.out.bad(
                "medical_claim_diagnosis",
                "claims.csv",
                row,
                f"SNOMED CT {snomed} has no ICD-10-CM mapping in the shipped map "
                "(reference/snomed_icd10cm.csv)",
                field=f"DIAGNOSIS{position}",
                value=snomed,
            )
        self.tables["medical_claim_diagnosis"] = self.arrow(
            f"""
            SELECT d.claim_id, d.position AS diagnosis_sequence,
                   'icd-10-cm' AS diagnosis_code_type, d.icd AS diagnosis_code,
                   d.claim_row AS {ROW}, p.file_index AS {FILE}
            FROM dx d JOIN ref_dx_part p ON p.position = d.position
            WHERE d.occurrence = 1 AND d.icd IS NOT NULL
            ORDER BY d.claim_row, d.position
            """
        )


def payer_product_line(
    name: str | None, ownership: str | None
) -> tuple[str | None, str | None, bool]:
    """(payer_type, product_line, enrolled) for a Synthea payer.

    Medicare → medicare_ffs (Synthea models Original Medicare) unless the payer or plan name says
    Medicare Advantage; Dual Eligible → medicare_ffs (Medicare is primary); Medicaid → medicaid;
    NO_INSURANCE → not enrolled; every other payer (PRIVATE ownership) → commercial.
    """
    low = (name or "").strip().lower()
    owner = (ownership or "").strip().lower()
    if low == "no_insurance" or owner == "no_insurance":
        return None, None, False
    if "medicare advantage" in low or "medicare part c" in low:
        return "medicare", "medicare_advantage", True
    if "medicare" in low or low == "dual eligible":
        return "medicare", "medicare_ffs", True
    if "medicaid" in low:
        return "medicaid", "medicaid", True
    if owner == "government":
        return None, None, True
    return "commercial", "commercial", True
