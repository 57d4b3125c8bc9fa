"""FHIR R4 → canonical tables: Synthea transaction bundles and NDJSON bulk exports.

Input is a folder (or one file) of

* ``*.json``: one resource or one Bundle per file (Synthea writes one transaction bundle per
  patient, plus ``hospitalInformation*.json`` and ``practitionerInformation*.json``);
* ``*.ndjson`` (or ``*.ndjson.gz``): one resource per line, as a FHIR Bulk Data export writes
  them (``Patient.ndjson``, ``ExplanationOfBenefit.ndjson`` …).

Resources map to tables (rules in ``docs/readers.md``):

* EHR side: Patient → ``patient``, Encounter, Condition, Procedure, Observation (one row per
  component), Immunization, MedicationRequest → ``medication``;
* payer side: Coverage → ``eligibility`` (demographics from the member's Patient),
  ExplanationOfBenefit (CARIN Blue Button) → ``medical_claim`` lines with
  ``medical_claim_diagnosis`` and ``medical_claim_procedure``, or ``pharmacy_claim`` for pharmacy
  EOBs; Practitioner and Organization → ``provider``.

The reader streams: NDJSON line by line, bundles entry by entry (with ``ijson`` when it is
installed, else one ``json.load`` per bundle file, which holds one patient). Rows are gathered in
column lists and flushed every :data:`CHUNK_ROWS` rows as Arrow record batches to a spill file,
so memory does not grow with the input. What needs the whole export (does the subject Patient
exist, which Condition does a claim diagnosis point at, which NPI does a reference name) is
resolved afterwards in DuckDB over the spilled batches, not in Python loops over rows.

Nothing is dropped silently: a broken line is quarantined with file and line number, a resource
of a type the reader does not map is counted in a finding, and a row whose Patient is not in the
export is quarantined with the reference it names. For every table read = loaded + quarantined.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.ipc as ipc

from payvider.ingest.codes import luhn_npi_check_digit
from payvider.ingest.errors import InputRejected
from payvider.ingest.files import FILE, ROW
from payvider.ingest.findings import Finding
from payvider.ingest.load import RawBatch
from payvider.ingest.readers._common import (
    ETHNICITY_BY_CODE,
    RACE_BY_CODE,
    Collector,
    Progress,
    date_part,
    derived_npi,
    make_batch,
    quiet,
    snomed_map_rows,
    snomed_to_icd10cm,
    specialty_by_taxonomy,
    state_code,
    text_value,
)
from payvider.ingest.readers.synthea import payer_product_line
from payvider.schema import TABLES

try:  # optional: stream bundle entries instead of loading a bundle file whole
    import ijson as _ijson
except ImportError:  # pragma: no cover - depends on the environment
    _ijson = None

NAME = "fhir"
DATA_SOURCE = "fhir"
#: Rows gathered per table before they are written out as one Arrow record batch.
CHUNK_ROWS = 20_000
#: DuckDB's memory cap while references are resolved (beyond it, joins spill to disk).
RESOLVE_MEMORY = "256MB"

# --- code systems ------------------------------------------------------------------------------

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
NDC = "http://hl7.org/fhir/sid/ndc"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
ICD10CM = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
ICD10PCS = ("http://www.cms.gov/Medicare/Coding/ICD10", "http://hl7.org/fhir/sid/icd-10-pcs")
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = ("https://bluebutton.cms.gov/resources/codesystem/hcpcs", "urn:oid:2.16.840.1.113883.6.285")
NUCC = "http://nucc.org/provider-taxonomy"
#: Code system URL → canonical ``source_code_type``.
CODE_TYPES = {
    SNOMED: "snomed-ct",
    LOINC: "loinc",
    RXNORM: "rxnorm",
    CVX: "cvx",
    CPT: "cpt",
    **{s: "hcpcs" for s in HCPCS},
    **{s: "icd-10-cm" for s in ICD10CM},
    **{s: "icd-10-pcs" for s in ICD10PCS},
}
#: v3 ActCode encounter classes → encounter_type (the words Synthea's CSV export uses).
ENCOUNTER_CLASSES = {
    "AMB": "ambulatory",
    "EMER": "emergency",
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "SS": "outpatient",
    "OBSENC": "observation",
    "HH": "home",
    "VR": "virtual",
    "PRENC": "ambulatory",
    "FLD": "field",
}
#: CARIN BB and Blue Button adjudication categories → canonical amount column. The CARIN BB
#: codes (C4BBAdjudication and the base adjudication code system) and the CMS Blue Button
#: variables Synthea writes both appear in the wild.
ADJUDICATION = {
    "submitted": "charge_amount",
    "eligible": "allowed_amount",
    "benefit": "paid_amount",
    "paidtoprovider": "paid_amount",
    "copay": "copayment_amount",
    "deductible": "deductible_amount",
    "coinsurance": "coinsurance_amount",
    "memberliability": "member_liability_amount",
    "https://bluebutton.cms.gov/resources/variables/line_sbmtd_chrg_amt": "charge_amount",
    "https://bluebutton.cms.gov/resources/variables/line_alowd_chrg_amt": "allowed_amount",
    "https://bluebutton.cms.gov/resources/variables/line_prvdr_pmt_amt": "paid_amount",
    "https://bluebutton.cms.gov/resources/variables/line_coinsrnc_amt": "coinsurance_amount",
    "https://bluebutton.cms.gov/resources/variables/line_bene_ptb_ddctbl_amt": "deductible_amount",
}
AMOUNTS = (
    "charge_amount",
    "allowed_amount",
    "paid_amount",
    "copayment_amount",
    "deductible_amount",
    "coinsurance_amount",
    "member_liability_amount",
)
#: C4BB network status codes (supportingInfo billingnetworkcontractingstatus, adjudication
#: inoutnetwork) → in_network_flag.
NETWORK = {"innetwork": True, "contracted": True, "outofnetwork": False, "noncontracted": False}
#: EOB.related relationships that make this EOB a replacement of the related claim.
REPLACES = {"prior", "replaces"}

#: Resources the reader maps, and the table a broken record of each type counts against.
MAPPED = {
    "Patient": "patient",
    "Encounter": "encounter",
    "Condition": "condition",
    "Procedure": "procedure",
    "Observation": "observation",
    "Immunization": "immunization",
    "MedicationRequest": "medication",
    "Coverage": "eligibility",
    "ExplanationOfBenefit": "medical_claim",
    "Practitioner": "provider",
    "Organization": "provider",
}
#: Read for what they tell other resources, not loaded as rows of their own.
CONTEXT_ONLY = {
    "Claim": "the provider's bill; the payer's adjudicated version is the ExplanationOfBenefit",
    "PractitionerRole": "gives the specialty of its Practitioner",
}
EHR_TABLES = ("encounter", "condition", "procedure", "observation", "immunization", "medication")

#: Working columns a table carries until the references are resolved (dropped afterwards).
EXTRA = {
    "medical_claim_diagnosis": ("__member", "__condition", "__snomed"),
    "medical_claim_procedure": ("__member",),
}
NPI_COLUMNS = {
    "encounter": {"attending_provider_npi": "individual", "facility_npi": "organization"},
    "procedure": {"practitioner_npi": "individual"},
    "medication": {"practitioner_npi": "individual"},
    "medical_claim": {
        "rendering_npi": "individual",
        "billing_npi": "organization",
        "facility_npi": "organization",
    },
    "pharmacy_claim": {
        "prescribing_provider_npi": "individual",
        "dispensing_provider_npi": "organization",
    },
}


def looks_like(path: Path) -> bool:
    """NDJSON files, or JSON files that hold FHIR resources (``"resourceType"`` near the top)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.iterdir()) if path.is_dir() else []
    for p in files:
        if p.is_file() and p.name.endswith((".ndjson", ".ndjson.gz")):
            return True
        if p.is_file() and p.suffix == ".json":
            with p.open("rb") as f:
                if b'"resourceType"' in f.read(4096):
                    return True
    return False


