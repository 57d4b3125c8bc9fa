"""Generated populations shared by the synthetic-data tests (session scoped, a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from payvider.synth import SynthConfig, generate_population
from payvider.synth.config import OpioidEffect, PerLine, ReadmissionEffect

from .helpers import connect

#: The default world, small enough for unit tests.
MEMBERS = 4_000
SEED = 11


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "default"
    generate_population(out, members=MEMBERS, seed=SEED)
    return out


@pytest.fixture(scope="session")
def db(population: Path):
    con = connect(population)
    yield con
    con.close()


def effects_config() -> SynthConfig:
    """A world with more of the rare events, so planted effects are measurable at 6,000 members:
    an older book (more admissions), more partner-PCP members, more chronic opioid users and a
    larger readmission reduction."""
    return SynthConfig(
        product_mix=PerLine(commercial=0.3, medicare_advantage=0.6, medicaid=0.1),
        partner_pcp_share=0.5,
        readmission=ReadmissionEffect(relative_reduction=0.6),
        opioid=OpioidEffect(
            chronic_rate=PerLine(commercial=0.15, medicare_advantage=0.2, medicaid=0.2)
        ),
    )


@pytest.fixture(scope="session")
def effects_population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "effects"
    generate_population(out, members=6_000, seed=5, config=effects_config())
    return out


@pytest.fixture(scope="session")
def edb(effects_population: Path):
    con = connect(effects_population)
    yield con
    con.close()
