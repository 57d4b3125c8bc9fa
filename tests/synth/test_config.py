"""SynthConfig: defaults, YAML loading and clear errors for bad parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from payvider.synth import SynthConfig


def test_defaults_are_valid() -> None:
    cfg = SynthConfig()
    assert cfg.market_trend - cfg.partner_trend == pytest.approx(0.06)
    assert cfg.years == [2023, 2024, 2025]


def test_from_yaml_reads_nested_parameters(tmp_path: Path) -> None:
    p = tmp_path / "params.yaml"
    p.write_text(
        "market_trend: 0.05\n"
        "partner_trend: 0.01\n"
        "leakage: 0.4\n"
        "readmission:\n  relative_reduction: 0.25\n  program_start: 2024-01-01\n"
        "product_mix: {commercial: 0.5, medicare_advantage: 0.3, medicaid: 0.2}\n"
    )
    cfg = SynthConfig.from_yaml(p)
    assert cfg.leakage == 0.4
    assert cfg.readmission.relative_reduction == 0.25
    assert str(cfg.readmission.program_start) == "2024-01-01"
    assert cfg.product_mix.medicaid == 0.2


def test_from_yaml_names_unknown_and_invalid_fields(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("leakge: 0.3\nleakage: 1.5\nopioid:\n  taper_reduced_share: abc\n")
    with pytest.raises(ValueError) as exc:
        SynthConfig.from_yaml(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "leakge" in msg
    assert "leakage" in msg
    assert "opioid.taper_reduced_share" in msg


def test_from_yaml_rejects_non_mapping_and_bad_yaml(tmp_path: Path) -> None:
    p = tmp_path / "list.yaml"
    p.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping"):
        SynthConfig.from_yaml(p)
    q = tmp_path / "broken.yaml"
    q.write_text("a: [1, 2\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        SynthConfig.from_yaml(q)


def test_cross_field_rules() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        SynthConfig(product_mix={"commercial": 0.5, "medicare_advantage": 0.3, "medicaid": 0.3})
    with pytest.raises(ValueError, match="as_of_date"):
        SynthConfig(as_of_date="2025-06-30")
    with pytest.raises(ValueError):
        SynthConfig(opioid={"taper_reduced_share": 0.8, "taper_discontinued_share": 0.4})