def read(path: Path, progress: Progress | None = None) -> RawBatch:
    """Read a folder (or file) of FHIR R4 JSON bundles and NDJSON into a RawBatch."""
    say = progress or quiet
    path = Path(path)
    if not path.exists():
        raise InputRejected(str(path), "no such file or folder")
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    data = [p for p in files if p.name.endswith((".json", ".ndjson", ".ndjson.gz"))]
    if not data:
        raise InputRejected(str(path), "no FHIR .json or .ndjson files found")
    # Directory files (organizations, practitioners) first, so provider details are at hand.
    data.sort(key=lambda p: (not p.name.startswith(("hospital", "practitioner")), p.name))
    spill = Path(tempfile.mkdtemp(prefix="payvider-fhir-"))
    try:
        reader = _Reader(spill, say)
        for p in data:
            reader.read_file(p)
        reader.out.ignored_files = [p.name for p in files if p not in data]
        return reader.finish(str(path))
    finally:
        shutil.rmtree(spill, ignore_errors=True)


# --- small FHIR helpers ------------------------------------------------------------------------


def _codings(concept: dict | None) -> list[dict]:
    return (concept or {}).get("coding") or []


def _code(concept: dict | None, systems: str | tuple[str, ...] | None = None) -> str | None:
    """The first code of a CodeableConcept (from one of ``systems`` when given)."""
    if isinstance(systems, str):
        systems = (systems,)
    for c in _codings(concept):
        if systems is None or c.get("system") in systems:
            if c.get("code") is not None:
                return str(c["code"])
    return None


def _coded(concept: dict | None, prefer: tuple[str, ...] = ()) -> tuple[str | None, str | None]:
    """(source_code_type, code) of a CodeableConcept, preferring the listed systems."""
    codings = _codings(concept)
    for system in prefer:
        for c in codings:
            if c.get("system") == system and c.get("code"):
                return CODE_TYPES.get(system), str(c["code"])
    for c in codings:
        if c.get("code"):
            return CODE_TYPES.get(c.get("system", ""), c.get("system")), str(c["code"])
    return None, None


def _ref_id(ref: dict | None) -> str | None:
    """The id a literal reference points at (``Patient/123``, ``urn:uuid:123`` → ``123``)."""
    text = (ref or {}).get("reference")
    if not text:
        return None
    if text.startswith("urn:uuid:"):
        return text[9:]
    if "?" in text:
        return None
    parts = text.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        return parts[-3]
    return parts[-1]


def _provider_key(ref: dict | None) -> str | None:
    """A key for a reference to a Practitioner or Organization, resolved to an NPI later."""
    if not ref:
        return None
    ident = ref.get("identifier")
    if ident and ident.get("value"):
        return _ident_key(ident.get("system"), ident["value"])
    text = ref.get("reference") or ""
    if "?identifier=" in text:
        system, _, value = text.split("?identifier=", 1)[1].partition("|")
        return _ident_key(system, value) if value else _ident_key(None, system)
    rid = _ref_id(ref)
    return f"id|{rid}" if rid and not rid.startswith("#") else None


def _ident_key(system: str | None, value: str) -> str:
    if system == NPI_SYSTEM:
        return f"npi|{value}"
    return f"ident|{system or ''}|{value}"


def _period(resource: dict, *names: str) -> tuple[str | None, str | None]:
    """(start, end) dates from the first present of ``xDateTime``/``xPeriod``/``x`` fields."""
    for name in names:
        value = resource.get(name)
        if isinstance(value, dict):
            return date_part(value.get("start")), date_part(value.get("end"))
        if isinstance(value, str):
            return date_part(value), None
    return None, None


def _valid_npi(value: str) -> bool:
    return len(value) == 10 and value.isdigit() and str(luhn_npi_check_digit(value[:9])) == value[9]


def _money(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("value")
    return None if value is None else str(value)


# --- spilling rows as Arrow batches --------------------------------------------------------------


class _Sink:
    """One table's rows: column lists flushed to an Arrow IPC file every CHUNK_ROWS rows."""

    def __init__(self, table: str, folder: Path) -> None:
        self.name = table
        self.columns = [*TABLES[table].column_names, *EXTRA.get(table, ())]
        self.schema = pa.schema(
            [(c, pa.string()) for c in self.columns] + [(ROW, pa.int64()), (FILE, pa.int32())]
        )
        self.path = folder / f"{table}.arrow"
        self.writer: ipc.RecordBatchFileWriter | None = None
        self.buffer: dict[str, list] = {c: [] for c in self.schema.names}
        self.rows = 0

    def add(self, row: dict, record: int, file_index: int) -> None:
        buf = self.buffer
        for c in self.columns:
            buf[c].append(text_value(row.get(c)))
        buf[ROW].append(record)
        buf[FILE].append(file_index)
        self.rows += 1
        if len(buf[ROW]) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer[ROW]:
            return
        batch = pa.record_batch(
            [pa.array(self.buffer[n], self.schema.field(n).type) for n in self.schema.names],
            schema=self.schema,
        )
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), self.schema)
        self.writer.write_batch(batch)
        self.buffer = {c: [] for c in self.schema.names}

    def table(self) -> pa.Table:
        """Everything written, memory-mapped from the spill file (not copied into memory)."""
        self.flush()
        if self.writer is None:
            return self.schema.empty_table()
        self.writer.close()
        self.writer = None
        return _mapped(self.path)


