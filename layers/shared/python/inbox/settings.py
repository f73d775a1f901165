"""Configuration read from environment variables, the same way deployed (CDK sets them) and locally.

One model names every variable; `settings()` is cheap and memoized on the environment's values,
so nothing is read at import time and a changed environment (tests, the local stack running
several functions in one process) is seen at once.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import ConfigDict, Field

from inbox.model import Model

ENV_PREFIX = "INBOX_"


class MissingSetting(RuntimeError):
    """A function needs a variable its deployment does not give it (a stack bug, not bad input)."""


class Settings(Model):
    """Every `INBOX_*` variable; field `x` is read from `INBOX_X`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str | None = None
    inbound_queue_url: str | None = None
    outbound_queue_url: str | None = None
    email_poll_queue_url: str | None = None
    # Raw messages, attachments and quarantined mail (`inbox.store.mail_objects`).
    mail_bucket: str | None = None
    secrets_prefix: str = "inbox/"
    meta_app_id: str | None = None
    meta_app_secret: str | None = None
    meta_verify_token: str | None = None
    # The Embedded Signup configuration (Meta's dashboard) the console's WhatsApp sign-up opens.
    meta_signup_config_id: str | None = None
    # Deployed, the Meta app's id, secret and verify token live in this Secrets Manager secret
    # (JSON: app_id, app_secret, verify_token); the three variables above, when set, win.
    meta_app_secret_name: str | None = None
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    twilio_api_url: str = "https://api.twilio.com"
    twilio_content_url: str = "https://content.twilio.com"  # the Content API has its own host
    google_oauth_url: str = "https://oauth2.googleapis.com"
    gmail_api_url: str = "https://gmail.googleapis.com"
    microsoft_login_url: str = "https://login.microsoftonline.com"
    microsoft_graph_url: str = "https://graph.microsoft.com"
    google_accounts_url: str = "https://accounts.google.com"  # the consent page's host
    # The OAuth apps (`inbox.oauth.apps`); deployed, the secret below holds them.
    google_client_id: str | None = None
    google_client_secret: str | None = None
    microsoft_client_id: str | None = None
    microsoft_client_secret: str | None = None
    microsoft_tenant: str | None = None
    oauth_apps_secret_name: str | None = None
    public_url: str | None = None
    # The admin console's hosted sign-in (`inbox.console`): the Cognito domain's prefix and the
    # console's app client. Unset locally, where the console takes a token from its link.
    console_sign_in_domain: str | None = None
    console_client_id: str | None = None
    # A PEM bundle trusted besides the system's authorities (`inbox.trust`).
    ca_bundle: str | None = None
    poll_interval_seconds: int = Field(default=60, ge=1)

    def require(self, name: str) -> str:
        """The value of a setting this function cannot work without."""
        value = getattr(self, name)
        if not value:
            raise MissingSetting(f"{ENV_PREFIX}{name.upper()} is not set")
        return str(value)


def env_name(field: str) -> str:
    """The environment variable of a `Settings` field (the one naming of variables)."""
    if field not in Settings.model_fields:
        raise KeyError(field)
    return f"{ENV_PREFIX}{field.upper()}"


def settings() -> Settings:
    """The current settings, parsed once per distinct environment."""
    relevant = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    return _parse(relevant)


@lru_cache(maxsize=8)
def _parse(variables: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.model_validate({k[len(ENV_PREFIX) :].lower(): v for k, v in variables})
