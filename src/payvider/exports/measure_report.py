"""Quality measures as FHIR R4 ``MeasureReport`` resources (Da Vinci DEQM) and as CSV.

Two report types, as the HL7 Da Vinci Data Exchange for Quality Measures guide (DEQM, STU 3/4)
uses them:

- ``summary`` (profile ``summary-measurereport-deqm``): one group with the population counts —
  ``initial-population``, ``denominator``, ``denominator-exclusion``, ``numerator`` — and the
  ``measureScore``, stratified by attributed organization. Strata under 11 eligible members are
  left out (small-cell suppression).
- ``subject-list`` (profile ``subjectlist-measurereport-deqm``): the same counts, each population
  pointing (``subjectResults``) to a contained ``List`` of the members in it as ``Patient``
  references by the payer's member id.

Populations map from the measure framework: initial population = denominator = the measure's
denominator rows; denominator exclusion = excluded rows; numerator = eligible rows in the
numerator; so measureScore = numerator ÷ (denominator − exclusions), the framework's rate. Event
measures (readmissions) count events; their subject lists name each member once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from payvider.exports.attribution_roster import MEMBER_SYSTEM
from payvider.measures.quality.framework import SMALL_CELL, MeasureSpec

DEQM = "http://hl7.org/fhir/us/davinci-deqm/StructureDefinition"
PROFILES = {
    "summary": f"{DEQM}/summary-measurereport-deqm",
    "subject-list": f"{DEQM}/subjectlist-measurereport-deqm",
}
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
MEASURE_BASE = "urn:payvider:measure:"
ORGANIZATION_SYSTEM = "urn:payvider:organization-id"
POPULATIONS = (
    ("initial-population", "Initial Population"),
    ("denominator", "Denominator"),
    ("denominator-exclusion", "Denominator Exclusion"),
    ("numerator", "Numerator"),
)


def fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from free text."""
    return re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]


def _counts(row: dict) -> dict[str, int]:
    return {
        "initial-population": int(row["denominator"]),
        "denominator": int(row["denominator"]),
        "denominator-exclusion": int(row["exclusions"]),
        "numerator": int(row["numerator"]),
    }


def _population(code: str, display: str, count: int, list_id: str | None = None) -> dict:
    p: dict = {
        "code": {"coding": [{"system": POPULATION_SYSTEM, "code": code, "display": display}]},
        "count": count,
    }
    if list_id is not None:
        p["subjectResults"] = {"reference": f"#{list_id}"}
    return p


def _score(rate: float | None) -> dict:
    return {} if rate is None else {"measureScore": {"value": rate}}


def _header(spec: MeasureSpec, total: dict, kind: str, reporter: str) -> dict:
    return {
        "resourceType": "MeasureReport",
        "id": fhir_id(f"{spec.id}-{total['period']}-{kind}"),
        "meta": {"profile": [PROFILES[kind]]},
        "status": "complete",
        "type": kind,
        "measure": f"{MEASURE_BASE}{spec.id}",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "reporter": {"display": reporter},
        "period": {
            "start": total["period_start"].isoformat(),
            "end": total["period_end"].isoformat(),
        },
        "improvementNotation": {
            "coding": [
                {
                    "system": IMPROVEMENT_SYSTEM,
                    "code": "decrease" if spec.inverse else "increase",
                }
            ]
        },
    }


def summary_report(
    spec: MeasureSpec, total: dict, organizations: list[dict], reporter: str = "Payvider"
) -> dict:
    """A DEQM summary MeasureReport from a measure's summary rows of one period."""
    strata = []
    for r in sorted(organizations, key=lambda r: str(r["organization_id"])):
        if r["eligible"] < SMALL_CELL:
            continue
        strata.append(
            {
                "value": {"text": r["organization_id"]},
                "population": [
                    _population(code, display, n)
                    for (code, display), n in zip(POPULATIONS, _counts(r).values(), strict=True)
                ],
                **_score(r["rate"]),
            }
        )
    group = {
        "population": [
            _population(code, display, n)
            for (code, display), n in zip(POPULATIONS, _counts(total).values(), strict=True)
        ],
        **_score(total["rate"]),
    }
    if strata:
        group["stratifier"] = [{"code": [{"text": "attributed organization"}], "stratum": strata}]
    return {**_header(spec, total, "summary", reporter), "group": [group]}


def subject_list_report(
    spec: MeasureSpec, total: dict, members: list[dict], reporter: str = "Payvider"
) -> dict:
    """A DEQM subject-list MeasureReport: each population references a contained List of members.

    ``members`` are the measure's ``quality_member`` rows of the period.
    """
    den = [r for r in members if r["in_denominator"]]
    who = {
        "initial-population": den,
        "denominator": den,
        "denominator-exclusion": [r for r in den if r["excluded"]],
        "numerator": [r for r in den if not r["excluded"] and r["in_numerator"]],
    }
    contained, populations = [], []
    for code, display in POPULATIONS:
        ids = sorted({r["member_id"] for r in who[code]})
        contained.append(
            {
                "resourceType": "List",
                "id": code,
                "status": "current",
                "mode": "snapshot",
                "title": f"{display} of {spec.id}",
                "entry": [
                    {
                        "item": {
                            "type": "Patient",
                            "identifier": {"system": MEMBER_SYSTEM, "value": m},
                        }
                    }
                    for m in ids
                ],
            }
        )
        populations.append(_population(code, display, len(who[code]), code))
    header = _header(spec, total, "subject-list", reporter)
    return {
        **header,
        "contained": contained,
        "group": [{"population": populations, **_score(total["rate"])}],
    }


def _by(rows: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def write_fhir(
    summary: pa.Table,
    members: pa.Table,
    specs: dict[str, MeasureSpec],
    out_dir: Path,
    reporter: str = "Payvider",
) -> list[Path]:
    """``<measure>-<period>-summary.json`` and ``…-subject-list.json`` per measure and period."""
    out_dir.mkdir(parents=True, exist_ok=True)
    srows = _by(summary.to_pylist(), "measure_id", "period")
    mrows = _by(members.to_pylist(), "measure_id", "period")
    paths = []
    for (measure, period), rows in sorted(srows.items()):
        totals = [r for r in rows if r["level"] == "total"]
        if not totals or measure not in specs:
            continue
        spec, total = specs[measure], totals[0]
        orgs = [r for r in rows if r["level"] == "organization"]
        for kind, report in (
            ("summary", summary_report(spec, total, orgs, reporter)),
            (
                "subject-list",
                subject_list_report(spec, total, mrows.get((measure, period), []), reporter),
            ),
        ):
            path = out_dir / f"{fhir_id(f'{measure}-{period}-{kind}')}.json"
            path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
            paths.append(path)
    return paths


def write_csv(summary: pa.Table, members: pa.Table, out_dir: Path) -> list[Path]:
    """``measure_summary.csv`` (counts, rate, interval by level) and ``measure_members.csv``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "measure_summary.csv", out_dir / "measure_members.csv"]
    pacsv.write_csv(summary, paths[0])
    pacsv.write_csv(members, paths[1])
    return paths
