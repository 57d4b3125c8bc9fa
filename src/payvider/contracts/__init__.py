"""Contracts: terms as data (``terms``), the settlement engine (``settlement``), templates,
summary-mode settlement from a CSV (``summary``) and the CMS ACO results converter (``mssp_puf``)."""

from payvider.contracts.settlement import LineItem, PerformanceYearFigures, Settlement, settle
from payvider.contracts.terms import ContractError, ContractTerms, load_terms, parse_terms

__all__ = [
    "ContractError",
    "ContractTerms",
    "LineItem",
    "PerformanceYearFigures",
    "Settlement",
    "load_terms",
    "parse_terms",
    "settle",
]
