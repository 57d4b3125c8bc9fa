"""The dashboard in real headless Chromium (Debian's ``chromium`` driven by Playwright): each role
logs in and opens each page; charts must render (Plotly's SVG present), a provider analyst must
not see another organization's member, a viewer no member-level data. Screenshots go to
``test-artifacts/dashboard/`` (git-ignored)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
PAGES = {"/": 2, "/cost": 4, "/quality": 1, "/settlement": 1, "/attribution": 2}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(synthetic_run, tmp_path_factory):
    """A workspace over the synthetic run (plus a settlement), a user per role, and a server."""
    pytest.importorskip("playwright")
    import pyarrow.parquet as pq
    import uvicorn

    from payvider.api.app import create_app
    from payvider.api.users import UserStore
    from payvider.engine.workspace import Workspace

    root = tmp_path_factory.mktemp("dashboard") / "ws"
    ws = Workspace(root, create=True)
    run = Path(synthetic_run["run"])
    shutil.copytree(run, ws.runs_dir / run.name)
    settlement = root / "settlements" / "partner-2024"
    settlement.mkdir(parents=True)
    (settlement / "settlement.json").write_text(
        json.dumps(
            {
                "id": "partner-2024",
                "performance_year": 2024,
                "net_amount": "250000.00",
                "direction": "payer_pays_provider",
                "line_items": [
                    {"name": "gross_savings", "amount": "500000.00", "counts": True},
                    {"name": "payer_share", "amount": "-250000.00", "counts": True},
                ],
            }
        )
    )
    attribution = pq.read_table(run / "attribution.parquet").to_pylist()
    partner = next(r for r in attribution if r["partner_flag"])
    # A member never attributed to the analyst's organization, in any period.
    ever_own = {
        r["member_id"] for r in attribution if r["organization_id"] == partner["organization_id"]
    }
    other = next(
        r
        for r in attribution
        if r["organization_id"]
        and r["organization_id"] != partner["organization_id"]
        and r["member_id"] not in ever_own
    )
    store = UserStore(root)
    tokens = {
        "jv_admin": store.add("admin", "jv_admin")[1],
        "payer_analyst": store.add("payer", "payer_analyst", payer=partner["payer"])[1],
        "provider_analyst": store.add(
            "provider", "provider_analyst", organization_id=partner["organization_id"]
        )[1],
        "viewer": store.add("viewer", "viewer")[1],
    }
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield {
        "url": f"http://127.0.0.1:{port}",
        "tokens": tokens,
        "own_member": partner["member_id"],
        "other_member": other["member_id"],
        "other_org": other["organization_id"],
    }
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def login(browser, site, role):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site["url"] + "/login")
    page.fill("#token", site["tokens"][role])
    page.click("button[type=submit]")
    page.wait_for_url(site["url"] + "/")
    return page


@pytest.mark.parametrize("role", ["jv_admin", "payer_analyst", "provider_analyst", "viewer"])
def test_every_page_renders_its_charts(browser, site, role):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = login(browser, site, role)
    for path, n_charts in PAGES.items():
        response = page.goto(site["url"] + path)
        assert response is not None and response.status == 200
        page.wait_for_function(
            f"document.querySelectorAll('[data-chart] svg.main-svg').length >= {n_charts}",
            timeout=20_000,
        )
        # Each chart drew marks, not just axes: lines, bars, markers or waterfall boxes.
        for chart in page.query_selector_all("[data-chart]"):
            marks = chart.query_selector_all("path.js-line, g.point, g.trace path")
            assert marks, f"{role} {path}: chart {chart.get_attribute('id')} has no marks"
        name = path.strip("/") or "overview"
        page.screenshot(path=str(ARTIFACTS / f"{role}-{name}.png"), full_page=True)
    page.close()


def test_provider_analyst_cannot_see_another_organizations_member(browser, site):
    page = login(browser, site, "provider_analyst")
    page.goto(f"{site['url']}/attribution?member_id={site['other_member']}")
    assert site["other_member"] not in page.content()
    assert page.locator("#roster .empty").count() == 1
    page.goto(f"{site['url']}/attribution?member_id={site['own_member']}")
    assert site["own_member"] in page.locator("#roster").inner_text()
    page.goto(f"{site['url']}/attribution")
    roster = page.locator("#roster").inner_text()
    assert site["other_org"] not in roster
    page.goto(f"{site['url']}/quality")
    assert site["other_org"] not in page.locator("#care-gaps").inner_text()
    page.close()


def test_viewer_sees_no_member_level_data(browser, site):
    page = login(browser, site, "viewer")
    for path in PAGES:
        page.goto(site["url"] + path)
        assert page.locator("#roster, #care-gaps, #drilldown").count() == 0
        text = page.content()
        assert site["own_member"] not in text and site["other_member"] not in text
    page.close()


def test_login_rejects_a_bad_token(browser, site):
    page = browser.new_page()
    page.goto(site["url"] + "/cost")
    assert page.url.endswith("/login")  # pages need a login
    page.fill("#token", "pvk_wrong")
    page.click("button[type=submit]")
    assert "Unknown or expired token" in page.locator("#login-error").inner_text()
    page.close()
