"""The bad-input corpus: each broken input gets a clear message naming the file and problem, or
its rows go to quarantine with a reason, and the counts always reconcile."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from payvider.ingest import InputRejected, load_batch


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture does not contain {old!r}"
    path.write_text(text.replace(old, new, 1))


def _quarantine(workspace, report) -> list[dict]:
    return pq.read_table(workspace.batches_dir / report.batch_id / "quarantine.parquet").to_pylist()


def _counts(report, table: str) -> tuple[int, int, int]:
    t = next(t for t in report.tables if t.table == table)
    assert t.read == t.loaded + t.quarantined
    return t.read, t.loaded, t.quarantined


def _assert_nothing_loaded(workspace) -> None:
    assert workspace.batch_ids() == []
    assert [p.name for p in workspace.batches_dir.iterdir()] == []  # no half-written batch


def test_valid_fixture_loads_everything(workspace, canonical_dir):
    report = load_batch(workspace, canonical_dir)
    assert report.status == "loaded"
    assert _counts(report, "eligibility") == (6, 6, 0)
    assert _counts(report, "medical_claim") == (10, 10, 0)
    assert _counts(report, "medical_claim_diagnosis") == (10, 10, 0)
    assert report.ignored_files == ["SOURCE.txt"]
    assert _quarantine(workspace, report) == []


def test_missing_required_column_rejects_the_batch(workspace, canonical_dir):
    path = canonical_dir / "medical_claim.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("claim_type")
    path.write_text(
        "\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in lines)
        + "\n"
    )
    with pytest.raises(InputRejected) as exc:
        load_batch(workspace, canonical_dir)
    assert exc.value.file == "medical_claim.csv"
    assert "missing required column(s) for medical_claim: claim_type" in str(exc.value)
    _assert_nothing_loaded(workspace)


def test_wrong_type_is_quarantined(workspace, canonical_dir):
    _edit(canonical_dir / "medical_claim.csv", ",50.00,40.00,", ",5O.00,40.00,")
    report = load_batch(workspace, canonical_dir)
    assert _counts(report, "medical_claim") == (10, 9, 1)
    [q] = _quarantine(workspace, report)
    assert q == {
        "table": "medical_claim",
        "file": "medical_claim.csv",
        "row": 2,
        "field": "allowed_amount",
        "value": "5O.00",
        "reason": "not an amount (expected a number such as 1234.56)",
    }


def test_bad_date_is_quarantined(workspace, canonical_dir):
    _edit(
        canonical_dir / "medical_claim.csv",
        "C4,1,professional,original,,M4,Acme Health,2024-05-01",
        "C4,1,professional,original,,M4,Acme Health,2024-02-30",
    )
    report = load_batch(workspace, canonical_dir)
    rows = _quarantine(workspace, report)
    assert [(r["row"], r["field"], r["value"], r["reason"]) for r in rows] == [
        (7, "claim_start_date", "2024-02-30", "not a date (expected YYYY-MM-DD)")
    ]
    assert _counts(report, "medical_claim") == (10, 9, 1)


def test_end_before_start_is_quarantined(workspace, canonical_dir):
    _edit(canonical_dir / "eligibility.csv", "2024-03-01,2024-03-31", "2024-03-01,2024-02-28")
    report = load_batch(workspace, canonical_dir)
    [q] = _quarantine(workspace, report)
    assert (q["table"], q["row"], q["field"], q["reason"]) == (
        "eligibility",
        4,
        "enrollment_end_date",
        "enrollment_end_date is before enrollment_start_date",
    )
    assert _counts(report, "eligibility") == (6, 5, 1)


def test_far_future_date_is_quarantined(workspace, canonical_dir):
    _edit(
        canonical_dir / "eligibility.csv",
        "2024-12-31,Acme Health,medicare_advantage",
        "2099-12-31,Acme Health,medicare_advantage",
    )
    report = load_batch(workspace, canonical_dir)
    [q] = _quarantine(workspace, report)
    assert q["field"] == "enrollment_end_date" and q["reason"].startswith("far-future date")


def test_invalid_npi_is_quarantined(workspace, canonical_dir):
    # 1234567890 fails the NPI check digit (1234567893 is the valid one).
    _edit(canonical_dir / "medical_claim.csv", "99213,1555555550", "99213,1234567890")
    report = load_batch(workspace, canonical_dir)
    [q] = _quarantine(workspace, report)
    assert (q["row"], q["field"], q["value"], q["reason"]) == (
        3,
        "rendering_npi",
        "1234567890",
        "not 10 digits with a valid check digit",
    )


def test_unknown_code_is_quarantined(workspace, canonical_dir):
    _edit(canonical_dir / "medical_claim.csv", "C2,1,professional", "C2,1,dental")
    _edit(canonical_dir / "eligibility.csv", "medicaid,MCD", "medicare_supplement,MCD")
    report = load_batch(workspace, canonical_dir)
    rows = {
        (r["table"], r["field"], r["value"]): r["reason"] for r in _quarantine(workspace, report)
    }
    assert rows == {
        (
            "medical_claim",
            "claim_type",
            "dental",
        ): "unknown code: not one of institutional, professional",
        ("eligibility", "product_line", "medicare_supplement"): (
            "unknown code: not one of commercial, medicare_advantage, medicare_ffs, medicaid"
        ),
    }


def test_malformed_diagnosis_code_is_quarantined_with_its_source_column(workspace, canonical_dir):
    _edit(
        canonical_dir / "medical_claim.csv",
        "99213,1555555550,1987654328,410000001,2024-03-30,200.00,150.00,J06.9",
        "99213,1555555550,1987654328,410000001,2024-03-30,200.00,150.00,J0-6",
    )
    report = load_batch(workspace, canonical_dir)
    [q] = _quarantine(workspace, report)
    assert (q["table"], q["file"], q["row"], q["field"], q["value"]) == (
        "medical_claim_diagnosis",
        "medical_claim.csv",
        3,
        "diagnosis_code_1",
        "J0-6",
    )
    assert _counts(report, "medical_claim_diagnosis") == (10, 9, 1)


def test_void_without_original_is_quarantined(workspace, canonical_dir):
    _edit(
        canonical_dir / "medical_claim.csv",
        "C3V,1,institutional,void,C3,",
        "C3V,1,institutional,void,C33,",
    )
    report = load_batch(workspace, canonical_dir)
    [q] = _quarantine(workspace, report)
    assert (q["row"], q["field"], q["value"], q["reason"]) == (
        6,
        "adjusted_claim_id",
        "C33",
        "void without original: the claim it voids is not loaded",
    )
    assert _counts(report, "medical_claim") == (10, 9, 1)


def test_void_finds_its_original_in_an_earlier_batch(workspace, canonical_dir, tmp_path):
    claims = (canonical_dir / "medical_claim.csv").read_text().splitlines()
    header, rows = claims[0], claims[1:]
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "medical_claim.csv").write_text(
        "\n".join([header] + [r for r in rows if not r.startswith("C3V")]) + "\n"
    )
    (second / "medical_claim.csv").write_text(
        "\n".join([header] + [r for r in rows if r.startswith("C3V")]) + "\n"
    )
    load_batch(workspace, first)
    report = load_batch(workspace, second)
    assert _counts(report, "medical_claim") == (1, 1, 0)


def test_duplicate_primary_key_is_quarantined(workspace, canonical_dir):
    path = canonical_dir / "medical_claim.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    report = load_batch(workspace, canonical_dir)
    [q] = _quarantine(workspace, report)
    assert (q["row"], q["field"], q["value"], q["reason"]) == (
        11,
        "claim_id,claim_line_number",
        "C1|1",
        "duplicate primary key; first seen at row 1",
    )
    assert _counts(report, "medical_claim") == (11, 10, 1)


def test_row_with_wrong_number_of_fields_is_quarantined(workspace, canonical_dir):
    path = canonical_dir / "eligibility.csv"
    lines = path.read_text().splitlines()
    lines.insert(3, "M9,Short,Row")
    path.write_text("\n".join(lines) + "\n")
    report = load_batch(workspace, canonical_dir)
    [q] = _quarantine(workspace, report)
    assert (q["row"], q["reason"]) == (3, "row has 3 fields, the header has 13")
    assert _counts(report, "eligibility") == (7, 6, 1)


def test_empty_file_rejects_the_batch(workspace, canonical_dir):
    (canonical_dir / "eligibility.csv").write_text("")
    with pytest.raises(InputRejected, match=r"^eligibility.csv: file is empty$"):
        load_batch(workspace, canonical_dir)
    _assert_nothing_loaded(workspace)


def test_header_only_file_rejects_the_batch(workspace, canonical_dir):
    path = canonical_dir / "eligibility.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    with pytest.raises(InputRejected, match="eligibility.csv: file has a header but no rows"):
        load_batch(workspace, canonical_dir)
    _assert_nothing_loaded(workspace)


def test_truncated_file_rejects_the_batch(workspace, canonical_dir):
    path = canonical_dir / "medical_claim.csv"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # cut inside the last row
    with pytest.raises(InputRejected) as exc:
        load_batch(workspace, canonical_dir)
    assert exc.value.file == "medical_claim.csv"
    assert exc.value.problem.startswith("truncated: the last row (row 10)")
    _assert_nothing_loaded(workspace)


def test_non_utf8_file_rejects_the_batch(workspace, canonical_dir):
    path = canonical_dir / "eligibility.csv"
    path.write_bytes(path.read_text().replace("Ann,Lee", "José,Lee").encode("latin-1"))
    with pytest.raises(InputRejected, match=r"eligibility.csv: not UTF-8 text"):
        load_batch(workspace, canonical_dir)
    _assert_nothing_loaded(workspace)


def test_wrong_delimiter_rejects_the_batch(workspace, canonical_dir):
    path = canonical_dir / "eligibility.csv"
    path.write_text(path.read_text().replace(",", ";"))
    with pytest.raises(InputRejected, match="eligibility.csv: wrong delimiter.*semicolon"):
        load_batch(workspace, canonical_dir)
    _assert_nothing_loaded(workspace)


def test_unrecognised_data_file_rejects_the_batch(workspace, canonical_dir):
    (canonical_dir / "claims_export.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputRejected, match="claims_export.csv: does not match a canonical table"):
        load_batch(workspace, canonical_dir)


def test_damaged_parquet_rejects_the_batch(workspace, canonical_dir):
    (canonical_dir / "provider.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(InputRejected, match="provider.parquet: not a readable Parquet file"):
        load_batch(workspace, canonical_dir)


def test_same_batch_twice_adds_nothing(workspace, canonical_dir, tmp_path):
    first = load_batch(workspace, canonical_dir)
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in canonical_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    again = load_batch(workspace, copy)
    assert again.status == "already loaded"
    assert again.batch_id == first.batch_id
    assert workspace.batch_ids() == [first.batch_id]


def test_parquet_input_loads_like_csv(workspace, canonical_dir, tmp_path):
    import pyarrow.csv as pacsv

    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    for name in ("eligibility", "medical_claim"):
        table = pacsv.read_csv(canonical_dir / f"{name}.csv")
        pq.write_table(table, pq_dir / f"{name}.parquet")
    report = load_batch(workspace, pq_dir)
    assert _counts(report, "eligibility") == (6, 6, 0)
    assert _counts(report, "medical_claim") == (10, 10, 0)
