"""A connect flow between the admin's click and the provider's callback (CONTRACT.md, "OAuth").

The `state` handed to the provider is 256 random bits: unguessable, it is the callback's only
authentication (the callback carries no JWT). It names a `PendingConnect` kept in the table
(`inbox.store.oauth_states`): who started the flow, for which provider and account, where the
admin goes back, until when it is valid (ten minutes). It is taken at the callback, so it
serves once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from inbox.accounts.models import Provider
from inbox.model import Model

VALID_FOR = timedelta(minutes=10)


def new_state() -> str:
    return secrets.token_urlsafe(32)


class PendingConnect(Model):
    provider: Provider
    admin_id: str  # who started it (the callback comes from their browser, without a token)
    account_id: str | None = None  # reconnect this account; None: connect a new mailbox
    redirect_to: str | None = None
    redirect_uri: str  # the callback URL the provider was given (the code exchange repeats it)
    flow: dict[str, Any] = Field(default_factory=dict)  # the provider library's own (MSAL's flow)
    created_at: datetime
    valid_until: datetime  # (not `expires_at`: the table's TTL attribute, in epoch seconds)

    def expired(self, now: datetime) -> bool:
        return now >= self.valid_until
