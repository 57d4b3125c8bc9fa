"""The probabilistic model (Fellegi–Sunter, estimated and scored by Splink 5 on DuckDB).

Comparisons: first name (exact, nickname, spelling), last name (exact, spelling), birth date
(exact, off by a day or with month and day swapped), sex, and location (same address, same phone,
same ZIP code, same area) as one comparison because a move changes all of them at once.
u probabilities come from a seeded random sample of record pairs; m probabilities from two
expectation-maximisation sessions (blocked on birth date, then on first and last name), each on a
deterministic hash sample of blocked pairs. The same seed and inputs give the same model.

Blocking rules for scoring each need one identifying field to agree exactly, so that every kind of
single-field error (a typo in either name, a nickname, a move, a new surname, a wrong birth date)
is still caught by at least one rule, while the pairs to score grow roughly linearly with the
population.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import duckdb
from splink import Linker, SettingsCreator
from splink.backends.duckdb import DuckDBAPI

from payvider.link.settings import LinkSettings

MEMBERS, PATIENTS = "members", "patients"

#: Label of the level in each comparison that the deterministic keys require.
EXACT = "exact"
#: The first-name level meaning "unrelated first names" (no nickname, not a misspelling).
FIRST_NAME_UNRELATED_GAMMA = 0


def _null(col: str) -> dict[str, Any]:
    return {
        "sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL',
        "label_for_charts": "null",
        "is_null_level": True,
    }


def _level(sql: str, label: str) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label}


def _else() -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": "else"}


def _jw(col: str, t: float) -> str:
    return f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {t}'


def comparisons() -> list[dict[str, Any]]:
    """Comparison levels, most specific first (the ``else`` level is gamma 0)."""
    exact = lambda c: _level(f'"{c}_l" = "{c}_r"', EXACT)  # noqa: E731
    return [
        {
            "output_column_name": "first_name",
            "comparison_levels": [
                _null("first_name"),
                exact("first_name"),
                _level(
                    'list_contains("first_name_alts_l", "first_name_r")',
                    "nickname",
                ),
                _level(_jw("first_name", 0.92), "jaro-winkler >= 0.92"),
                _level(_jw("first_name", 0.80), "jaro-winkler >= 0.80"),
                _level(
                    'length("first_name_l") <= 4 AND '
                    'levenshtein("first_name_l", "first_name_r") <= 2',
                    "short name, two edits apart",
                ),
                _else(),
            ],
        },
        {
            "output_column_name": "last_name",
            "comparison_levels": [
                _null("last_name"),
                exact("last_name"),
                _level(_jw("last_name", 0.92), "jaro-winkler >= 0.92"),
                _level(_jw("last_name", 0.80), "jaro-winkler >= 0.80"),
                _else(),
            ],
        },
        {
            "output_column_name": "birth_date",
            "comparison_levels": [
                _null("birth_date"),
                exact("birth_date"),
                _level(
                    'abs(date_diff(\'day\', "birth_date_l", "birth_date_r")) <= 1 OR ('
                    'year("birth_date_l") = year("birth_date_r") AND '
                    'month("birth_date_l") = day("birth_date_r") AND '
                    'day("birth_date_l") = month("birth_date_r"))',
                    "one day apart or month and day swapped",
                ),
                _level(
                    '(year("birth_date_l") = year("birth_date_r"))::INT + '
                    '(month("birth_date_l") = month("birth_date_r"))::INT + '
                    '(day("birth_date_l") = day("birth_date_r"))::INT = 2',
                    "two of year, month and day equal",
                ),
                _else(),
            ],
        },
        {
            "output_column_name": "sex",
            "comparison_levels": [_null("sex"), exact("sex"), _else()],
        },
        {
            # Address, phone and ZIP code move together: one comparison, so that a member who
            # moved is not penalised three times for one event.
            "output_column_name": "location",
            "comparison_levels": [
                {
                    "sql_condition": " AND ".join(
                        f'("{c}_l" IS NULL OR "{c}_r" IS NULL)' for c in ("address", "phone", "zip")
                    ),
                    "label_for_charts": "null",
                    "is_null_level": True,
                },
                _level('"address_l" = "address_r" AND "zip_l" = "zip_r"', "same address"),
                _level('"phone_l" = "phone_r"', "same phone"),
                _level(
                    '"zip_l" = "zip_r" AND ' + _jw("address", 0.90), "same ZIP, similar address"
                ),
                _level('"zip_l" = "zip_r"', "same ZIP code"),
                _level('substr("zip_l", 1, 3) = substr("zip_r", 1, 3)', "same 3-digit area"),
                _else(),
            ],
        },
    ]


#: Blocking rules for scoring: a candidate pair agrees on at least one of these.
BLOCKING_RULES = (
    "l.birth_date = r.birth_date AND l.zip = r.zip",
    "l.birth_date = r.birth_date AND substr(l.last_name, 1, 1) = substr(r.last_name, 1, 1)",
    "l.birth_date = r.birth_date AND substr(l.first_name, 1, 1) = substr(r.first_name, 1, 1)",
    "l.first_name = r.first_name AND l.last_name = r.last_name AND l.birth_year = r.birth_year",
    "l.phone = r.phone AND l.birth_year = r.birth_year",
)

#: Blocking of the EM sessions: each leaves the other's fields free to be estimated.
TRAINING_BLOCKS = (
    "l.birth_date = r.birth_date",
    "l.first_name = r.first_name AND l.last_name = r.last_name",
)


def base_settings() -> dict[str, Any]:
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
        em_convergence=0.0001,
    ).create_settings_dict(sql_dialect_str="duckdb")


def _linker(
    con: duckdb.DuckDBPyConnection, members: str, patients: str, settings: dict[str, Any]
) -> Linker:
    api = DuckDBAPI(connection=con)
    left = api.register(members, dataset_display_name=MEMBERS)
    right = api.register(patients, dataset_display_name=PATIENTS)
    return Linker([left, right], settings, log_level=None)


def train(
    con: duckdb.DuckDBPyConnection, members: str, patients: str, s: LinkSettings
) -> dict[str, Any]:
    """Estimate u (seeded random sample) and m (EM) on all members and patients."""
    _quiet()
    linker = _linker(con, members, patients, base_settings())
    linker.training.estimate_u_using_random_sampling(max_pairs=s.u_max_pairs, seed=s.seed)
    for rule in TRAINING_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=s.em_max_pairs
        )
    model = linker.misc.save_model_to_json()
    linker.table_management.delete_tables_created_by_splink_from_db()
    return _rounded(model)


def _rounded(model: dict[str, Any]) -> dict[str, Any]:
    """m and u to 9 significant digits: multithreaded sums make the last bits vary from run to
    run; rounding makes the same inputs give bit-identical scores."""
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            for k in ("m_probability", "u_probability"):
                if isinstance(level.get(k), float):
                    level[k] = float(f"{level[k]:.9g}")
    return model


#: Location levels that (nearly always) mean the same ZIP code.
SAME_ZIP_LEVELS = ("same address", "same phone", "same ZIP, similar address", "same ZIP code")


def same_zip_m(model: dict[str, Any]) -> float:
    """The model's estimate of the share of true pairs with the same ZIP code."""
    for comp in model["comparisons"]:
        if comp["output_column_name"] == "location":
            return sum(
                float(level.get("m_probability") or 0.0)
                for level in comp["comparison_levels"]
                if level.get("label_for_charts") in SAME_ZIP_LEVELS
            )
    return 1.0


