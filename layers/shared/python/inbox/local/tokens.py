"""Tokens for the local stack: JWTs shaped like Cognito's access tokens, signed with a local key.

`inbox token` mints them; the local gateway verifies them as API Gateway's JWT authorizer would
(signature, expiry, issuer), then hands their claims to the function.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from inbox.access import ADMINS_GROUP, GROUPS_CLAIM

ISSUER = "inbox-local"
CLIENT_ID = "inbox-local-client"
ALGORITHM = "HS256"
DEFAULT_KEY_FILE = Path(".inbox") / "dev-signing-key"
DEFAULT_LIFETIME_SECONDS = 12 * 3600


class InvalidToken(Exception):
    """The token is missing, malformed, tampered with, expired or not ours."""


def key_file() -> Path:
    return Path(os.environ.get("INBOX_DEV_SIGNING_KEY_FILE", str(DEFAULT_KEY_FILE)))


def signing_key(path: Path | None = None) -> bytes:
    """The local signing key, created (private to the user) on first use."""
    path = path or key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def mint(
    user_id: str,
    *,
    admin: bool = False,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    key: bytes | None = None,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "username": user_id,
        "iat": issued,
        "exp": issued + lifetime_seconds,
    }
    if admin:
        claims[GROUPS_CLAIM] = [ADMINS_GROUP]
    return jwt.encode(claims, key or signing_key(), algorithm=ALGORITHM)


def verify(authorization: str | None, *, key: bytes | None = None) -> dict[str, Any]:
    """The claims of a valid token given as `Authorization` (with or without `Bearer `)."""
    if not authorization:
        raise InvalidToken("no token")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key or signing_key(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if claims.get("client_id") != CLIENT_ID:
        raise InvalidToken("token issued for another client")
    return claims


def as_authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's HTTP API passes them: every value a string, arrays as `[a b]`."""
    flattened = {}
    for name, value in claims.items():
        if isinstance(value, list):
            flattened[name] = "[" + " ".join(str(v) for v in value) + "]"
        else:
            flattened[name] = str(value)
    return flattened
