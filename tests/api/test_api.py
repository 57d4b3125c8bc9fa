"""The REST API on a hand-made run (tests/api/conftest.py): authentication, roles, suppression,
pagination, filters, audit, settlements, exports and error handling."""

from __future__ import annotations

import csv
import io
import json
import logging

from tests.api.conftest import MEMBERS, ORG_A, ORG_B, auth

ORG_A_MEMBERS = {m["member_id"] for m in MEMBERS if m["org"] == ORG_A}
PLAN_ONE_MEMBERS = {m["member_id"] for m in MEMBERS if m["payer"] == "plan one"}


def test_openapi_is_served(client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/datasets/{name}" in spec["paths"]
    assert "/api/settlements/{settlement_id}/drilldown" in spec["paths"]


def test_token_required_and_stored_hashed(client):
    assert client.get("/api/datasets/membership").status_code == 401
    bad = client.get("/api/me", headers={"Authorization": "Bearer pvk_not-a-token"})
    assert bad.status_code == 401 and "token" in bad.json()["error"]
    assert client.get("/api/me", headers=auth(client, "provider")).json()["role"] == (
        "provider_analyst"
    )
    stored = (client.root / "users.json").read_text()
    for token in client.tokens.values():
        assert token not in stored


def test_removed_user_token_stops_working(client):
    from payvider.api.users import UserStore

    assert client.get("/api/me", headers=auth(client, "viewer")).status_code == 200
    UserStore(client.root).remove("viewer")
    assert client.get("/api/me", headers=auth(client, "viewer")).status_code == 401


def rows(client, who, dataset, **params):
    r = client.get(f"/api/datasets/{dataset}", params=params, headers=auth(client, who))
    assert r.status_code == 200, r.text
    return r.json()


def test_viewer_gets_aggregates_only(client):
    r = client.get("/api/datasets/attribution", headers=auth(client, "viewer"))
    assert r.status_code == 403 and "aggregates only" in r.json()["error"]
    r = client.get("/api/datasets/quality_care_gaps", headers=auth(client, "viewer"))
    assert r.status_code == 403
    r = client.get("/api/settlements/acme-2024/drilldown", headers=auth(client, "viewer"))
    assert r.status_code == 403
    r = client.get("/api/exports/attribution/fhir-group", headers=auth(client, "viewer"))
    assert r.status_code == 403


def test_viewer_membership_is_suppressed_with_complement(client):
    # 2024-01: commercial 34, medicaid 6, medicare_advantage 25 -> medicaid hidden (6 < 11) and
    # medicare_advantage (the smallest other cell) too: 65 - 34 = 31 = 6 + 25.
    data = rows(client, "viewer", "membership", period="2024-01")
    assert data["small_cell_suppression"] is True
    cells = {r["product_line"]: r for r in data["rows"]}
    assert cells["commercial"]["members"] == 34 and not cells["commercial"]["suppressed"]
    assert cells["medicaid"]["members"] is None and cells["medicaid"]["suppressed"]
    assert cells["medicare_advantage"]["members"] is None
    assert cells["medicare_advantage"]["partner_attributed_members"] is None
    # 2024-02: every cell >= 11, nothing hidden.
    feb = rows(client, "viewer", "membership", period="2024-02")["rows"]
    assert [r["members"] for r in feb] == [40, 12, 30]
    # The administrator sees the true cells.
    admin = rows(client, "admin", "membership", period="2024-01")
    assert admin["small_cell_suppression"] is False
    assert {r["product_line"]: r["members"] for r in admin["rows"]}["medicaid"] == 6


def test_provider_analyst_sees_only_its_organization(client):
    data = rows(client, "provider", "attribution", limit=100)
    assert data["total"] == 30
    assert {r["member_id"] for r in data["rows"]} == ORG_A_MEMBERS
    # Another organization's member is not there, even when asked for by id.
    other = rows(client, "provider", "attribution", member_id="M31")
    assert other["total"] == 0 and other["rows"] == []
    gaps = rows(client, "provider", "quality_care_gaps")
    assert {r["member_id"] for r in gaps["rows"]} == {"M01", "M02"}
    drill = client.get(
        "/api/settlements/acme-2024/drilldown",
        params={"limit": 100},
        headers=auth(client, "provider"),
    ).json()
    assert {r["member_id"] for r in drill["rows"]} == ORG_A_MEMBERS
    group = client.get(
        "/api/exports/attribution/fhir-group",
        params={"period": 2024},
        headers=auth(client, "provider"),
    ).json()
    assert group["resourceType"] == "Group" and group["quantity"] == 30
    ids = {m["entity"]["identifier"]["value"] for m in group["member"]}
    assert ids == ORG_A_MEMBERS


def test_payer_analyst_sees_only_its_payer(client):
    data = rows(client, "payer", "attribution", limit=100)
    assert {r["member_id"] for r in data["rows"]} == PLAN_ONE_MEMBERS  # M01-M36
    assert data["total"] == 36
    admin = rows(client, "admin", "attribution", limit=100)
    assert admin["total"] == 40


def test_pagination_covers_every_row_once(client):
    seen = []
    offset = 0
    while offset is not None:
        page = rows(client, "admin", "attribution", limit=7, offset=offset)
        assert page["total"] == 40 and len(page["rows"]) <= 7
        seen += [r["member_id"] for r in page["rows"]]
        offset = page["next_offset"]
    assert seen == sorted(m["member_id"] for m in MEMBERS)


def test_filters(client):
    assert rows(client, "admin", "attribution", organization=ORG_B)["total"] == 10
    assert rows(client, "admin", "attribution", product_line="medicaid")["total"] == 6
    assert rows(client, "admin", "attribution", period="2023")["total"] == 0
    assert (
        rows(client, "admin", "attribution_summary", organization=ORG_A)["rows"][0]["members"] == 30
    )


def test_bad_requests_get_a_clear_4xx_without_trace(client):
    h = auth(client, "admin")
    cases = {
        "/api/datasets/nope": (404, "no dataset"),
        "/api/datasets/membership?period=last-year": (400, "period"),
        "/api/datasets/attribution?period=abc": (400, "expected a year"),
        "/api/datasets/membership?colour=red": (400, "no filter colour"),
        "/api/datasets/membership?limit=0": (422, "limit"),
        "/api/datasets/membership?limit=abc": (422, "limit"),
        "/api/datasets/membership?run=../../etc": (404, "no run"),
        "/api/settlements/..%2F..%2Fusers": (404, "Not Found"),
        "/api/settlements/..": (404, "Not Found"),
        "/api/settlements/bad id!": (404, "no settlement"),
        "/api/settlements/nope/drilldown": (404, "no settlement"),
        "/api/nothing-here": (404, "Not Found"),
    }
    for url, (status, text) in cases.items():
        r = client.get(url, headers=h)
        assert r.status_code == status, (url, r.text)
        body = r.json()
        assert text in body["error"], (url, body)
        assert "Traceback" not in r.text and 'File "' not in r.text


def test_unexpected_failure_is_a_500_without_detail(client, monkeypatch):
    from payvider.api import store

    def boom(self, run_id, table):
        raise RuntimeError("secret detail M01")

    monkeypatch.setattr(store.RunStore, "table", boom)
    r = client.get("/api/datasets/attribution", headers=auth(client, "admin"))
    assert r.status_code == 500
    assert "M01" not in r.text and "Traceback" not in r.text
    assert r.json()["error"].startswith("internal error")


def test_member_level_access_is_audited(client):
    from payvider.api.audit import AuditLog

    rows(client, "provider", "attribution", member_id="M05")
    rows(client, "viewer", "membership")  # aggregates are not audited
    client.get("/api/settlements/acme-2024/drilldown", headers=auth(client, "admin"))
    entries = AuditLog(client.root).entries()
    assert [(e["user"], e["dataset"], e["rows"]) for e in entries] == [
        ("provider", "attribution", 1),
        ("admin", "settlement:acme-2024", 40),
    ]
    first = entries[0]
    assert first["role"] == "provider_analyst"
    assert first["endpoint"] == "/api/datasets/attribution"
    assert first["filters"] == {"member_id": "M05"}
    assert first["run_id"] == "20240301T000000000Z-abc123" and first["at"]


def test_no_member_ids_in_application_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    rows(client, "admin", "attribution", member_id="M07")
    client.get("/api/datasets/attribution?member_id=M08&period=bad", headers=auth(client, "admin"))
    # The test client (httpx) logs the URL it sent; everything on the server side must not.
    server = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "/api/datasets/{name} 200" in server  # the request was logged …
    assert "M07" not in server and "M08" not in server  # … without the member


def test_settlements_list_and_one(client):
    h = auth(client, "viewer")
    listing = client.get("/api/settlements", headers=h).json()
    assert listing["total"] == 1
    assert listing["rows"][0] == {
        "id": "acme-2024",
        "contract": "seed:aco-metro-trend",
        "performance_year": 2024,
        "track": None,
        "net_amount": "1500.00",
        "direction": "payer_pays_provider",
        "has_drilldown": True,
    }
    one = client.get("/api/settlements/acme-2024", headers=h).json()
    assert [li["name"] for li in one["line_items"]] == [
        "gross_savings",
        "shared_rate",
        "payer_share",
    ]
    from decimal import Decimal

    from payvider.api.settlements import waterfall

    # The waterfall is the lines that count toward the net: 3000.00 - 1500.00 = 1500.00.
    steps = waterfall(one)
    assert steps == [("gross_savings", Decimal("3000.00")), ("payer_share", Decimal("-1500.00"))]
    assert sum(v for _, v in steps) == Decimal(one["net_amount"])


def test_summary_headlines(client):
    s = client.get("/api/summary", headers=auth(client, "viewer")).json()
    # Latest month 2024-02: 40 + 12 + 30 = 82 members, all attributed, 30 to the partner.
    assert s["month"] == "2024-02-01" and s["members"] == 82
    assert s["attributed_share"] == 1.0
    assert abs(s["partner_attributed_share"] - 30 / 82) < 1e-12
    assert s["savings_to_date"] == {"source": "settlements", "amount": "1500.00", "settlements": 1}


def test_csv_export_matches_the_dataset(client):
    r = client.get(
        "/api/exports/attribution.csv",
        params={"organization": ORG_B},
        headers=auth(client, "admin"),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    got = list(csv.DictReader(io.StringIO(r.text)))
    assert [g["member_id"] for g in got] == [f"M{i}" for i in range(31, 41)]
    r = client.get("/api/exports/membership.csv", headers=auth(client, "viewer"))
    cells = {
        (g["month"], g["product_line"]): g["members"] for g in csv.DictReader(io.StringIO(r.text))
    }
    assert cells[("2024-01-01", "medicaid")] == "" and cells[("2024-01-01", "commercial")] == "34"


def test_datasets_listing_marks_what_a_role_may_read(client):
    listing = client.get("/api/datasets", headers=auth(client, "viewer")).json()
    allowed = {d["name"]: d["allowed"] for d in listing}
    assert allowed["membership"] and not allowed["attribution"]
    assert json.dumps(listing)  # plain JSON


def test_worklists_are_member_level_and_scoped(client):
    assert (
        client.get("/api/datasets/care_worklist", headers=auth(client, "viewer")).status_code == 403
    )
    seen = {
        who: sorted(r["member_id"] for r in rows(client, who, "care_worklist")["rows"])
        for who in ("admin", "payer", "provider")
    }
    assert seen == {
        "admin": ["M01", "M31", "M37"],
        "payer": ["M01", "M31"],  # plan one
        "provider": ["M01"],  # ORG_A
    }
    r = client.get("/api/exports/care_worklist.csv", headers=auth(client, "provider"))
    assert r.status_code == 200 and "M01" in r.text and "M31" not in r.text


def _population(report, code, group=0):
    [p] = [
        p for p in report["group"][group]["population"] if p["code"]["coding"][0]["code"] == code
    ]
    return p


def test_measure_report_summary_and_subject_list(client):
    url = "/api/exports/measures/breast_cancer_screening/2024"
    summary = client.get(url, headers=auth(client, "viewer"))
    assert summary.status_code == 200
    report = summary.json()
    assert (report["resourceType"], report["type"]) == ("MeasureReport", "summary")
    assert _population(report, "denominator")["count"] == 40
    assert _population(report, "numerator")["count"] == 31
    # ORG_B has 10 eligible members, under 11: its stratum is left out.
    [strata] = report["group"][0]["stratifier"]
    assert [s["value"]["text"] for s in strata["stratum"]] == ["410000001"]

    assert client.get(url + "?type=subject-list", headers=auth(client, "viewer")).status_code == 403
    listed = client.get(url + "?type=subject-list", headers=auth(client, "provider")).json()
    lists = {c["id"]: c for c in listed["contained"]}
    members = [e["item"]["identifier"]["value"] for e in lists["denominator"]["entry"]]
    assert members == [f"M{i:02d}" for i in range(1, 31)]  # ORG_A's members only
    assert _population(listed, "numerator")["count"] == 28
    assert (
        client.get("/api/exports/measures/nope/2024", headers=auth(client, "admin")).status_code
        == 404
    )
