"""Linking payer members to EHR patients: deterministic keys first, then the Splink model.

1. **Deterministic.** A member and a patient link when they share a ``person_id`` and birth date,
   or when their normalised first name, last name, birth date, sex and ZIP code are equal — and in
   each case no other member or patient has the same key (a key shared by two people is no key).
2. **Probabilistic.** The model (:mod:`payvider.link.model`) is trained on every member and
   patient, then scores candidate pairs among those the first pass left unlinked. The prior
   (probability that two random records match) for the remainder is derived from the first pass:
   the deterministic links divided by the model's estimate of the share of true pairs agreeing on
   every key give the expected number of true pairs, and those not yet linked are spread over the
   remaining member × patient pairs.
3. **Thresholds.** A pair at or above ``upper`` is accepted — unless the first names are unrelated
   (not equal, not nicknames, not a misspelling): family members such as twins share surname,
   birth date, address and phone, which the model counts as independent evidence, so such a pair
   goes to review whatever its score. Pairs from ``lower`` to ``upper`` go to the review queue;
   below ``lower`` they are rejected.
4. **One to one.** Accepted pairs are resolved so that each member and each patient appears at
   most once: repeatedly keep the pairs that are the best (highest match weight, ties by id) for
   both their member and their patient, drop the rest of those members' and patients' pairs.
   This equals taking pairs greedily from the strongest down.

Everything runs as Ibis expressions and Splink SQL on one DuckDB connection. Splink does not run
on Ibis's PySpark backend, so on Spark the two input tables (one row per member and per patient,
only the demographic columns) are collected into an embedded DuckDB, linked there, and the result
is handed back to the caller as Arrow (:mod:`payvider.link.stages` registers it on the run's
engine).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from payvider.link import model as M
from payvider.link.prepare import (
    latest_spans,
    member_records,
    patient_demographics,
    patient_records,
)
from payvider.link.settings import LinkSettings

#: Exact keys of the deterministic pass.
KEYS = ("first_name", "last_name", "birth_date", "sex", "zip")
#: Comparisons whose exact level the keys require (ZIP equality is part of ``location``).
KEY_COMPARISONS = ("first_name", "last_name", "birth_date", "sex")
#: Fields shown side by side in the review queue.
REVIEW_FIELDS = ("first_name", "last_name", "birth_date", "sex", "zip", "address", "phone")
#: Cap on the rounds of one-to-one resolution (each round settles at least one conflict chain).
MAX_ROUNDS = 100

CROSSWALK_SCHEMA = ibis.schema(
    {
        "member_id": "string",
        "patient_id": "string",
        "match_method": "string",
        "match_probability": "float64",
        "match_weight": "float64",
    }
)
REVIEW_SCHEMA = ibis.schema(
    {
        "member_id": "string",
        "patient_id": "string",
        "match_probability": "float64",
        "match_weight": "float64",
        "reason": "string",
        **{
            f"{side}_{f}": ("date" if f == "birth_date" else "string")
            for f in REVIEW_FIELDS
            for side in ("member", "patient")
        },
    }
)


@dataclass
class LinkResult:
    """The crosswalk, the review queue and the counts that summarise them."""

    crosswalk: ir.Table
    review_queue: ir.Table
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    model: dict | None = None


def link(
    eligibility: ir.Table, patient: ir.Table, settings: LinkSettings | None = None
) -> LinkResult:
    """Link members (latest span of ``eligibility``) to ``patient`` rows.

    On a DuckDB backend the result tables live on the inputs' connection; on any other backend
    the inputs are collected into an embedded DuckDB first (see the module docstring).
    """
    s = settings or LinkSettings()
    backend = eligibility._find_backend()
    if getattr(backend, "name", "") == "duckdb":
        return _link_duckdb(backend, latest_spans(eligibility), patient_demographics(patient), s)
    members = latest_spans(eligibility).to_pyarrow()
    patients = patient_demographics(patient).to_pyarrow()
    con = ibis.duckdb.connect()
    return _link_duckdb(con, ibis.memtable(members), ibis.memtable(patients), s)


def _name() -> str:
    return f"pv_link_{uuid.uuid4().hex[:10]}"


def _bare(t: ir.Table) -> str:
    """Unqualified table name (Splink looks tables up by name in the catalog)."""
    return t.get_name().split(".")[-1]


def _link_duckdb(con, members_raw: ir.Table, patients_raw: ir.Table, s: LinkSettings) -> LinkResult:
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}

    def keep(expr: ir.Table) -> ir.Table:
        return con.create_table(_name(), expr, temp=True)

    def n(expr: ir.Table) -> int:
        return int(expr.count().execute())

    members = keep(member_records(members_raw))
    patients = keep(patient_records(patients_raw))
    n_members, n_patients = n(members), n(patients)
    seconds["prepare"] = time.perf_counter() - t0

    t = time.perf_counter()
    det = keep(deterministic_links(members, patients))
    n_det = n(det)
    rest_m = keep(members.anti_join(det, members.unique_id == det.member_id))
    rest_p = keep(patients.anti_join(det, patients.unique_id == det.patient_id))
    n_rest_m, n_rest_p = n(rest_m), n(rest_p)
    seconds["deterministic"] = time.perf_counter() - t

    counts = {
        "members": n_members,
        "patients": n_patients,
        "deterministic": n_det,
        "scored_pairs": 0,
        "candidate_pairs": 0,
    }
    model = None
    if n_rest_m and n_rest_p and n_members > 1 and n_patients > 1:
        t = time.perf_counter()
        model = M.train(con.con, _bare(members), _bare(patients), s)
        seconds["train"] = time.perf_counter() - t

        t = time.perf_counter()
        prior = remainder_prior(model, n_det, n_members, n_patients, n_rest_m, n_rest_p)
        model["probability_two_random_records_match"] = prior
        pred_name, drop_scored = M.score(con.con, _bare(rest_m), _bare(rest_p), model, prior, None)
        scored = con.table(pred_name)
        counts["scored_pairs"] = n(scored)
        pairs = keep(_oriented(scored.filter(scored.match_probability >= s.lower)))
        drop_scored()
        counts["candidate_pairs"] = n(pairs)
        seconds["score"] = time.perf_counter() - t

        t = time.perf_counter()
        accept = pairs.filter(
            (pairs.match_probability >= s.upper) & ~pairs.first_names_unrelated
        ).select("member_id", "patient_id", "match_probability", "match_weight")
        prob = one_to_one(keep(accept), keep)
        crosswalk = keep(
            det.union(
                prob.mutate(match_method=ibis.literal("probabilistic")).select(
                    *CROSSWALK_SCHEMA.names
                )
            ).order_by("member_id")
        )
        review = keep(review_queue(pairs, crosswalk, s))
        seconds["resolve"] = time.perf_counter() - t
    else:
        crosswalk = det
        review = keep(ibis.memtable(REVIEW_SCHEMA.to_pyarrow().empty_table()))

    n_cross = n(crosswalk)
    counts["probabilistic"] = n_cross - n_det
    counts["review_queue"] = n(review)
    counts["unmatched_members"] = n_members - n_cross
    counts["unmatched_patients"] = n_patients - n_cross
    seconds["total"] = time.perf_counter() - t0
    return LinkResult(
        crosswalk, review, counts, {k: round(v, 3) for k, v in seconds.items()}, model
    )


def deterministic_links(members: ir.Table, patients: ir.Table) -> ir.Table:
    """Pairs that share a unique person_id and birth date, or a unique exact key."""

    def unique(t: ir.Table, cols: tuple[str, ...]) -> ir.Table:
        t = t.filter([t[c].notnull() for c in cols])
        once = t.group_by(list(cols)).aggregate(_n=t.count()).filter(lambda x: x._n == 1)
        return t.semi_join(once, list(cols))

    id_cols = ("person_id", "birth_date")
    mi, pi = unique(members, id_cols), unique(patients, id_cols)
    by_id = mi.join(pi, list(id_cols)).select(
        member_id=mi.unique_id, patient_id=pi.unique_id, _pass=ibis.literal(0)
    )
    mk, pk = unique(members, KEYS), unique(patients, KEYS)
    by_key = mk.join(pk, list(KEYS)).select(
        member_id=mk.unique_id, patient_id=pk.unique_id, _pass=ibis.literal(1)
    )
    both = by_id.union(by_key)
    wm = ibis.window(group_by=both.member_id, order_by=[both._pass, both.patient_id])
    wp = ibis.window(group_by=both.patient_id, order_by=[both._pass, both.member_id])
    ranked = both.mutate(_rm=ibis.row_number().over(wm), _rp=ibis.row_number().over(wp))
    # a member linked by id and a different patient by key keeps the id link; a pair ranked
    # second on either side is dropped rather than guessed
    best = ranked.filter((ranked._rm == 0) & (ranked._rp == 0))
    return best.select(
        "member_id",
        "patient_id",
        match_method=ibis.literal("deterministic"),
        match_probability=ibis.literal(1.0, "float64"),
        match_weight=ibis.null("float64"),
    )


def remainder_prior(
    model: dict, n_det: int, n_members: int, n_patients: int, n_rest_m: int, n_rest_p: int
) -> float:
    """Probability that a random remaining member–patient pair is a match.

    Expected true pairs = deterministic links / share of true pairs agreeing on every key
    (product of the model's exact-level m probabilities); those not linked yet are spread over
    the remaining pairs. Without deterministic links, fall back to one match per smaller side.
    """
    share = M.exact_level_m(model, KEY_COMPARISONS) * M.same_zip_m(model)
    if n_det > 0 and share > 0:
        expected = n_det / share
        remaining = max(expected - n_det, 1.0)
    else:
        remaining = float(min(n_rest_m, n_rest_p))
    remaining = min(remaining, float(min(n_rest_m, n_rest_p)))
    prior = remaining / (float(n_rest_m) * float(n_rest_p))
    return min(max(prior, 1e-12), 0.5)


def _oriented(pred: ir.Table) -> ir.Table:
    """Splink's ``_l``/``_r`` columns as member/patient columns."""
    m_left = pred.source_dataset_l == M.MEMBERS

    def pick(col: str, side: str) -> ir.Value:
        left, right = pred[f"{col}_l"], pred[f"{col}_r"]
        return m_left.ifelse(left, right) if side == "member" else m_left.ifelse(right, left)

    fields = {f"{side}_{f}": pick(f, side) for f in REVIEW_FIELDS for side in ("member", "patient")}
    return pred.select(
        member_id=pick("unique_id", "member"),
        patient_id=pick("unique_id", "patient"),
        match_probability=pred.match_probability.cast("float64"),
        match_weight=pred.match_weight.cast("float64"),
        first_names_unrelated=pred.gamma_first_name == M.FIRST_NAME_UNRELATED_GAMMA,
        **fields,
    )


def one_to_one(pairs: ir.Table, keep) -> ir.Table:
    """Resolve conflicts so each member and each patient appears at most once, best first."""
    chosen: ir.Table | None = None
    remaining = pairs
    for _ in range(MAX_ROUNDS):
        wm = ibis.window(
            group_by=remaining.member_id,
            order_by=[remaining.match_weight.desc(), remaining.patient_id],
        )
        wp = ibis.window(
            group_by=remaining.patient_id,
            order_by=[remaining.match_weight.desc(), remaining.member_id],
        )
        ranked = remaining.mutate(_rm=ibis.row_number().over(wm), _rp=ibis.row_number().over(wp))
        best = keep(ranked.filter((ranked._rm == 0) & (ranked._rp == 0)).drop("_rm", "_rp"))
        chosen = best if chosen is None else chosen.union(best)
        remaining = keep(remaining.anti_join(best, "member_id").anti_join(best, "patient_id"))
        if int(remaining.count().execute()) == 0:
            break
    assert chosen is not None
    return chosen


def review_queue(pairs: ir.Table, crosswalk: ir.Table, s: LinkSettings) -> ir.Table:
    """Pairs from ``lower`` up (not accepted) whose member and patient are both still unlinked."""
    q = pairs.filter(pairs.match_probability >= s.lower)
    q = q.anti_join(crosswalk, "member_id").anti_join(crosswalk, "patient_id")
    reason = q.first_names_unrelated.ifelse(
        "first names unrelated",
        (q.match_probability >= s.upper).ifelse("conflict", ibis.literal("between thresholds")),
    )
    out = q.mutate(reason=reason).select(*REVIEW_SCHEMA.names)
    return out.order_by([ibis.desc("match_probability"), "member_id", "patient_id"])
