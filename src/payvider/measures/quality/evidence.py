"""Coded evidence of members from claims and, through the member–patient crosswalk, the EHR.

One long table (member_id, code, event_date, source, code_type) that the screening and hybrid measures
filter by value set: claim lines' HCPCS/CPT, claim ICD-10-PCS procedures and ICD-10-CM
diagnoses, and EHR procedures and conditions of linked patients. Codes are upper case without dots;
``code_type`` (``procedure`` or ``diagnosis``) keeps ICD-10-CM prefixes from matching HCPCS codes.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def _norm(code: ir.StringValue) -> ir.StringValue:
    return code.upper().replace(".", "").strip()


def _kept(code: ir.StringValue, prefixes: frozenset[str] | None) -> ir.BooleanValue:
    """Whether a normalised code may match one of ``prefixes`` (codes cut to 3 characters)."""
    if prefixes is None:
        return ibis.literal(True)
    cond = ibis.literal(False)
    for n in sorted({len(p) for p in prefixes}):
        cond = cond | code.substr(0, n).isin(sorted(p for p in prefixes if len(p) == n))
    return cond


def _claim_member_date(rows: ir.Table, claims: ir.Table) -> ir.Table:
    """``rows`` (by claim_id) with their claim's member (``_m``, the largest of its lines') and
    first start date (``_d``), one row per distinct row: the lines are read for the claims of
    ``rows`` only, not grouped for every claim."""
    lines = claims.select("claim_id", _lm=claims.member_id, _ld=claims.claim_start_date)
    j = rows.inner_join(lines, "claim_id")
    return j.group_by(rows.columns).aggregate(_m=j._lm.max(), _d=j._ld.min())


def coded_evidence(
    tables: dict[str, ir.Table], prefixes: frozenset[str] | None = None, distinct: bool = True
) -> ir.Table:
    """member_id, code, event_date, source ('claims' or 'ehr') and code_type from whichever
    inputs exist.

    ``prefixes`` (codes cut to at most three characters, e.g. from
    :func:`payvider.measures.quality.framework.value_set_prefixes`) keeps only rows whose code
    can belong to a value set: a superset of what any measure looks for, a small part of every
    claim line's code. ``distinct=False`` keeps repeated rows (the same code on the same day
    from two claims), for callers that only ask whether, when first or when last."""
    parts = []
    claims = tables.get("final_medical_claim")
    if claims is not None:
        c = claims.filter(claims.hcpcs_code.notnull())
        parts.append(
            c.select(
                "member_id",
                code=_norm(c.hcpcs_code),
                event_date=c.claim_line_start_date.fill_null(c.claim_start_date),
                source=ibis.literal("claims"),
                code_type=ibis.literal("procedure"),
            )
        )
        proc = tables.get("medical_claim_procedure")
        if proc is not None:
            # only the procedures that may be in a value set meet their claims' lines
            proc = proc.select(
                "claim_id", _code=_norm(proc.procedure_code), _pd=proc.procedure_date
            )
            j = _claim_member_date(proc.filter(_kept(proc._code, prefixes)), claims)
            parts.append(
                j.select(
                    member_id=j._m,
                    code=j._code,
                    event_date=j._pd.fill_null(j._d),
                    source=ibis.literal("claims"),
                    code_type=ibis.literal("procedure"),
                )
            )
        dx = tables.get("medical_claim_diagnosis")
        if dx is not None:
            dx = dx.select("claim_id", _code=_norm(dx.diagnosis_code))
            j = _claim_member_date(dx.filter(_kept(dx._code, prefixes)), claims)
            parts.append(
                j.select(
                    member_id=j._m,
                    code=j._code,
                    event_date=j._d,
                    source=ibis.literal("claims"),
                    code_type=ibis.literal("diagnosis"),
                )
            )
    xw = tables.get("member_patient_crosswalk")
    if xw is not None:
        x = xw.select(_x_m=xw.member_id, _x_p=xw.patient_id)
        for name, date_col in (("procedure", "procedure_date"), ("condition", "recorded_date")):
            t = tables.get(name)
            if t is None:
                continue
            d = t[date_col]
            if name == "condition":
                d = t.onset_date.fill_null(t.recorded_date)
            t = t.mutate(_d=d)
            j = t.inner_join(x, t.patient_id == x._x_p)
            parts.append(
                j.select(
                    member_id=j._x_m,
                    code=_norm(j.source_code),
                    event_date=j._d,
                    source=ibis.literal("ehr"),
                    code_type=ibis.literal("diagnosis" if name == "condition" else "procedure"),
                )
            )
    if not parts:
        raise ValueError("no claims or linked EHR tables to take coded evidence from")
    parts = [p.filter(_kept(p.code, prefixes)) for p in parts]
    rows = ibis.union(*parts)
    return rows.distinct() if distinct else rows


def linked_observations(observation: ir.Table, crosswalk: ir.Table) -> ir.Table:
    """EHR observations of linked patients with the payer member id."""
    x = crosswalk.select(_x_m=crosswalk.member_id, _x_p=crosswalk.patient_id)
    j = observation.inner_join(x, observation.patient_id == x._x_p)
    return j.select(
        member_id=j._x_m,
        code=_norm(j.source_code),
        observation_date=j.observation_date,
        value=j.numeric_result.cast("decimal(18, 4)"),
    )