def _mapped(path: Path) -> pa.Table:
    """An Arrow IPC file as a table backed by a memory map; the file itself is unlinked."""
    source = pa.memory_map(str(path), "r")
    table = ipc.open_file(source).read_all()
    os.unlink(path)  # the mapping stays valid; the space is freed when the table is
    return table


# --- the reader ------------------------------------------------------------------------------------


class _Bad(Exception):
    """A resource that cannot become a canonical row: field and reason for the quarantine."""

    def __init__(self, reason: str, field: str | None = None, value: object = None) -> None:
        super().__init__(reason)
        self.reason, self.field, self.value = reason, field, value


class _Reader:
    def __init__(self, spill: Path, say: Progress) -> None:
        self.spill = spill
        self.say = say
        self.out = Collector()
        self.sinks: dict[str, _Sink] = {}
        self.unmapped: Counter[str] = Counter()
        self.context: Counter[str] = Counter()
        self.resources = 0
        # Small directories (one entry per clinician, organization or payer, not per row).
        self.provider_npi: dict[str, str] = {}  # reference key -> NPI
        self.org_names: dict[str, str] = {}  # Organization id -> name
        self.specialty: dict[str, str] = {}  # practitioner key -> NUCC taxonomy code
        self.diagnosis_items = 0
        self.unplaced: list[str] = []
        self.eob_types: Counter[str] = Counter()

    # --- files ---------------------------------------------------------------------------

    def read_file(self, path: Path) -> None:
        self.say(f"reading {path.name}")
        index = self.out.sources.add(path)
        if path.name.endswith((".ndjson", ".ndjson.gz")):
            self._read_ndjson(path, index)
        else:
            self._read_json(path, index)

    def _read_ndjson(self, path: Path, index: int) -> None:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    resource = json.loads(line, parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    self._quarantine(
                        _table_of_file(path.name),
                        path.name,
                        number,
                        f"not valid JSON: {exc.msg} (line {number}, column {exc.colno})",
                        value=line.strip()[:80],
                    )
                    continue
                self.resource(resource, path.name, index, number)

    def _read_json(self, path: Path, index: int) -> None:
        if _ijson is not None:
            try:
                found = 0
                with path.open("rb") as f:
                    for number, entry in enumerate(_ijson.items(f, "entry.item"), start=1):
                        found += 1
                        self._entry(entry, path.name, index, number)
                if found:
                    return
            except _ijson.JSONError:
                _json_error(path)  # raises with the line number
                raise
        try:
            with path.open(encoding="utf-8") as f:
                document = json.load(f, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InputRejected(
                path.name, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        except UnicodeDecodeError:
            raise InputRejected(path.name, "not UTF-8 text") from None
        if isinstance(document, dict) and document.get("resourceType") == "Bundle":
            for number, entry in enumerate(document.get("entry") or [], start=1):
                self._entry(entry, path.name, index, number)
        else:
            self.resource(document, path.name, index, 1)

    def _entry(self, entry: object, file: str, index: int, number: int) -> None:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            self._quarantine(None, file, number, "bundle entry without a resource")
            return
        self.resource(resource, file, index, number)

    # --- resources -------------------------------------------------------------------------

    def resource(self, resource: object, file: str, index: int, record: int) -> None:
        """Map one resource; a problem quarantines it with its file and record number."""
        self.resources += 1
        if not isinstance(resource, dict) or not resource.get("resourceType"):
            self._quarantine(
                _table_of_file(file), file, record, "not a FHIR resource (no resourceType)"
            )
            return
        kind = resource["resourceType"]
        handler = getattr(self, f"_{kind.lower()}", None)
        if kind in CONTEXT_ONLY:
            self.context[kind] += 1
            if handler is not None:
                handler(resource)
            return
        if kind not in MAPPED:
            self.unmapped[kind] += 1
            return
        try:
            rows = list(handler(resource))
        except _Bad as bad:
            table = MAPPED[kind]
            if kind == "ExplanationOfBenefit" and _eob_kind(resource) == "pharmacy":
                table = "pharmacy_claim"
            self._quarantine(table, file, record, f"{kind}: {bad.reason}", bad.field, bad.value)
            return
        for table, row, part in rows:
            self._add(table, row, index, record, part)

    def _quarantine(
        self,
        table: str | None,
        file: str,
        record: int,
        reason: str,
        field: str | None = None,
        value: object = None,
    ) -> None:
        if table is None:  # counts against no table: reported with file and line instead
            self.unplaced.append(f"{file} line {record}: {reason}")
            return
        if table not in self.sinks:
            self.sinks[table] = _Sink(table, self.spill)
        self.out.bad(table, file, record, reason, field, value)

    def _add(self, table: str, row: dict, index: int, record: int, part: int) -> None:
        sink = self.sinks.get(table)
        if sink is None:
            sink = self.sinks[table] = _Sink(table, self.spill)
        row.setdefault("data_source", DATA_SOURCE)
        sink.add(row, record, self.out.sources.part_index(index, part))

    # Each handler yields (table, row, part): part numbers the rows made from one resource.

    def _patient(self, r: dict):
        pid = _required_id(r)
        name = next((n for n in r.get("name") or [] if n.get("use") in (None, "official")), None)
        name = name or (r.get("name") or [{}])[0]
        address = (r.get("address") or [{}])[0]
        phone = next(
            (t.get("value") for t in r.get("telecom") or [] if t.get("system") == "phone"), None
        )
        race = ethnicity = None
        for ext in r.get("extension") or []:
            url = ext.get("url", "")
            if url.endswith("us-core-race") or url.endswith("us-core-ethnicity"):
                code = next(
                    (
                        e.get("valueCoding", {}).get("code")
                        for e in ext.get("extension") or []
                        if e.get("url") == "ombCategory"
                    ),
                    None,
                )
                if url.endswith("race"):
                    race = RACE_BY_CODE.get(code or "", code)
                else:
                    ethnicity = ETHNICITY_BY_CODE.get(code or "", code)
        gender = r.get("gender")
        yield (
            "patient",
            {
                "patient_id": pid,
                "first_name": " ".join(name.get("given") or []) or None,
                "last_name": name.get("family"),
                "sex": gender if gender in ("male", "female") else ("unknown" if gender else None),
                "birth_date": r.get("birthDate"),
                "death_date": date_part(r.get("deceasedDateTime")),
                "address": " ".join(address.get("line") or []) or None,
                "city": address.get("city"),
                "state": state_code(address.get("state")),
                "zip_code": (address.get("postalCode") or "")[:5] or None,
                "phone": phone,
                "race": race,
                "ethnicity": ethnicity,
            },
            0,
        )

    def _encounter(self, r: dict):
        cls = (r.get("class") or {}).get("code")
        start, end = _period(r, "period")
        attending = None
        for p in r.get("participant") or []:
            attending = attending or _provider_key(p.get("individual"))
        reason = None
        for concept in r.get("reasonCode") or []:
            reason = reason or _icd10cm(concept)
        yield (
            "encounter",
            {
                "encounter_id": _required_id(r),
                "patient_id": _subject(r, "subject"),
                "encounter_type": ENCOUNTER_CLASSES.get(cls or "", (cls or "").lower() or None),
                "encounter_start_date": start,
                "encounter_end_date": end,
                "attending_provider_npi": attending,
                "facility_npi": _provider_key(r.get("serviceProvider")),
                "primary_diagnosis_code": reason,
            },
            0,
        )

    def _condition(self, r: dict):
        code_type, code = _coded(r.get("code"), prefer=(*ICD10CM, SNOMED))
        onset, _ = _period(r, "onsetDateTime", "onsetPeriod")
        resolved, _ = _period(r, "abatementDateTime", "abatementPeriod")
        recorded = date_part(r.get("recordedDate")) or onset
        yield (
            "condition",
            {
                "condition_id": _required_id(r),
                "patient_id": _subject(r, "subject"),
                "encounter_id": _ref_id(r.get("encounter")),
                "recorded_date": recorded,
                "onset_date": onset,
                "resolved_date": resolved,
                "source_code_type": code_type,
                "source_code": code.replace(".", "") if code_type == "icd-10-cm" else code,
                "status": _code(r.get("clinicalStatus")),
            },
            0,
        )

    def _procedure(self, r: dict):
        code_type, code = _coded(r.get("code"), prefer=(CPT, *HCPCS, *ICD10PCS, SNOMED))
        start, _ = _period(r, "performedDateTime", "performedPeriod")
        performer = next((p.get("actor") for p in r.get("performer") or []), None)
        yield (
            "procedure",
            {
                "procedure_id": _required_id(r),
                "patient_id": _subject(r, "subject"),
                "encounter_id": _ref_id(r.get("encounter")),
                "procedure_date": start,
                "source_code_type": code_type,
                "source_code": code,
                "practitioner_npi": _provider_key(performer),
            },
            0,
        )

    def _observation(self, r: dict):
        oid = _required_id(r)
        base = {
            "patient_id": _subject(r, "subject"),
            "encounter_id": _ref_id(r.get("encounter")),
            "observation_date": _period(r, "effectiveDateTime", "effectivePeriod", "issued")[0],
        }
        rows = []
        if _has_value(r) or not r.get("component"):
            rows.append((oid, r))
        for i, comp in enumerate(r.get("component") or [], start=1):
            rows.append((f"{oid}-c{i}", comp))
        for part, (row_id, item) in enumerate(rows):
            code_type, code = _coded(item.get("code"), prefer=(LOINC,))
            yield (
                "observation",
                {
                    "observation_id": row_id,
                    **base,
                    "source_code_type": code_type,
                    "source_code": code,
                    **_value(item),
                },
                part,
            )

    def _immunization(self, r: dict):
        yield (
            "immunization",
            {
                "immunization_id": _required_id(r),
                "patient_id": _subject(r, "patient"),
                "encounter_id": _ref_id(r.get("encounter")),
                "source_code_type": "cvx",
                "source_code": _code(r.get("vaccineCode"), CVX),
                "source_description": (r.get("vaccineCode") or {}).get("text"),
                "status": r.get("status"),
                "occurrence_date": _period(r, "occurrenceDateTime")[0],
            },
            0,
        )

    def _medicationrequest(self, r: dict):
        concept = r.get("medicationCodeableConcept")
        ref = (r.get("medicationReference") or {}).get("reference", "")
        if concept is None and ref.startswith("#"):
            contained = {c.get("id"): c for c in r.get("contained") or []}
            concept = (contained.get(ref[1:]) or {}).get("code")
        dispense = r.get("dispenseRequest") or {}
        supply = (dispense.get("expectedSupplyDuration") or {}).get("value")
        yield (
            "medication",
            {
                "medication_id": _required_id(r),
                "patient_id": _subject(r, "subject"),
                "encounter_id": _ref_id(r.get("encounter")),
                "prescribing_date": date_part(r.get("authoredOn")),
                "rxnorm_code": _code(concept, RXNORM),
                "ndc_code": _code(concept, NDC),
                "quantity": (dispense.get("quantity") or {}).get("value"),
                "days_supply": None if supply is None else int(supply),
                "practitioner_npi": _provider_key(r.get("requester")),
            },
            0,
        )

    def _coverage(self, r: dict):
        start, end = _period(r, "period")
        payer = None
        for p in r.get("payor") or []:
            payer = payer or p.get("display") or (f"org|{_ref_id(p)}" if _ref_id(p) else None)
        plan = None
        for c in r.get("class") or []:
            if _code(c.get("type")) == "plan":
                plan = c.get("name") or c.get("value")
        payer_type, product_line = _product_line(r.get("type"), payer)
        yield (
            "eligibility",
            {
                "member_id": _subject(r, "beneficiary"),
                "subscriber_id": r.get("subscriberId"),
                "enrollment_start_date": start,
                "enrollment_end_date": end,
                "payer": payer,
                "payer_type": payer_type,
                "product_line": product_line,
                "plan": plan,
            },
            0,
        )

    def _practitioner(self, r: dict):
        rid = _required_id(r)
        npi, canonical = _npi_of(r, rid, "individual")
        self._register(r, canonical)
        name = (r.get("name") or [{}])[0]
        taxonomy = None
        for q in r.get("qualification") or []:
            taxonomy = taxonomy or _code(q.get("code"), NUCC)
        taxonomy = taxonomy or self.specialty.get(f"npi|{npi}") or self.specialty.get(f"id|{rid}")
        spec = specialty_by_taxonomy().get(taxonomy or "", {})
        address = (r.get("address") or [{}])[0]
        yield (
            "provider",
            {
                "npi": canonical,
                "entity_type": "individual",
                "provider_name": " ".join(
                    [*(name.get("given") or []), name.get("family") or ""]
                ).strip()
                or name.get("text"),
                "primary_taxonomy_code": taxonomy,
                "cms_specialty_code": spec.get("cms_specialty_code"),
                "specialty": spec.get("specialty"),
                "primary_care_flag": spec.get("primary_care"),
                "practice_zip_code": (address.get("postalCode") or "")[:5] or None,
            },
            0,
        )

    def _organization(self, r: dict):
        rid = _required_id(r)
        _, canonical = _npi_of(r, rid, "organization")
        self._register(r, canonical)
        if r.get("name"):
            self.org_names[rid] = r["name"]
        address = (r.get("address") or [{}])[0]
        tin = next(
            (
                i.get("value")
                for i in r.get("identifier") or []
                if i.get("system") == "urn:oid:2.16.840.1.113883.4.4"
                or _code(i.get("type")) == "TAX"
            ),
            None,
        )
        if _is_payer(r):
            return  # a payer organization names a payer; it is not a provider
        yield (
            "provider",
            {
                "npi": canonical,
                "entity_type": "organization",
                "provider_name": r.get("name"),
                "tin": tin,
                "health_system": (r.get("partOf") or {}).get("display") or r.get("name"),
                "practice_zip_code": (address.get("postalCode") or "")[:5] or None,
            },
            0,
        )

    def _practitionerrole(self, r: dict) -> None:
        taxonomy = None
        for concept in [*(r.get("specialty") or []), *(r.get("code") or [])]:
            taxonomy = taxonomy or _code(concept, NUCC)
        key = _provider_key(r.get("practitioner"))
        if key and taxonomy:
            self.specialty.setdefault(key, taxonomy)

    def _claim(self, r: dict) -> None:
        return None

    def _register(self, r: dict, npi: str) -> None:
        self.provider_npi[f"id|{r['id']}"] = npi
        for ident in r.get("identifier") or []:
            if ident.get("value"):
                self.provider_npi[_ident_key(ident.get("system"), ident["value"])] = npi

    # --- ExplanationOfBenefit --------------------------------------------------------------

    def _explanationofbenefit(self, r: dict):
        kind = _eob_kind(r)
        self.eob_types[kind] += 1
        claim_id = _claim_id(r)
        member = _subject(r, "patient")
        payer = (r.get("insurer") or {}).get("display")
        if payer is None and _ref_id(r.get("insurer")):
            payer = f"org|{_ref_id(r.get('insurer'))}"
        info = _supporting_info(r)
        status = r.get("status")
        related = next(
            (
                _related_claim(x)
                for x in r.get("related") or []
                if _code(x.get("relationship")) in REPLACES or status == "cancelled"
            ),
            None,
        )
        adjustment = "void" if status == "cancelled" else "replacement" if related else "original"
        team = {t.get("sequence"): t for t in r.get("careTeam") or []}
        by_role = {_code(t.get("role")): _provider_key(t.get("provider")) for t in team.values()}
        paid_date = date_part((r.get("payment") or {}).get("date"))
        network = info.get("billingnetworkcontractingstatus")
        head = {
            "claim_id": claim_id,
            "adjustment_type": adjustment,
            "adjusted_claim_id": related,
            "member_id": member,
            "payer": payer,
            "paid_date": paid_date,
        }
        items = []
        for item in r.get("item") or []:
            has_amounts = item.get("adjudication") or item.get("net")
            if not has_amounts and item.get("diagnosisSequence"):
                self.diagnosis_items += 1  # Synthea lists the claim's diagnoses as items too
                continue
            items.append(item)
        if not items:
            raise _Bad("no item (service line) to load", "item")

        if kind == "pharmacy":
            prescriber = by_role.get("prescribing") or _provider_key(r.get("provider"))
            for part, item in enumerate(items):
                amounts, item_network = _adjudication(item)
                start, _ = _period(item, "servicedDate", "servicedPeriod")
                item_info = {**info, **_item_info(r, item)}
                yield (
                    "pharmacy_claim",
                    {
                        **head,
                        "claim_line_number": item.get("sequence", part + 1),
                        "prescribing_provider_npi": prescriber,
                        "dispensing_provider_npi": _provider_key(r.get("provider"))
                        if by_role.get("prescribing")
                        else None,
                        "dispensing_date": start or _period(r, "billablePeriod")[0],
                        "ndc_code": _code(item.get("productOrService"), NDC),
                        "rxnorm_code": _code(item.get("productOrService"), RXNORM),
                        "quantity": (item.get("quantity") or {}).get("value"),
                        "days_supply": item_info.get("dayssupply"),
                        "refills": item_info.get("refillnum"),
                        "in_network_flag": NETWORK.get(item_network or network or ""),
                        **{k: v for k, v in amounts.items() if k != "member_liability_amount"},
                    },
                    part,
                )
            return

        claim_type = "institutional" if kind == "institutional" else "professional"
        lines = []
        for item in items:
            start, end = _period(item, "servicedDate", "servicedPeriod")
            lines.append((item, start, end or start))
        starts = [s for _, s, _ in lines if s]
        ends = [e for _, _, e in lines if e]
        billable = _period(r, "billablePeriod")
        claim_start = min(starts) if starts else billable[0]
        claim_end = max(ends) if ends else billable[1]
        admission = info.get("admissionperiod") or (None, None)
        if not isinstance(admission, tuple):
            admission = (None, None)
        rendering_default = (
            by_role.get("rendering")
            or by_role.get("performing")
            or by_role.get("primary")
            or by_role.get("attending")
        )
        part = 0
        for item, start, end in lines:
            amounts, item_network = _adjudication(item)
            concept = item.get("productOrService")
            modifiers = [_code(m) for m in item.get("modifier") or []]
            rendering = rendering_default
            for seq in item.get("careTeamSequence") or []:
                if seq in team:
                    rendering = _provider_key(team[seq].get("provider"))
                    break
            yield (
                "medical_claim",
                {
                    **head,
                    "claim_line_number": item.get("sequence", part + 1),
                    "claim_type": claim_type,
                    "claim_start_date": claim_start,
                    "claim_end_date": claim_end,
                    "claim_line_start_date": start,
                    "claim_line_end_date": end,
                    "admission_date": admission[0],
                    "discharge_date": admission[1],
                    "admit_source_code": info.get("pointoforigin"),
                    "admit_type_code": info.get("admtype"),
                    "discharge_disposition_code": info.get("discharge-status"),
                    "bill_type_code": info.get("typeofbill")
                    if claim_type == "institutional"
                    else None,
                    "drg_code": info.get("drg"),
                    "drg_code_type": "ms-drg" if info.get("drg") else None,
                    "place_of_service_code": _code(item.get("locationCodeableConcept"))
                    if claim_type == "professional"
                    else None,
                    "revenue_center_code": _code(item.get("revenue")),
                    "service_unit_quantity": (item.get("quantity") or {}).get("value"),
                    "hcpcs_code": _code(concept, (CPT, *HCPCS)),
                    **{f"hcpcs_modifier_{i}": m for i, m in enumerate(modifiers[:5], start=1)},
                    "rendering_npi": rendering,
                    "billing_npi": _provider_key(r.get("provider")),
                    "facility_npi": _provider_key(r.get("facility"))
                    if claim_type == "institutional"
                    else None,
                    "in_network_flag": NETWORK.get(item_network or network or ""),
                    **amounts,
                },
                part,
            )
            part += 1
        for d in r.get("diagnosis") or []:
            concept = d.get("diagnosisCodeableConcept")
            icd = _code(concept, ICD10CM)
            yield (
                "medical_claim_diagnosis",
                {
                    "claim_id": claim_id,
                    "diagnosis_sequence": d.get("sequence"),
                    "diagnosis_code_type": "icd-10-cm",
                    "diagnosis_code": icd.replace(".", "") if icd else None,
                    "present_on_admission": _code(d.get("onAdmission")),
                    "__member": member,
                    "__condition": _ref_id(d.get("diagnosisReference")),
                    "__snomed": _code(concept, SNOMED),
                },
                part,
            )
            part += 1
        for p in r.get("procedure") or []:
            yield (
                "medical_claim_procedure",
                {
                    "claim_id": claim_id,
                    "procedure_sequence": p.get("sequence"),
                    "procedure_code_type": "icd-10-pcs",
                    "procedure_code": _code(p.get("procedureCodeableConcept"), ICD10PCS),
                    "procedure_date": date_part(p.get("date")),
                    "__member": member,
                },
                part,
            )
            part += 1

    # --- after the last file: references, in DuckDB ------------------------------------------

    def finish(self, source: str) -> RawBatch:
        """Resolve references over the spilled rows and assemble the RawBatch."""
        out = self.out
        if self.unmapped:
            listing = ", ".join(f"{k} {v}" for k, v in sorted(self.unmapped.items()))
            out.findings.append(
                Finding(
                    "resources",
                    "resources_not_mapped",
                    sum(self.unmapped.values()),
                    "resources of types without a canonical table were read and not loaded: "
                    + listing,
                )
            )
        if self.context:
            listing = ", ".join(
                f"{k} {v} ({CONTEXT_ONLY[k]})" for k, v in sorted(self.context.items())
            )
            out.findings.append(
                Finding(
                    "resources",
                    "resources_for_context",
                    sum(self.context.values()),
                    "resources read for what they tell others, not loaded as rows: " + listing,
                )
            )
        if self.unplaced:
            shown = "; ".join(self.unplaced[:10])
            more = f" (and {len(self.unplaced) - 10} more)" if len(self.unplaced) > 10 else ""
            out.findings.append(
                Finding(
                    "resources",
                    "records_not_read",
                    len(self.unplaced),
                    f"records that are not FHIR resources, in files not named after a resource "
                    f"type, were not loaded: {shown}{more}",
                )
            )
        out.finding(
            "medical_claim",
            "diagnosis_items_skipped",
            self.diagnosis_items,
            "ExplanationOfBenefit items with no amounts that only point at a claim diagnosis "
            "(Synthea lists the diagnoses as items) are not service lines and were not loaded",
        )
        if self.eob_types and "eligibility" not in self.sinks:
            out.finding(
                "eligibility",
                "no_coverage",
                sum(self.eob_types.values()),
                "the export has ExplanationOfBenefit but no Coverage resources: no enrollment "
                "spans could be made (Synthea bundles carry coverage only inside each EOB)",
            )
        tables = {name: sink.table() for name, sink in self.sinks.items()}
        # A database file in the spill folder and a small memory cap: the lookup tables live on
        # disk and the joins spill, so resolution memory does not grow with the export.
        con = duckdb.connect(
            str(self.spill / "resolve.duckdb"),
            config={
                "memory_limit": RESOLVE_MEMORY,
                # One thread: the rows come out in the same order every time (parallel joins
                # interleave their output differently from run to run).
                "threads": 1,
                "temp_directory": str(self.spill / "duckdb-tmp"),
            },
        )
        try:
            self._lookups(con, tables)
            final = {name: self._resolve(con, name, data) for name, data in tables.items()}
        finally:
            con.close()
        return make_batch(source, NAME, out.sources, final, out)

    def _lookups(self, con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
        """Register the patients, condition codes, NPI and payer directories with DuckDB."""
        patient = tables.get("patient", _Sink("patient", self.spill).schema.empty_table())
        con.register("t_patient", patient)
        con.execute(
            f"CREATE TABLE pat AS SELECT * FROM t_patient "
            f"QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY {FILE}, {ROW}) = 1"
        )
        condition = tables.get("condition", _Sink("condition", self.spill).schema.empty_table())
        con.register(
            "t_condition", condition.select(["condition_id", "source_code_type", "source_code"])
        )
        con.execute(
            "CREATE TABLE cond AS SELECT condition_id, any_value(source_code_type) AS ctype, "
            "any_value(source_code) AS code FROM t_condition GROUP BY condition_id"
        )
        rows = snomed_map_rows()
        con.register(
            "t_icd",
            pa.table(
                {
                    "snomed": [r["snomed_code"] for r in rows],
                    "icd": [r["icd10cm_code"].replace(".", "") for r in rows],
                }
            ),
        )
        con.execute("CREATE TABLE icd AS SELECT snomed, min(icd) AS icd FROM t_icd GROUP BY snomed")
        # Provider references → NPIs: the directory built while reading, else the NPI the
        # reference carries, else an NPI derived from the id (as the Synthea CSV reader does).
        keys: dict[tuple[str, str], None] = {}
        for name, columns in NPI_COLUMNS.items():
            if name not in tables:
                continue
            for column, kind in columns.items():
                for value in tables[name].column(column).unique().to_pylist():
                    if value is not None:
                        keys[(value, kind)] = None
        con.register(
            "ref_npi",
            pa.table(
                {
                    "key": pa.array([k for k, _ in keys], pa.string()),
                    "kind": pa.array([kind for _, kind in keys], pa.string()),
                    "npi": pa.array([self._npi_for(k, kind) for k, kind in keys], pa.string()),
                }
            ),
        )
        specialties = specialty_by_taxonomy()
        spec_rows: dict[str, dict] = {}
        for key, taxonomy in self.specialty.items():
            npi = self.provider_npi.get(key)
            if npi is not None:
                spec_rows.setdefault(npi, {"taxonomy": taxonomy, **specialties.get(taxonomy, {})})
        con.register(
            "ref_spec",
            pa.table(
                {
                    "npi": pa.array(list(spec_rows), pa.string()),
                    "primary_taxonomy_code": pa.array(
                        [r["taxonomy"] for r in spec_rows.values()], pa.string()
                    ),
                    "cms_specialty_code": pa.array(
                        [r.get("cms_specialty_code") for r in spec_rows.values()], pa.string()
                    ),
                    "specialty": pa.array(
                        [r.get("specialty") for r in spec_rows.values()], pa.string()
                    ),
                    "primary_care_flag": pa.array(
                        [r.get("primary_care") for r in spec_rows.values()], pa.string()
                    ),
                }
            ),
        )
        con.register(
            "ref_org",
            pa.table(
                {
                    "key": pa.array([f"org|{k}" for k in self.org_names], pa.string()),
                    "name": pa.array(list(self.org_names.values()), pa.string()),
                }
            ),
        )

    def _npi_for(self, key: str, kind: str) -> str:
        if key in self.provider_npi:
            return self.provider_npi[key]
        what, _, rest = key.partition("|")
        if what == "npi" and _valid_npi(rest):
            return rest
        return derived_npi(rest.rpartition("|")[2] if what == "ident" else rest, kind)

    def _resolve(self, con: duckdb.DuckDBPyConnection, name: str, data: pa.Table) -> pa.Table:
        """Quarantine rows whose references do not resolve; fill in what references name."""
        self.say(f"resolving {name}")
        con.register("t_" + name, data)
        joins: list[str] = []
        replace: dict[str, str] = {}
        checks: list[tuple[str, str, str, str]] = []  # (condition, reason, field, value)
        subject = {
            **dict.fromkeys(EHR_TABLES, ("patient_id", "subject Patient/")),
            "eligibility": ("member_id", "Coverage: beneficiary Patient/"),
            "medical_claim": ("member_id", "ExplanationOfBenefit: patient Patient/"),
            "pharmacy_claim": ("member_id", "ExplanationOfBenefit: patient Patient/"),
            "medical_claim_diagnosis": ("__member", "ExplanationOfBenefit: patient Patient/"),
            "medical_claim_procedure": ("__member", "ExplanationOfBenefit: patient Patient/"),
        }.get(name)
        if subject is not None:
            col, words = subject
            joins.append(f"LEFT JOIN pat ON pat.patient_id = x.{col}")
            checks.append(
                (
                    f"x.{col} IS NOT NULL AND pat.patient_id IS NULL",
                    f"'{words}' || x.{col} || ' is not in the export'",
                    "'member_id'" if col == "__member" else f"'{col}'",
                    f"x.{col}",
                )
            )
        for i, (column, kind) in enumerate(NPI_COLUMNS.get(name, {}).items()):
            joins.append(
                f"LEFT JOIN ref_npi n{i} ON n{i}.key = x.{column} AND n{i}.kind = '{kind}'"
            )
            replace[column] = f"n{i}.npi"
        if name in ("eligibility", "medical_claim", "pharmacy_claim"):
            joins.append("LEFT JOIN ref_org o ON o.key = x.payer")
            replace["payer"] = (
                "CASE WHEN starts_with(x.payer, 'org|') "
                "THEN coalesce(o.name, 'Organization/' || substr(x.payer, 5)) ELSE x.payer END"
            )
        if name == "provider":
            joins.append("LEFT JOIN ref_spec s ON s.npi = x.npi")
            for column in ("primary_taxonomy_code", "cms_specialty_code", "specialty"):
                replace[column] = f"coalesce(x.{column}, s.{column})"
            replace["primary_care_flag"] = "coalesce(x.primary_care_flag, s.primary_care_flag)"
        if name == "eligibility":
            demographics = (
                "first_name",
                "last_name",
                "race",
                "ethnicity",
                "birth_date",
                "death_date",
                "address",
                "city",
                "state",
                "zip_code",
                "phone",
            )
            replace.update({c: f"pat.{c}" for c in demographics})
            replace["gender"] = "pat.sex"
        if name == "medical_claim_diagnosis":
            joins.append("LEFT JOIN cond c ON c.condition_id = x.__condition")
            snomed = "coalesce(x.__snomed, CASE WHEN c.ctype = 'snomed-ct' THEN c.code END)"
            joins.append(f"LEFT JOIN icd i ON i.snomed = {snomed}")
            code = (
                "coalesce(x.diagnosis_code, i.icd, CASE WHEN c.ctype = 'icd-10-cm' THEN c.code END)"
            )
            replace["diagnosis_code"] = code
            checks += [
                (
                    "x.__condition IS NOT NULL AND x.__snomed IS NULL AND x.diagnosis_code IS NULL "
                    "AND c.condition_id IS NULL",
                    "'diagnosisReference Condition/' || x.__condition || ' is not in the export'",
                    "'diagnosis'",
                    "x.__condition",
                ),
                (
                    f"{code} IS NULL AND {snomed} IS NOT NULL",
                    f"'SNOMED CT ' || {snomed} || ' has no ICD-10-CM mapping in the shipped map "
                    "(reference/snomed_icd10cm.csv)'",
                    "'diagnosis'",
                    snomed,
                ),
            ]
        if not checks and not replace:
            return data
        problem = " ".join(f"WHEN {c} THEN {r}" for c, r, _, _ in checks)
        field = " ".join(f"WHEN {c} THEN {f}" for c, _, f, _ in checks)
        value = " ".join(f"WHEN {c} THEN {v}" for c, _, _, v in checks)
        cases = (
            f"CASE {problem} END AS __problem, CASE {field} END AS __field, "
            f"CASE {value} END AS __value"
            if checks
            else "NULL AS __problem"
        )
        body = ", ".join(f"{v} AS {k}" for k, v in replace.items())
        star = f"x.* REPLACE ({body})" if body else "x.*"
        query = f"SELECT {star}, {cases} FROM t_{name} x {' '.join(joins)}"
        if checks:
            bad = con.sql(
                f"SELECT {ROW}, {FILE}, __problem, __field, __value FROM ({query}) "
                f"WHERE __problem IS NOT NULL ORDER BY {FILE}, {ROW}"
            ).fetchall()
            names = self.out.sources.file_names
            for row, file_index, reason, field_name, field_value in bad:
                self.out.bad(name, names[file_index], row, reason, field_name, field_value)
        keep = [c for c in [*TABLES[name].column_names, ROW, FILE]]
        return self._stream(
            con,
            f"SELECT {', '.join(keep)} FROM ({query}) WHERE __problem IS NULL",
            name,
        )

    def _stream(self, con: duckdb.DuckDBPyConnection, query: str, name: str) -> pa.Table:
        """Run ``query`` and spill its result batch by batch, returning a memory-mapped table."""
        reader = con.sql(query).fetch_record_batch(CHUNK_ROWS)
        path = self.spill / f"{name}.resolved.arrow"
        with ipc.new_file(str(path), reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        return _mapped(path)


# --- resource helpers ------------------------------------------------------------------------------


def _npi_of(r: dict, rid: str, entity_type: str) -> tuple[str | None, str]:
    """The NPI a Practitioner or Organization carries, and the NPI to load it under (its own
    when valid, else one derived from its id)."""
    npi = next(
        (i.get("value") for i in r.get("identifier") or [] if i.get("system") == NPI_SYSTEM),
        None,
    )
    return npi, npi if npi and _valid_npi(npi) else derived_npi(rid, entity_type)


def _required_id(r: dict) -> str:
    if not r.get("id"):
        raise _Bad("resource has no id", "id")
    return str(r["id"])


def _subject(r: dict, field: str) -> str | None:
    """The id of the Patient a resource is about; a resource about no one cannot be loaded."""
    rid = _ref_id(r.get(field))
    if rid is None:
        ident = (r.get(field) or {}).get("identifier") or {}
        rid = ident.get("value")
    if rid is None:
        raise _Bad(
            f"{field} does not reference a Patient", field, (r.get(field) or {}).get("reference")
        )
    return rid


def _icd10cm(concept: dict | None) -> str | None:
    """An ICD-10-CM code (no dot) for a CodeableConcept: coded in ICD-10-CM or mapped from SNOMED."""
    icd = _code(concept, ICD10CM)
    if icd:
        return icd.replace(".", "")
    snomed = _code(concept, SNOMED)
    return snomed_to_icd10cm().get(snomed) if snomed else None


def _has_value(r: dict) -> bool:
    return any(k.startswith("value") for k in r)


def _value(item: dict) -> dict:
    """result, numeric_result and units of an Observation or one of its components."""
    q = item.get("valueQuantity")
    if q is not None:
        v = q.get("value")
        return {
            "result": None if v is None else str(v),
            "numeric_result": None if v is None else str(v),
            "units": q.get("code") or q.get("unit"),
        }
    concept = item.get("valueCodeableConcept")
    if concept is not None:
        return {"result": concept.get("text") or _code(concept)}
    for key in ("valueString", "valueBoolean", "valueInteger", "valueDateTime"):
        if key in item:
            v = item[key]
            numeric = str(v) if key == "valueInteger" else None
            return {"result": text_value(v), "numeric_result": numeric}
    return {}


#: Source of Payment Typology (PHDSC) code prefixes → (payer_type, product_line).
SOPT = (
    ("11", ("medicare", "medicare_advantage")),
    ("1", ("medicare", "medicare_ffs")),
    ("2", ("medicaid", "medicaid")),
    ("5", ("commercial", "commercial")),
    ("6", ("commercial", "commercial")),
)


def _product_line(concept: dict | None, payer: str | None) -> tuple[str | None, str | None]:
    """Payer type and product line from Coverage.type (SOPT codes) or the payer's name."""
    code = _code(concept, ("https://nahdo.org/sopt", "urn:oid:2.16.840.1.113883.3.221.5"))
    if code:
        for prefix, result in SOPT:
            if code.startswith(prefix):
                return result
    text = (concept or {}).get("text") or _code(concept) or payer
    payer_type, line, _enrolled = payer_product_line(text, None)
    return payer_type, line


def _is_payer(r: dict) -> bool:
    return any(_code(t) in ("pay", "ins") for t in r.get("type") or [])


def _eob_kind(r: dict) -> str:
    """institutional, professional or pharmacy (oral and vision bill as professional)."""
    code = _code(r.get("type"))
    return code if code in ("institutional", "pharmacy") else "professional"


def _claim_id(r: dict) -> str:
    """The payer's claim id: a CARIN BB unique claim id, a Blue Button clm_id, else the EOB id."""
    for ident in r.get("identifier") or []:
        if _code(ident.get("type")) == "uc" or (ident.get("system") or "").endswith("/clm_id"):
            if ident.get("value"):
                return str(ident["value"])
    return _required_id(r)


def _related_claim(related: dict) -> str | None:
    claim = related.get("claim") or {}
    ident = claim.get("identifier") or {}
    return ident.get("value") or _ref_id(claim)


def _supporting_info(r: dict) -> dict:
    """CARIN BB supportingInfo by category code: codes, quantities or periods."""
    out: dict = {}
    for info in r.get("supportingInfo") or []:
        category = _code(info.get("category"))
        if category is None:
            continue
        if "timingPeriod" in info:
            p = info["timingPeriod"]
            out[category] = (date_part(p.get("start")), date_part(p.get("end")))
        elif "valueQuantity" in info:
            out[category] = (info["valueQuantity"] or {}).get("value")
        elif "code" in info:
            out[category] = _code(info["code"])
        elif "valueString" in info:
            out[category] = info["valueString"]
    return out


def _item_info(r: dict, item: dict) -> dict:
    """supportingInfo an item points at through informationSequence."""
    wanted = set(item.get("informationSequence") or [])
    if not wanted:
        return {}
    picked = {
        **r,
        "supportingInfo": [i for i in r.get("supportingInfo") or [] if i.get("sequence") in wanted],
    }
    return _supporting_info(picked)


def _adjudication(item: dict) -> tuple[dict, str | None]:
    """Item amounts by canonical column, and the network status, from item.adjudication."""
    amounts: dict[str, Decimal] = {}
    network = None
    for adj in item.get("adjudication") or []:
        for c in _codings(adj.get("category")):
            code = c.get("code")
            if code == "inoutnetwork" or code in NETWORK:
                network = _code(adj.get("reason")) or code
            column = ADJUDICATION.get(code or "")
            value = (adj.get("amount") or {}).get("value")
            if column and value is not None:
                amounts[column] = amounts.get(column, Decimal(0)) + Decimal(str(value))
                break
    if "charge_amount" not in amounts and (item.get("net") or {}).get("value") is not None:
        amounts["charge_amount"] = Decimal(str(item["net"]["value"]))
    if "member_liability_amount" not in amounts:
        shares = [
            amounts[k]
            for k in ("copayment_amount", "deductible_amount", "coinsurance_amount")
            if k in amounts
        ]
        if shares:
            amounts["member_liability_amount"] = sum(shares, Decimal(0))
    return {k: str(v) for k, v in amounts.items()}, network


def _json_error(path: Path) -> None:
    """Re-read a bundle that failed to stream, to report where the JSON breaks."""
    try:
        with path.open(encoding="utf-8") as f:
            json.load(f)
    except json.JSONDecodeError as exc:
        raise InputRejected(
            path.name, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError:
        raise InputRejected(path.name, "not UTF-8 text") from None


def _table_of_file(name: str) -> str | None:
    """The table a bulk-export file's records count against (``Patient.ndjson`` → patient)."""
    match = re.match(r"[A-Za-z]+", name)
    return MAPPED.get(match.group(0)) if match else None
