"""``payvider users add|list|remove|token``: tokens shown once, stored hashed, rotated, revoked."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from payvider.cli import app

runner = CliRunner()


def test_users_lifecycle(tmp_path):
    from payvider.api.users import UserStore, hash_token
    from payvider.engine.workspace import Workspace

    ws = Workspace(tmp_path / "ws", create=True)
    w = str(ws.root)
    r = runner.invoke(
        app, ["users", "add", "ana", "--role", "provider_analyst", "--organization", "41", "-w", w]
    )
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("pvk_") and len(token) > 40
    stored = json.loads((ws.root / "users.json").read_text())["users"][0]
    assert stored["token_sha256"] == hash_token(token) and token not in json.dumps(stored)
    assert UserStore(ws.root).authenticate(token).name == "ana"

    listed = json.loads(runner.invoke(app, ["users", "list", "--json", "-w", w]).stdout)
    assert listed[0]["name"] == "ana" and listed[0]["organization_id"] == "41"
    assert "token_sha256" not in listed[0]

    r = runner.invoke(app, ["users", "token", "ana", "-w", w])
    new = r.stdout.strip().splitlines()[-1]
    store = UserStore(ws.root)
    assert store.authenticate(token) is None and store.authenticate(new).name == "ana"

    assert runner.invoke(app, ["users", "remove", "ana", "-w", w]).exit_code == 0
    assert UserStore(ws.root).authenticate(new) is None


def test_users_usage_errors(tmp_path):
    from payvider.engine.workspace import Workspace

    w = str(Workspace(tmp_path / "ws", create=True).root)
    r = runner.invoke(app, ["users", "add", "p", "--role", "provider_analyst", "-w", w])
    assert r.exit_code == 2 and "--organization" in r.output
    r = runner.invoke(app, ["users", "add", "p", "--role", "payer_analyst", "-w", w])
    assert r.exit_code == 2 and "--payer" in r.output
    r = runner.invoke(app, ["users", "add", "bad name", "--role", "viewer", "-w", w])
    assert r.exit_code == 2
    assert runner.invoke(app, ["users", "add", "v", "--role", "viewer", "-w", w]).exit_code == 0
    r = runner.invoke(app, ["users", "add", "v", "--role", "viewer", "-w", w])
    assert r.exit_code == 2 and "already exists" in r.output
    assert runner.invoke(app, ["users", "remove", "nobody", "-w", w]).exit_code == 2
    r = runner.invoke(app, ["users", "list", "-w", str(tmp_path / "missing")])
    assert r.exit_code == 2
