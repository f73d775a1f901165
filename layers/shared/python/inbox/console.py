"""The admin console at /console/: its static files, and the sign-in it is told to use.

The console is plain ES modules in the console function's folder (`functions/console/assets`): what
it does, it does through the API, from the same origin. This module answers a path with a file (or
the sign-in configuration), with the headers a browser needs: its type, an ETag so a reload costs a
304, and a Content-Security-Policy that lets the page run only its own scripts (Meta's SDK aside,
loaded by the WhatsApp sign-up dialog) and talk only to its own origin and the hosted sign-in.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

PREFIX = "/console"
CONFIG_FILE = "config.json"
# Meta's embedded signup: the SDK's script and the dialog it opens.
META_SDK_ORIGIN = "https://connect.facebook.net"
META_DIALOG_ORIGINS = "https://www.facebook.com https://web.facebook.com"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class HostedSignIn:
    """The Cognito user pool's hosted UI, which the console signs in through (authorization code
    with PKCE; a public client, so no secret)."""

    domain: str  # https://<prefix>.auth.<region>.amazoncognito.com
    client_id: str

    def as_config(self) -> dict[str, object]:
        return {
            "authorize_url": f"{self.domain}/oauth2/authorize",
            "token_url": f"{self.domain}/oauth2/token",
            "logout_url": f"{self.domain}/logout",
            "client_id": self.client_id,
            "scopes": ["openid", "email", "profile"],
        }


def hosted_sign_in(
    domain_prefix: str | None, client_id: str | None, region: str | None
) -> HostedSignIn | None:
    """The hosted sign-in a deployment has, or None (the local stack has no Cognito: its console
    takes the token from the link `inbox dev` prints)."""
    if not (domain_prefix and client_id and region):
        return None
    return HostedSignIn(f"https://{domain_prefix}.auth.{region}.amazoncognito.com", client_id)


@dataclass(frozen=True)
class MetaSignup:
    """What Meta's embedded signup needs in the page: the app's id and the signup configuration's
    (both public; the app secret never leaves Secrets Manager)."""

    app_id: str
    config_id: str


def meta_signup(app_id: str | None, config_id: str | None) -> MetaSignup | None:
    return MetaSignup(app_id, config_id) if app_id and config_id else None


@dataclass(frozen=True)
class ConsoleAnswer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_text(self) -> bool:
        kind = self.headers.get("content-type", "")
        return kind.startswith(("text/", "application/json", "image/svg+xml")) or not self.body


class Console:
    """Answers GET requests under /console/ from the assets folder."""

    def __init__(self, assets: Path, sign_in: HostedSignIn | None, signup: MetaSignup | None = None) -> None:
        self._assets = assets.resolve()
        self._sign_in = sign_in
        self._signup = signup
        self._policy = _content_security_policy(sign_in)

    def answer(self, method: str, path: str, if_none_match: str | None = None) -> ConsoleAnswer:
        if path != PREFIX and not path.startswith(f"{PREFIX}/"):
            # The stack's `$default` route: a path no route of the API has.
            return _error(404, "not_found", "No route for this method and path.")
        if method not in ("GET", "HEAD"):
            return _error(405, "method_not_allowed", "Console files are read with GET.", allow="GET, HEAD")
        if path == PREFIX:
            # The page's relative URLs (./app.js) resolve against /console/, not /.
            return ConsoleAnswer(301, headers={"location": f"{PREFIX}/", "cache-control": "no-cache"})
        relative = path.removeprefix(f"{PREFIX}/")
        if relative == CONFIG_FILE:
            config = {
                "sign_in": self._sign_in.as_config() if self._sign_in else None,
                "meta_signup": {"app_id": self._signup.app_id, "config_id": self._signup.config_id}
                if self._signup
                else None,
            }
            body = json.dumps(config).encode()
            return self._file(body, "application/json", if_none_match)
        file = self._asset(relative or "index.html")
        if file is None:
            return _error(404, "not_found", "No such page in the console.")
        kind = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return self._file(file.read_bytes(), kind, if_none_match)

    def _asset(self, relative: str) -> Path | None:
        """The file a path names inside the assets folder, never outside it (no `..`, no hidden files)."""
        parts = PurePosixPath(relative).parts
        if any(part in ("..", ".") or part.startswith(".") for part in parts):
            return None
        candidate = self._assets.joinpath(*parts).resolve()
        if not candidate.is_relative_to(self._assets) or not candidate.is_file():
            return None
        return candidate

    def _file(self, body: bytes, kind: str, if_none_match: str | None) -> ConsoleAnswer:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {
            "etag": etag,
            # Revalidated on every load: a deploy is seen at once, an unchanged file costs a 304.
            "cache-control": "no-cache",
            "content-security-policy": self._policy,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
        }
        if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
            return ConsoleAnswer(304, headers=headers)
        return ConsoleAnswer(200, body, {**headers, "content-type": kind})


def _error(status: int, code: str, message: str, **headers: str) -> ConsoleAnswer:
    # The shape of every error answer of the API (CONTRACT.md).
    body = json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()
    return ConsoleAnswer(status, body, {"content-type": "application/json", **headers})


def _content_security_policy(sign_in: HostedSignIn | None) -> str:
    connect = "'self'" + (f" {sign_in.domain}" if sign_in else "")
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {META_SDK_ORIGIN}",
            # Signatures are previewed as sanitized HTML, whose allow-list keeps inline styles.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: https:",
            f"connect-src {connect} {META_DIALOG_ORIGINS}",
            f"frame-src {META_DIALOG_ORIGINS}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        )
    )
