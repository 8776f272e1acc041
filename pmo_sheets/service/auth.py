"""Who may do what: the token rule and CSRF-safe forms.

- Bound to a loopback address (the default, 127.0.0.1), anyone on this machine may read the page and
  the API. Bound to any other address, every request needs the token, except the login page and the
  stylesheet: ``Authorization: Bearer TOKEN``, or the login cookie that ``/login`` sets.
- ``POST /api/...`` always needs the token (header or login cookie), wherever the service listens.
- The page's forms (Sync now, log out) carry a CSRF token: an HMAC of a random cookie
  (SameSite=Strict) under a key known only to this process. A page on another site can neither read
  it nor make the browser send the cookie with its form.

The token is given by ``PMO_SERVE_TOKEN`` or ``--token-file``; on a loopback address without one, the
service makes one and writes it to ``<state>.serve-token`` (readable by its owner only) so that local
scripts can ``POST /api/sync``. It is never logged, never shown on a page, never put in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

from pmo_sheets.sources import UsageError

SESSION_COOKIE = "pmo_session"
CSRF_COOKIE = "pmo_csrf"
TOKEN_ENV = "PMO_SERVE_TOKEN"
MIN_TOKEN = 16


def is_loopback(host: str) -> bool:
    """Whether ``host`` (what ``--host`` names) listens only to this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def token_file_for(state: Path) -> Path:
    return state.with_name(state.name + ".serve-token")


def load_token(*, host: str, token_file: Path | None, state: Path) -> str:
    """The service's token; raises :class:`UsageError` (one line, exit 2) when a non-loopback bind has none."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--token-file {token_file}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        if len(token) < MIN_TOKEN:
            raise UsageError(f"the token must be at least {MIN_TOKEN} characters long (make one with: "
                             "python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return token
    if not is_loopback(host):
        raise UsageError(f"--host {host} lets other machines in, so the service needs a token: set {TOKEN_ENV} "
                         "or give --token-file (or bind to 127.0.0.1 behind a reverse proxy)")
    token = secrets.token_urlsafe(32)
    path = token_file_for(state)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        os.chmod(path, 0o600)
    except OSError as exc:
        raise UsageError(f"cannot write the service's token to {path} ({exc.strerror}); set {TOKEN_ENV} instead") from None
    return token


class Guard:
    """Checks tokens, login cookies and CSRF tokens for one running service."""

    def __init__(self, token: str, *, open_reads: bool):
        self.token = token
        self.open_reads = open_reads  # loopback: reads need no token
        self._key = secrets.token_bytes(32)  # this process only: a restart logs everybody out

    def session_value(self) -> str:
        """What the login cookie holds: proof of the token, not the token itself."""
        return hmac.new(self.token.encode(), b"pmo-serve session", hashlib.sha256).hexdigest()

    def token_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())  # type: ignore[union-attr]

    def authenticated(self, authorization: str | None, session: str | None) -> bool:
        """Whether the request carries the token (Bearer header) or the login cookie."""
        if authorization and authorization.lower().startswith("bearer "):
            return self.token_ok(authorization[7:].strip())
        return bool(session) and hmac.compare_digest(session.encode(), self.session_value().encode())  # type: ignore[union-attr]

    def csrf_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, cookie: str | None, field: str | None) -> bool:
        return bool(cookie) and bool(field) and hmac.compare_digest(self.csrf_for(cookie).encode(), field.encode())  # type: ignore[arg-type,union-attr]


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)
