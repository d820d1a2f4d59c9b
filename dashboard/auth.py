"""The dashboard's session cookie: a user id, the user's sign-in epoch and an expiry,
signed with HMAC-SHA256. Signing out raises the user's epoch in the database, so the cookie
stops working on the server too, even if a copy of it was kept.

The secret is DASHBOARD_SECRET, or, when that is unset, a random one generated on first use
and kept in `dashboard-secret` beside the media folder (`data/` by default; mode 0600), so
sessions survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from models.db import private_dir

COOKIE = "dashboard_session"
SESSION_SECONDS = 12 * 3600
SECRET_FILE = "dashboard-secret"


def load_secret(settings: Settings, path: Path | None = None) -> bytes:
    """The signing key: the setting, else the file beside MEDIA_DIR (created if missing)."""
    if settings.dashboard_secret:
        return settings.dashboard_secret.encode()
    path = path or settings.media_dir.parent / SECRET_FILE
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 32:
            return value.encode()
    private_dir(path.parent)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    return value.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    user_id: int
    expires: int  # unix seconds
    epoch: int = 0  # the user's web_epoch when signed in


def sign(secret: bytes, user_id: int, *, epoch: int = 0, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    body = {"u": user_id, "e": issued + SESSION_SECONDS, "g": epoch, "n": secrets.token_hex(4)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(secret: bytes, value: str | None, *, now: float | None = None) -> Session | None:
    """The session in a cookie value, or None if it is missing, forged or expired."""
    if not value or value.count(".") != 1 or len(value) > 512:
        return None
    payload, mac = value.split(".")
    expected = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        body = json.loads(_unb64(payload))
        session = Session(int(body["u"]), int(body["e"]), int(body.get("g", 0)))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires <= (now if now is not None else time.time()):
        return None
    return session
