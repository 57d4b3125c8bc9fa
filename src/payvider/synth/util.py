"""Seeded random streams, calendar arithmetic and vectorised sampling helpers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)

#: Stream identifiers: each part of the generator draws from its own stream, so adding draws to
#: one part does not shift the numbers another part sees.
STREAMS = {
    "roster": 1,
    "members": 2,
    "enrollment": 3,
    "claims": 4,
    "pharmacy": 5,
    "ehr": 6,
    "benchmark": 7,
    "linkage": 8,
    "adjust": 9,
    "nonmember": 10,
}


def day(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def rng_for(seed: int, stream: str, block: int = 0) -> np.random.Generator:
    """An independent generator for (seed, stream, block)."""
    return np.random.default_rng(
        np.random.SeedSequence([seed & 0xFFFFFFFF, STREAMS[stream], block])
    )


def years_of(days: np.ndarray) -> np.ndarray:
    return (
        np.asarray(days, dtype="int64")
        .astype("datetime64[D]")
        .astype("datetime64[Y]")
        .astype(np.int64)
        + 1970
    )


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01."""
    return (
        np.asarray(days, dtype="int64")
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def month_start_day(months: np.ndarray) -> np.ndarray:
    return (
        np.asarray(months, dtype="int64")
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def year_start_day(years: np.ndarray) -> np.ndarray:
    return (
        (np.asarray(years, dtype="int64") - 1970)
        .astype("datetime64[Y]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def age_at(birth: np.ndarray, at: np.ndarray | int) -> np.ndarray:
    """Whole years of age at day ``at`` (calendar based, leap-year safe)."""
    b = np.asarray(birth, dtype="int64").astype("datetime64[D]")
    a = np.asarray(at, dtype="int64").astype("datetime64[D]")

    def parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = x.astype("datetime64[Y]")
        m = x.astype("datetime64[M]")
        return (
            y.astype(np.int64),
            (m - y.astype("datetime64[M]")).astype(np.int64),
            (x - m.astype("datetime64[D]")).astype(np.int64),
        )

    by, bm, bd = parts(b)
    ay, am, ad = parts(a)
    before = (am < bm) | ((am == bm) & (ad < bd))
    return ay - by - before.astype(np.int64)


def luhn_npi_check(base9: np.ndarray) -> np.ndarray:
    """NPI check digits (Luhn over '80840' + the nine leading digits)."""
    x = np.asarray(base9, dtype=np.int64).copy()
    total = np.full(len(x), 24, dtype=np.int64)  # the '80840' prefix contributes 24
    for pos in range(9):  # pos 0 = rightmost of the nine digits, which is doubled
        d = x % 10
        x //= 10
        if pos % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    return (10 - total % 10) % 10


def npi_is_valid(npi: str) -> bool:
    """Luhn check of a 10-digit NPI (with the 80840 prefix)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    return int(luhn_npi_check(np.array([int(npi[:9])]))[0]) == int(npi[9])


def categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) weight matrix; rows of zeros give -1."""
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w, axis=1)
    tot = c[:, -1]
    u = rng.random(len(w)) * tot
    idx = (c < u[:, None]).sum(axis=1)
    idx = np.minimum(idx, w.shape[1] - 1)
    return np.where(tot > 0, idx, -1)


def choice(rng: np.random.Generator, p: Sequence[float], size: int) -> np.ndarray:
    """Indices drawn with probabilities ``p`` (normalised)."""
    pa = np.asarray(p, dtype=np.float64)
    c = np.cumsum(pa / pa.sum())
    return np.minimum(np.searchsorted(c, rng.random(size), side="right"), len(pa) - 1)


def pick(rng: np.random.Generator, pool: np.ndarray, size: int) -> np.ndarray:
    """Uniform draws from ``pool`` (an array of ids)."""
    if size == 0:
        return np.empty(0, dtype=pool.dtype)
    return pool[rng.integers(0, len(pool), size)]


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal (sorted) group keys."""
    n = len(groups)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    start = np.ones(n, dtype=bool)
    start[1:] = groups[1:] != groups[:-1]
    idx = np.arange(n)
    first = np.maximum.accumulate(np.where(start, idx, 0))
    return idx - first


def repeat_index(counts: np.ndarray) -> np.ndarray:
    """For counts [2, 0, 3] -> [0, 0, 2, 2, 2]."""
    return np.repeat(np.arange(len(counts)), counts)


def within_index(counts: np.ndarray) -> np.ndarray:
    """For counts [2, 0, 3] -> [0, 1, 0, 1, 2]."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)


def lognormal_median(rng: np.random.Generator, median: float, sd: float, size: int) -> np.ndarray:
    return median * np.exp(sd * rng.standard_normal(size))
