"""The Meta app's own credentials: its id, its secret (which signs webhooks) and the verify token
of the webhook subscription.

Locally they come from INBOX_META_APP_ID / INBOX_META_APP_SECRET / INBOX_META_VERIFY_TOKEN;
deployed, from the Secrets Manager secret INBOX_META_APP_SECRET_NAME (read through Powertools'
parameters, cached five minutes), so the secret never sits in a function's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.settings import settings

CACHE_SECONDS = 300


@dataclass(frozen=True)
class MetaApp:
    app_id: str | None
    app_secret: str | None
    verify_token: str | None


def meta_app() -> MetaApp:
    current = settings()
    if current.meta_app_secret or not current.meta_app_secret_name:
        return MetaApp(current.meta_app_id, current.meta_app_secret, current.meta_verify_token)
    from aws_lambda_powertools.utilities import parameters

    stored = parameters.get_secret(current.meta_app_secret_name, transform="json", max_age=CACHE_SECONDS)
    values = stored if isinstance(stored, dict) else {}
    return MetaApp(
        values.get("app_id") or current.meta_app_id,
        values.get("app_secret"),
        values.get("verify_token") or current.meta_verify_token,
    )
