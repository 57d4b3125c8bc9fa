"""Service categories: every final claim line gets one, by a documented, ordered set of rules.

The grouper reads only the claim fields payers send on every line (bill type, revenue code, place
of service, HCPCS, MS-DRG, modifiers) and the provider roster (primary-care flag, health system).
Rules are evaluated top to bottom and the first that matches decides; ``docs/cost.md`` lists them
as a table. Two levels, as in most actuarial groupers:

* ``service_category_1``: inpatient, outpatient, professional, ancillary, pharmacy;
* ``service_category``: the detailed category (``inpatient_acute``, ``emergency_department``,
  ``office_pcp`` …), listed in :data:`SERVICE_CATEGORIES`.

Institutional claims are categorised **per claim** where the whole claim is one kind of care (an
inpatient stay; an outpatient claim with an emergency-room, observation or operating-room revenue
line is an ED visit, an observation stay or an outpatient surgery, lines and all), then per line
(imaging, lab, therapy …). Professional lines are categorised per line.

Sources for the code meanings: NUBC UB-04 Data Specifications Manual (type of bill, revenue codes);
CMS Place of Service Code Set; CMS MS-DRG v41 definitions (psychiatric and substance-use MDCs 19
and 20; rehabilitation DRG 945–946); AMA CPT code ranges (70010–79999 radiology, 80047–89398
pathology and laboratory); CMS HCPCS Level II (A0 ambulance, E/K/L/B durable medical equipment,
orthotics, prosthetics and enteral supplies); telehealth modifiers 95, GT, GQ, FQ, 93 and places of
service 02 and 10.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

#: (service_category_1, service_category) in report order.
SERVICE_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("inpatient", "inpatient_acute"),
    ("inpatient", "inpatient_psychiatric"),
    ("inpatient", "inpatient_rehab"),
    ("inpatient", "skilled_nursing"),
    ("inpatient", "hospice"),
    ("outpatient", "emergency_department"),
    ("outpatient", "observation"),
    ("outpatient", "outpatient_surgery"),
    ("outpatient", "outpatient_imaging"),
    ("outpatient", "outpatient_lab"),
    ("outpatient", "outpatient_therapy"),
    ("outpatient", "dialysis"),
    ("outpatient", "infusion"),
    ("outpatient", "outpatient_other"),
    ("professional", "office_pcp"),
    ("professional", "office_specialist"),
    ("professional", "telehealth"),
    ("professional", "professional_inpatient"),
    ("professional", "professional_emergency"),
    ("professional", "professional_outpatient"),
    ("professional", "professional_imaging"),
    ("professional", "professional_lab"),
    ("professional", "professional_other"),
    ("ancillary", "home_health"),
    ("ancillary", "dme"),
    ("ancillary", "ambulance"),
    ("pharmacy", "pharmacy"),
)
CATEGORY_GROUP: dict[str, str] = {c: g for g, c in SERVICE_CATEGORIES}
INPATIENT_STAY_CATEGORIES = (
    "inpatient_acute",
    "inpatient_psychiatric",
    "inpatient_rehab",
    "skilled_nursing",
)

# --- code lists (UB-04 revenue codes are 4 digits; bill types 3 characters) ----------------------
ED_REVENUE = tuple(f"045{d}" for d in range(10)) + ("0981",)
OBSERVATION_REVENUE = ("0762",)
OBSERVATION_HCPCS = ("G0378", "G0379")
#: Operating room (036x), ambulatory surgical care (049x), recovery room (071x), GI services (075x).
SURGERY_REVENUE_PREFIXES = ("036", "049", "071", "075")
PSYCH_ROOM_REVENUE = ("0114", "0124", "0134", "0144", "0154", "0204")
REHAB_ROOM_REVENUE = ("0118", "0128", "0138", "0148", "0158")
#: MS-DRGs of MDC 19 (mental diseases) and MDC 20 (alcohol/drug use) and rehabilitation.
PSYCH_DRGS = tuple(str(d) for d in (*range(876, 877), *range(880, 888), *range(894, 898)))
REHAB_DRGS = ("945", "946")
#: Radiology (032x), therapeutic radiology (033x), nuclear medicine (034x), CT (035x),
#: other imaging (040x), MRI (061x).
IMAGING_REVENUE_PREFIXES = ("032", "033", "034", "035", "040", "061")
LAB_REVENUE_PREFIXES = ("030", "031")
#: Physical (042x), occupational (043x), speech (044x) therapy.
THERAPY_REVENUE_PREFIXES = ("042", "043", "044")
#: Hemodialysis and peritoneal dialysis (082x–085x), miscellaneous dialysis (088x).
DIALYSIS_REVENUE_PREFIXES = ("082", "083", "084", "085", "088")
#: IV therapy (026x) and drugs requiring detailed coding (0634–0636).
INFUSION_REVENUE = tuple(f"026{d}" for d in range(10)) + ("0634", "0635", "0636")

TELEHEALTH_POS = ("02", "10")
TELEHEALTH_MODIFIERS = ("95", "GT", "GQ", "FQ", "93")
AMBULANCE_POS = ("41", "42")
#: Places of service where clinicians see patients in an office or clinic.
OFFICE_POS = ("11", "17", "19", "20", "22", "49", "50", "71", "72")
INPATIENT_POS = ("21", "51", "61")
EMERGENCY_POS = ("23",)
OUTPATIENT_FACILITY_POS = ("24", "26", "52", "53", "56", "57", "62", "65")
INDEPENDENT_LAB_POS = ("81",)
DME_HCPCS_PREFIXES = ("E", "K", "L", "B")

#: Evaluation and management codes that make a professional line a visit.
VISIT_HCPCS_RANGE = ("99202", "99499")
VISIT_HCPCS_EXTRA = ("G0402", "G0438", "G0439", "G0463", "T1015")


def _is(col: ir.StringValue, values: tuple[str, ...]) -> ir.BooleanValue:
    """``col`` is one of ``values``: a chain of equalities, cheaper per line than an IN list
    (which DuckDB runs as a join) for the short code lists of the rules."""
    return ibis.or_(*[col == v for v in values])


def _starts(col: ir.StringValue, prefixes: tuple[str, ...]) -> ir.BooleanValue:
    """``col`` starts with one of ``prefixes``: one substring per prefix length, compared."""
    by_length: dict[int, tuple[str, ...]] = {}
    for p in prefixes:
        by_length[len(p)] = (*by_length.get(len(p), ()), p)
    return ibis.or_(*[_is(col.substr(0, n), ps) for n, ps in by_length.items()])


def _numeric_between(code: ir.StringValue, lo: str, hi: str) -> ir.BooleanValue:
    """A five-digit numeric HCPCS (CPT) code in [lo, hi]; string order works for equal lengths.

    The pattern is tested only on codes already in the range (few), not on every line."""
    in_range = (code >= lo) & (code <= hi)
    return ibis.ifelse(in_range, code.re_search(r"^[0-9]{5}$"), False)


def is_visit_code(hcpcs: ir.StringValue) -> ir.BooleanValue:
    """Evaluation-and-management (visit) HCPCS codes, incl. wellness and clinic visits."""
    visit = _numeric_between(hcpcs, *VISIT_HCPCS_RANGE) | _is(hcpcs, VISIT_HCPCS_EXTRA)
    return visit.fill_null(False)


# A null code matches no rule: in the rule conditions below (and, or; never not) a null test
# decides like false, so codes are compared as they are, without replacing nulls first.


def _institutional_flags(inst: ir.Table) -> ir.Table:
    """Per institutional claim with a flagged line: whether any of its lines is ED, observation,
    surgery, psych … Claims without one are left out: their flags are null after the join, which
    the rules read like false."""
    rev = inst.revenue_center_code
    flags = inst.select(
        "claim_id",
        ed=_is(rev, ED_REVENUE),
        obs=_is(rev, OBSERVATION_REVENUE) | _is(inst.hcpcs_code, OBSERVATION_HCPCS),
        surg=_starts(rev, SURGERY_REVENUE_PREFIXES),
        psych=_is(rev, PSYCH_ROOM_REVENUE),
        rehab=_is(rev, REHAB_ROOM_REVENUE),
    )
    flags = flags.filter(flags.ed | flags.obs | flags.surg | flags.psych | flags.rehab)
    return flags.group_by("claim_id").aggregate(
        claim_ed=flags.ed.any(),
        claim_obs=flags.obs.any(),
        claim_surg=flags.surg.any(),
        claim_psych=flags.psych.any(),
        claim_rehab=flags.rehab.any(),
    )


Rules = tuple[list[tuple[ir.BooleanValue, str]], str]


def _institutional_rules(t: ir.Table) -> Rules:
    bt = t.bill_type_code
    rev = t.revenue_center_code
    drg = t.drg_code

    def bt2(*codes: str) -> ir.BooleanValue:
        return _starts(bt, codes)

    rules = [
        (bt2("11", "41") & (t.claim_psych | _is(drg, PSYCH_DRGS)), "inpatient_psychiatric"),
        (bt2("11", "41") & (t.claim_rehab | _is(drg, REHAB_DRGS)), "inpatient_rehab"),
        (bt2("11", "41"), "inpatient_acute"),
        (bt2("18", "21"), "skilled_nursing"),
        (bt2("81", "82"), "hospice"),
        (bt2("32", "33", "34"), "home_health"),
        (t.claim_ed, "emergency_department"),
        (t.claim_obs, "observation"),
        (t.claim_surg | bt2("83"), "outpatient_surgery"),
        (bt2("72") | _starts(rev, DIALYSIS_REVENUE_PREFIXES), "dialysis"),
        (_starts(rev, IMAGING_REVENUE_PREFIXES), "outpatient_imaging"),
        (_starts(rev, LAB_REVENUE_PREFIXES), "outpatient_lab"),
        (bt2("74", "75") | _starts(rev, THERAPY_REVENUE_PREFIXES), "outpatient_therapy"),
        (_is(rev, INFUSION_REVENUE), "infusion"),
    ]
    return rules, "outpatient_other"


def _professional_rules(t: ir.Table) -> Rules:
    pos = t.place_of_service_code
    hcpcs = t.hcpcs_code
    mods = [t[f"hcpcs_modifier_{i}"] for i in range(1, 6)]
    # most lines have no modifiers: a null modifier is not compared with the list
    telehealth_mod = ibis.or_(*[m.notnull() & _is(m, TELEHEALTH_MODIFIERS) for m in mods])
    lab = _numeric_between(hcpcs, "80047", "89398")
    imaging = _numeric_between(hcpcs, "70010", "79999")
    rules = [
        (_is(pos, AMBULANCE_POS) | _starts(hcpcs, ("A0",)), "ambulance"),
        (_starts(hcpcs, DME_HCPCS_PREFIXES), "dme"),
        (_is(pos, TELEHEALTH_POS) | telehealth_mod, "telehealth"),
        (_is(pos, INPATIENT_POS), "professional_inpatient"),
        (_is(pos, EMERGENCY_POS), "professional_emergency"),
        (_is(pos, INDEPENDENT_LAB_POS) | lab, "professional_lab"),
        (imaging, "professional_imaging"),
        (_is(pos, OUTPATIENT_FACILITY_POS), "professional_outpatient"),
        (_is(pos, OFFICE_POS) & t.r_primary_care, "office_pcp"),
        (_is(pos, OFFICE_POS), "office_specialist"),
    ]
    return rules, "professional_other"


def _categorise(rules: Rules) -> tuple[ir.StringValue, ir.StringValue]:
    """The category the first matching rule gives, and its ``service_category_1``.

    The group tests the category against the few categories of these rules (the largest group
    is the default); next to the category in one select, the engine evaluates the rules once."""
    conditions, default = rules
    category = ibis.cases(*conditions, else_=default)
    groups: dict[str, tuple[str, ...]] = {}
    for c in (*[c for _, c in conditions], default):
        groups[CATEGORY_GROUP[c]] = (*groups.get(CATEGORY_GROUP[c], ()), c)
    *rest, (last, _) = sorted(groups.items(), key=lambda item: len(item[1]))
    return category, ibis.cases(*[(_is(category, cs), g) for g, cs in rest], else_=last)


def _roster(provider: ir.Table) -> ir.Table:
    """One row per NPI (a roster loaded in several batches may repeat an NPI; max() keeps the
    result deterministic and never multiplies claim lines)."""
    p = provider
    return p.group_by(p_npi=p.npi).aggregate(
        p_health_system=p.health_system.max(),
        p_partner=p.partner_network_flag.fill_null(False).max(),
        p_primary_care=p.primary_care_flag.fill_null(False).max(),
        p_specialty=p.specialty.max(),
        p_tin=p.tin.max(),
        p_name=p.provider_name.max(),
    )


def enrich_medical_claims(final_claims: ir.Table, provider: ir.Table) -> ir.Table:
    """Final medical claim lines with service category, month and the providing organization.

    ``provider_npi`` is the organization that delivered the care (billing NPI, else facility,
    else rendering); ``in_partner_system`` and ``health_system`` come from the roster entry of that
    NPI. A line whose NPI is not in the roster is outside the partner system.

    Institutional and professional lines are categorised apart: only institutional lines join
    the per-claim flags, only professional lines test place of service, HCPCS and modifiers.
    """
    c = final_claims
    roster = _roster(provider)
    rendering = roster.select(
        r_npi=roster.p_npi, r_primary_care=roster.p_primary_care, r_specialty=roster.p_specialty
    )
    institutional = c.claim_type == "institutional"
    inst = c.filter(institutional)
    prof = c.filter(c.claim_type.isnull() | ~institutional)

    # the flags read their four columns on their own rather than share the institutional lines
    # (which the engine would otherwise keep whole in between)
    inst_codes = c.select("claim_id", "claim_type", "revenue_center_code", "hcpcs_code")
    i = inst.left_join(_institutional_flags(inst_codes.filter(institutional)), "claim_id")
    i = i.left_join(rendering, i.rendering_npi == rendering.r_npi)
    i_category, i_group = _categorise(_institutional_rules(i))
    i = i.select(
        *_LINE_COLUMNS,
        specialty=i.r_specialty,
        _category=i_category,
        service_category_1=i_group,
        is_visit=ibis.literal(False),
    )
    p = prof.left_join(rendering, prof.rendering_npi == rendering.r_npi)
    p_category, p_group = _categorise(_professional_rules(p))
    p = p.select(
        *_LINE_COLUMNS,
        specialty=p.r_specialty,
        _category=p_category,
        service_category_1=p_group,
        is_visit=(p.claim_type == "professional") & is_visit_code(p.hcpcs_code),
    )
    t = i.union(p, distinct=False)
    service_date = t.claim_line_start_date.fill_null(t.claim_start_date)
    t = t.mutate(
        _provider_npi=t.billing_npi.fill_null(t.facility_npi).fill_null(t.rendering_npi),
        _service_date=service_date,
    )
    t = t.left_join(roster, t._provider_npi == roster.p_npi)
    return t.select(
        claim_id=t.claim_id,
        claim_line_number=t.claim_line_number,
        claim_type=t.claim_type,
        member_id=t.member_id,
        payer=t.payer,
        service_date=t._service_date,
        service_month=t._service_date.truncate("M").cast("date"),
        year=t._service_date.year().cast("int64"),
        paid_date=t.paid_date,
        service_category_1=t.service_category_1,
        service_category=t._category,
        hcpcs_code=t.hcpcs_code,
        is_visit=t.is_visit,
        rendering_npi=t.rendering_npi,
        specialty=t.specialty,
        provider_npi=t._provider_npi,
        provider_name=t.p_name,
        provider_tin=t.p_tin.fill_null(t.billing_tin),
        health_system=t.p_health_system,
        in_partner_system=t.p_partner.fill_null(False),
        allowed_amount=t.allowed_amount.fill_null(0),
        paid_amount=t.paid_amount.fill_null(0),
    )


#: Columns of a claim line that the enriched line keeps or derives from.
_LINE_COLUMNS = (
    "claim_id",
    "claim_line_number",
    "claim_type",
    "member_id",
    "payer",
    "claim_line_start_date",
    "claim_start_date",
    "paid_date",
    "hcpcs_code",
    "rendering_npi",
    "billing_npi",
    "facility_npi",
    "billing_tin",
    "allowed_amount",
    "paid_amount",
)


def enrich_pharmacy_claims(final_pharmacy: ir.Table, provider: ir.Table) -> ir.Table:
    """Final pharmacy fills in the same shape as :func:`enrich_medical_claims` (category pharmacy)."""
    rx = final_pharmacy
    org = _roster(provider)
    t = rx.left_join(org, rx.dispensing_provider_npi == org.p_npi)
    return t.select(
        claim_id=t.claim_id,
        claim_line_number=t.claim_line_number,
        claim_type=ibis.literal("pharmacy"),
        member_id=t.member_id,
        payer=t.payer,
        service_date=t.dispensing_date,
        service_month=t.dispensing_date.truncate("M").cast("date"),
        year=t.dispensing_date.year().cast("int64"),
        paid_date=t.paid_date,
        service_category_1=ibis.literal("pharmacy"),
        service_category=ibis.literal("pharmacy"),
        hcpcs_code=ibis.null().cast("string"),
        is_visit=ibis.literal(False),
        rendering_npi=t.prescribing_provider_npi,
        specialty=ibis.null().cast("string"),
        provider_npi=t.dispensing_provider_npi,
        provider_name=t.p_name,
        provider_tin=t.p_tin,
        health_system=t.p_health_system,
        in_partner_system=t.p_partner.fill_null(False),
        allowed_amount=t.allowed_amount.fill_null(0),
        paid_amount=t.paid_amount.fill_null(0),
    )


def claims_enriched(
    final_medical: ir.Table, final_pharmacy: ir.Table, provider: ir.Table
) -> ir.Table:
    """Every final medical line and pharmacy fill, categorised; the base of every cost figure."""
    med = enrich_medical_claims(final_medical, provider)
    rx = enrich_pharmacy_claims(final_pharmacy, provider)
    rx = rx.cast(med.schema())
    return med.union(rx, distinct=False)
