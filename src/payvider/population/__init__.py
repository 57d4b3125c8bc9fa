"""Population scopes: which members a figure is about."""

from payvider.population.scopes import (
    BUILTIN_SCOPES,
    Scope,
    ScopeError,
    load_scopes,
    scope_member_months,
)

__all__ = ["BUILTIN_SCOPES", "Scope", "ScopeError", "load_scopes", "scope_member_months"]
