"""Patient experience from survey answers: mean score and top-box share by item and organization.

``survey_response`` holds one answer per survey item (e.g. CG-CAHPS). Respondents become payer
members through ``member_patient_crosswalk``; a member's organization is the attribution of the
survey year (``unattributed`` when there is none, and for respondents who are not linked members).

Top box follows the CAHPS convention: the top answer of the item's scale ("Always", "Definitely
yes", the highest of 1–4), and 9 or 10 on a 0–10 rating (scales of 10 or more: the top two
points). An answer without ``max_score`` has no top box and is left out of the top-box share.
``mean_score`` is on the item's own scale; ``mean_pct`` rescales each answer to 0–100 of its scale
(score ÷ max_score × 100) so items can be compared.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import SMALL_CELL, UNATTRIBUTED

SUMMARY_SCHEMA = ibis.schema(
    {
        "period": "string",
        "period_start": "date",
        "period_end": "date",
        "level": "string",
        "organization_id": "string",
        "instrument": "string",
        "item": "string",
        "respondents": "int64",
        "answers": "int64",
        "mean_score": "float64",
        "mean_pct": "float64",
        "top_box": "int64",
        "top_box_answers": "int64",
        "top_box_rate": "float64",
        "small_cell": "boolean",
    }
)


def top_box(score: ir.NumericValue, max_score: ir.NumericValue) -> ir.BooleanValue:
    """Whether an answer is in the top box of its scale (null when the scale is unknown)."""
    threshold = ibis.ifelse(max_score >= 10, max_score - 1, max_score)
    return ibis.ifelse(max_score.isnull(), ibis.null().cast("boolean"), score >= threshold)


def experience_summary(
    survey: ir.Table, crosswalk: ir.Table | None, attribution: ir.Table | None
) -> ir.Table:
    """One row per survey year, level (total, organization), instrument and item."""
    s = survey.mutate(_year=survey.survey_date.year().cast("int64"))
    org = ibis.literal(UNATTRIBUTED)
    if crosswalk is not None:
        x = crosswalk.select(_x_m=crosswalk.member_id, _x_p=crosswalk.patient_id)
        s = s.left_join(x, s.patient_id == x._x_p)
        if attribution is not None:
            a = attribution.filter(attribution.rule != "unattributed")
            a = a.group_by(_a_m=a.member_id, _a_y=a.period.cast("int64")).aggregate(
                _a_org=a.organization_id.min()
            )
            s = s.left_join(a, (s._x_m == a._a_m) & (s._year == a._a_y))
            org = s._a_org.fill_null(UNATTRIBUTED)
    box = top_box(s.score, s.max_score)
    s = s.mutate(
        organization_id=org,
        _box=box.cast("int64"),
        _known=box.notnull().cast("int64"),
        _pct=ibis.ifelse(
            s.max_score > 0, s.score.cast("float64") * 100 / s.max_score.cast("float64"), None
        ),
    )
    parts = []
    for level, by_org in (("total", False), ("organization", True)):
        t = s if by_org else s.mutate(organization_id=ibis.literal("all"))
        g = t.group_by(["_year", "organization_id", "instrument", "item"]).aggregate(
            respondents=t.response_id.nunique(),
            answers=t.count(),
            _sum=t.score.cast("decimal(18, 4)").sum(),
            _pct_sum=t._pct.sum(),
            _pct_n=t._pct.count(),
            top_box=t._box.sum().fill_null(0),
            top_box_answers=t._known.sum(),
        )
        g = g.mutate(
            period=g._year.cast("string"),
            period_start=ibis.date(g._year, 1, 1),
            period_end=ibis.date(g._year, 12, 31),
            level=ibis.literal(level),
            mean_score=(g._sum.cast("float64") / g.answers.cast("float64")).round(4),
            mean_pct=ibis.ifelse(
                g._pct_n > 0, (g._pct_sum.cast("float64") / g._pct_n.cast("float64")).round(2), None
            ),
            top_box_rate=ibis.ifelse(
                g.top_box_answers > 0,
                (g.top_box.cast("float64") / g.top_box_answers.cast("float64")).round(6),
                None,
            ),
            small_cell=g.respondents < SMALL_CELL,
        )
        parts.append(g.select(**{n: g[n].cast(t) for n, t in SUMMARY_SCHEMA.items()}))
    return ibis.union(*parts)
