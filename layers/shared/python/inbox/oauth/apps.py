"""The product's OAuth apps at Google and Microsoft: client id, client secret (and Microsoft's tenant).

Locally they come from INBOX_GOOGLE_CLIENT_ID / INBOX_GOOGLE_CLIENT_SECRET and INBOX_MICROSOFT_CLIENT_ID
/ INBOX_MICROSOFT_CLIENT_SECRET / INBOX_MICROSOFT_TENANT; deployed, from the Secrets Manager secret
INBOX_OAUTH_APPS_SECRET_NAME (JSON with the same names in lower case, without the prefix:
`google_client_id` …), read through Powertools' parameters and cached five minutes. A variable, when
set, wins over the secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.errors import NotConfigured
from inbox.settings import settings

CACHE_SECONDS = 300
DEFAULT_TENANT = "common"


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    tenant: str = DEFAULT_TENANT  # Microsoft's; Google has none


class AppNotConfigured(NotConfigured):
    """The deployment has no OAuth app for the provider (503: the deployer must configure it)."""


def google_app() -> OAuthApp:
    values = _values()
    client_id, secret = values.get("google_client_id"), values.get("google_client_secret")
    if not (client_id and secret):
        raise AppNotConfigured(
            "Google sign-in is not configured: set the Google OAuth app's client id and secret "
            "(INBOX_GOOGLE_CLIENT_ID / INBOX_GOOGLE_CLIENT_SECRET, or the inbox/oauth-apps secret).",
            code="oauth_not_configured",
        )
    return OAuthApp(client_id, secret)


def microsoft_app() -> OAuthApp:
    values = _values()
    client_id, secret = values.get("microsoft_client_id"), values.get("microsoft_client_secret")
    if not (client_id and secret):
        raise AppNotConfigured(
            "Microsoft sign-in is not configured: set the Microsoft app's client id and secret "
            "(INBOX_MICROSOFT_CLIENT_ID / INBOX_MICROSOFT_CLIENT_SECRET, or the inbox/oauth-apps secret).",
            code="oauth_not_configured",
        )
    return OAuthApp(client_id, secret, values.get("microsoft_tenant") or DEFAULT_TENANT)


_FIELDS = (
    "google_client_id",
    "google_client_secret",
    "microsoft_client_id",
    "microsoft_client_secret",
    "microsoft_tenant",
)


def _values() -> dict[str, str]:
    current = settings()
    from_variables = {name: getattr(current, name) for name in _FIELDS if getattr(current, name)}
    if not current.oauth_apps_secret_name or len(from_variables) == len(_FIELDS):
        return from_variables
    from aws_lambda_powertools.utilities import parameters

    stored = parameters.get_secret(current.oauth_apps_secret_name, transform="json", max_age=CACHE_SECONDS)
    found = stored if isinstance(stored, dict) else {}
    values = {k: v for k, v in found.items() if k in _FIELDS and isinstance(v, str) and v}
    return {**values, **from_variables}
