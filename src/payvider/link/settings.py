"""Settings of member ↔ patient linkage: thresholds, seed and training sizes.

They are part of a run's parameters (recorded in its manifest), so a crosswalk reproduces exactly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LinkSettings(BaseModel):
    """Thresholds on the match probability and the sizes of the model's training samples."""

    model_config = ConfigDict(extra="forbid")

    #: Pairs at or above this match probability are linked automatically.
    upper: float = Field(0.95, gt=0, le=1)
    #: Pairs at or above this (and below ``upper``) go to the review queue; below it, rejected.
    lower: float = Field(0.50, gt=0, le=1)
    #: Seed of the random pair sample that estimates the u probabilities.
    seed: int = 42
    #: Random record pairs sampled to estimate u probabilities (non-match agreement rates).
    u_max_pairs: int = Field(5_000_000, ge=10_000)
    #: Blocked pairs used by each expectation-maximisation session (a deterministic sample).
    em_max_pairs: int = Field(2_000_000, ge=10_000)

    @model_validator(mode="after")
    def _ordered(self) -> LinkSettings:
        if self.lower > self.upper:
            raise ValueError("linkage lower threshold must not exceed the upper threshold")
        return self
