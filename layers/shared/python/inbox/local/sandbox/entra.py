"""The Microsoft identity platform's wire conventions, as the sandbox speaks them
(`inbox.local.sandbox.microsoft` serves them): its refusals (AADSTS codes), the OpenID
configuration MSAL reads, ID tokens and `client_info`, PKCE, and what the sandbox keeps of a
consent (a grant), a code and an access token. Local-only code (not in the Lambda layer).

ID tokens are unsigned (`alg: none`): MSAL decodes an ID token and never verifies it, and the
sandbox publishes no keys. `client_info` is what MSAL builds the account's home id from
(`<uid>.<utid>`: the user's object id and tenant id).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from inbox.local.sandbox.outlook import Refusal

GRAPH = "https://graph.microsoft.com/"
RESERVED = frozenset({"openid", "profile", "offline_access", "email"})

# The identity platform's refusals the sandbox answers: AADSTS code -> (OAuth error, its words).
AADSTS: dict[int, tuple[str, str]] = {
    9002313: ("invalid_grant", "Invalid request. Request is malformed or invalid."),
    50011: ("invalid_grant", "The redirect URI does not match the one of the authorization request."),
    50076: (
        "interaction_required",
        "Due to a configuration change made by your administrator, or because you moved to a new location, "
        "you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
    ),
    50173: (
        "invalid_grant",
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user "
        "might have changed or reset their password.",
    ),
    54005: (
        "invalid_grant",
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an "
        "existing refresh token.",
    ),
    65001: (
        "invalid_grant",
        "The user or administrator has not consented to use the application with ID '{client}'. Send an "
        "interactive authorization request for this user and resource.",
    ),
    70003: ("unsupported_grant_type", "The app requested an unsupported grant type '{grant}'."),
    70008: (
        "invalid_grant",
        "The provided authorization code or refresh token has expired due to inactivity. Send a new "
        "interactive authorization request for this user and resource.",
    ),
    90002: (
        "invalid_tenant",
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
        "into the correct cloud.",
    ),
    90033: ("temporarily_unavailable", "A transient error has occurred. Please try again."),
    501481: (
        "invalid_grant",
        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    ),
    700016: (
        "unauthorized_client",
        "Application with identifier '{client}' was not found in the directory '{directory}'.",
    ),
    7000215: (
        "invalid_client",
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
        "value, not the client secret ID, for a secret added to app '{client}'.",
    ),
}
# What `revoke` makes a refresh answer: a revoked grant, or a policy wanting the user back.
REVOCATIONS = {"invalid_grant": 50173, "interaction_required": 50076}


@dataclass
class Grant:
    """What a refresh token stands for: a consent's mailbox and scopes."""

    address: str
    scopes: tuple[str, ...]  # as asked: fully qualified or short Graph permissions
    revoked: str | None = None  # the OAuth error its refresh answers (see REVOCATIONS)


@dataclass
class Access:
    address: str
    scopes: tuple[str, ...]
    expires_at: float  # time.time()
    revoked: bool = False


@dataclass(frozen=True)
class PendingCode:
    address: str
    redirect_uri: str
    scopes: tuple[str, ...]  # everything asked that was granted, reserved scopes included
    challenge: str | None
    method: str
    nonce: str | None
    expires_at: float


def sts_error(code: int, status: int = HTTPStatus.BAD_REQUEST, **words: str) -> Refusal:
    """The identity platform's error shape for AADSTS `code` (`words` fill its description, which
    ends with trace and correlation ids, as Microsoft's do)."""
    error, description = AADSTS[code]
    trace, correlation, now = str(uuid4()), str(uuid4()), datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body: dict[str, Any] = {
        "error": error,
        "error_description": f"AADSTS{code}: {description.format(**words)}\r\nTrace ID: {trace}\r\n"
        f"Correlation ID: {correlation}\r\nTimestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": correlation,
    }
    if error == "interaction_required":
        body["suberror"] = "basic_action"
    return Refusal(status, body)


def openid_configuration(base: str, tenant: str, tenant_id: str) -> dict[str, Any]:
    """`/{tenant}/v2.0/.well-known/openid-configuration`: MSAL needs the authorization and token
    endpoints (and takes the tenant from the token endpoint's path)."""
    issuer_tenant = "{tenantid}" if tenant in ("common", "organizations") else tenant_id
    return {
        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["none"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tenant}/v2.0",
        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
        "userinfo_endpoint": f"{GRAPH}oidc/userinfo",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "tid", "oid", "preferred_username"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": urlsplit(base).hostname,
    }


def id_token(claims: dict[str, Any]) -> str:
    header = {"typ": "JWT", "alg": "none"}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def client_info(object_id: str, tenant_id: str) -> str:
    return b64(json.dumps({"uid": object_id, "utid": tenant_id}).encode())


def pkce_verified(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        verifier = b64(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return secrets.compare_digest(verifier, challenge)


def permission(scope: str) -> str:
    """`https://graph.microsoft.com/Mail.Read` or `Mail.Read`: `mail.read`."""
    return scope.lower().removeprefix(GRAPH)


def resources(scopes: tuple[str, ...]) -> set[str]:
    """The Graph permissions among `scopes` (OpenID's own left out)."""
    return {permission(scope) for scope in scopes if scope.lower() not in RESERVED}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
