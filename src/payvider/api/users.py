"""Users, roles and bearer tokens of a workspace (``W/users.json``).

A token is 32 random bytes (256 bits, ``secrets.token_urlsafe``) shown once when issued; the
workspace stores only its SHA-256. A slow password hash (argon2, bcrypt) protects *low-entropy*
secrets against guessing; a 256-bit random token cannot be guessed, so its SHA-256 is as safe to
store and lets every request find its user with one hash and one dictionary look-up instead of
tens of milliseconds of argon2 per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Role = Literal["jv_admin", "payer_analyst", "provider_analyst", "viewer"]
ROLES: tuple[str, ...] = ("jv_admin", "payer_analyst", "provider_analyst", "viewer")
TOKEN_PREFIX = "pvk_"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class UserError(ValueError):
    """A user definition or a user-store operation is invalid."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    organization_id: str | None = None
    payer: str | None = None
    token_sha256: str = ""
    created_at: str = ""
    token_issued_at: str = ""

    @property
    def member_level(self) -> bool:
        """Whether the role may see member-level rows at all."""
        return self.role != "viewer"

    def public(self) -> dict:
        """The user without the token hash (what ``users list`` and ``/api/me`` show)."""
        d = asdict(self)
        d.pop("token_sha256")
        return d


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class UserStore:
    """The users of one workspace, kept in ``users.json`` (mode 0600, rewritten atomically)."""

    def __init__(self, root: Path | str) -> None:
        self.path = Path(root) / "users.json"
        self._mtime: float | None = None
        self._by_hash: dict[str, User] = {}

    def load(self) -> dict[str, User]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text())
        return {u["name"]: User(**u) for u in data.get("users", [])}

    def _save(self, users: dict[str, User]) -> None:
        tmp = self.path.with_suffix(".tmp")
        payload = {"users": [asdict(u) for u in sorted(users.values(), key=lambda u: u.name)]}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(payload, indent=2) + "\n")
        os.replace(tmp, self.path)

    def add(
        self,
        name: str,
        role: str,
        organization_id: str | None = None,
        payer: str | None = None,
    ) -> tuple[User, str]:
        """Create a user and return it with its token (the only time the token is shown)."""
        if not _NAME.match(name):
            raise UserError(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
        if role not in ROLES:
            raise UserError(f"role {role!r}: must be one of {', '.join(ROLES)}")
        if role == "provider_analyst" and not organization_id:
            raise UserError("a provider_analyst needs --organization (the organization_id/TIN)")
        if role == "payer_analyst" and not payer:
            raise UserError("a payer_analyst needs --payer (the payer name)")
        users = self.load()
        if name in users:
            raise UserError(f"user {name!r} already exists; use `payvider users token` to rotate")
        token = new_token()
        now = _now()
        user = User(name, role, organization_id, payer, hash_token(token), now, now)  # type: ignore[arg-type]
        users[name] = user
        self._save(users)
        return user, token

    def remove(self, name: str) -> None:
        users = self.load()
        if name not in users:
            raise UserError(f"no user {name!r}")
        del users[name]
        self._save(users)

    def rotate(self, name: str) -> str:
        """Issue a new token for ``name``; the old one stops working."""
        users = self.load()
        if name not in users:
            raise UserError(f"no user {name!r}")
        token = new_token()
        u = users[name]
        users[name] = User(
            u.name, u.role, u.organization_id, u.payer, hash_token(token), u.created_at, _now()
        )
        self._save(users)
        return token

    def authenticate(self, token: str | None) -> User | None:
        """The user whose token this is, or None; re-reads ``users.json`` when it changed."""
        if not token or not token.startswith(TOKEN_PREFIX):
            return None
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        if mtime != self._mtime:
            self._by_hash = {u.token_sha256: u for u in self.load().values()}
            self._mtime = mtime
        digest = hash_token(token)
        user = self._by_hash.get(digest)
        if user is None or not secrets.compare_digest(user.token_sha256, digest):
            return None
        return user
