"""Final claims: adjustments and voids resolved.

A replacement supersedes the claim it names; a void cancels the claim it names and is itself not a
claim. Chains resolve naturally: if B replaces A and C voids B, neither A, B nor C is final. A
replacement whose original was never received is final (it replaces something outside the data).
Everything downstream of ingest uses these tables, never the raw claim tables.
"""

from __future__ import annotations

import ibis.expr.types as ir


def resolve_adjustments(claims: ir.Table) -> ir.Table:
    """Keep the lines of claims that are neither voids nor adjusted by another claim."""
    adjustment = claims.adjustment_type.fill_null("original")
    adjusted = (
        claims.filter((adjustment != "original") & claims.adjusted_claim_id.notnull())
        .select(superseded_claim_id=claims.adjusted_claim_id)
        .distinct()
    )
    live = claims.filter(adjustment != "void")
    return live.anti_join(adjusted, live.claim_id == adjusted.superseded_claim_id)