def exact_level_m(model: dict[str, Any], names: tuple[str, ...]) -> float:
    """Product of the m probabilities of the exact levels of ``names``: the model's estimate
    of the share of true pairs that agree exactly on all of them (the deterministic keys)."""
    out = 1.0
    for comp in model["comparisons"]:
        if comp["output_column_name"] in names:
            for level in comp["comparison_levels"]:
                if level.get("label_for_charts") == EXACT:
                    out *= float(level.get("m_probability") or 1.0)
    return out


def score(
    con: duckdb.DuckDBPyConnection,
    members: str,
    patients: str,
    model: dict[str, Any],
    prior: float,
    threshold: float | None,
) -> tuple[str, Callable[[], None]]:
    """Score candidate pairs of ``members`` × ``patients``.

    Returns the name of the DuckDB table of scored pairs (at or above ``threshold`` if given;
    the member side is ``_l`` when source_dataset_l is ``members``) and a function that drops
    every table Splink made, to call once the pairs are copied.
    """
    _quiet()
    settings = copy.deepcopy(model)
    settings["probability_two_random_records_match"] = prior
    linker = _linker(con, members, patients, settings)
    pred = linker.inference.predict(threshold_match_probability=threshold)
    return pred.physical_name, linker.table_management.delete_tables_created_by_splink_from_db


def _quiet() -> None:
    """Splink logs progress at INFO; keep it (and any PHI in SQL) out of the caller's logs."""
    logging.getLogger("splink").setLevel(logging.WARNING)
