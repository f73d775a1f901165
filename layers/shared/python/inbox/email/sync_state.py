"""What an admin sees of an email account's sync, and what is kept of a quarantined message.

`MailboxSync` is the read-only `sync` of an email account (CONTRACT.md, "Sync"): when it was last
polled, last polled successfully, how many messages were imported and quarantined since it was
connected, and the last failure (None once a poll succeeds again).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from inbox.model import Model


class SyncError(Model):
    code: str = Field(description="dns, connect, timeout, tls, auth, protocol, throttled, storage")
    message: str
    at: datetime
    # The provider asked to come back later (throttled): polls wait until then.
    retry_at: datetime | None = None


class MailboxSync(Model):
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    imported: int = 0
    quarantined: int = 0
    last_error: SyncError | None = None


class QuarantinedMail(Model):
    """A message that could not become a stored message: its raw bytes are kept (`raw_key`, in
    the mail bucket) and listed with the reason, for an admin to download and look at."""

    id: str
    account_id: str
    received_at: datetime
    reason: str
    size: int
    subject: str | None = None
    from_: str | None = Field(default=None, alias="from", serialization_alias="from")
    raw_key: str = Field(exclude=True)
    identity: str = Field(exclude=True, description="the message's identity in its account")

    model_config = {"populate_by_name": True}
