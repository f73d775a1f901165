"""A mailbox source: what every email provider's sync gives the ingest pipeline.

IMAP (`inbox.email.imap_source`), Gmail (`gmail_source`) and Office 365 (`graph_source`), all
behind one shape: the source gets the account's cursor (None on the first poll) and yields
`Batch`es of new raw messages, each with the cursor *after* it. The poller hands a batch over
durably (raw bytes to S3, a reference on the inbound queue) and only then saves that batch's
cursor, so a poll killed at any point loses nothing: the next poll starts from the last saved
cursor and fetches again what was not handed over (the router drops the copies it already has,
by message identity).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# A poll's bounds: a batch is at most this many messages or bytes (a bigger message is a batch
# alone), so memory is bounded by the batch, never by the mailbox.
BATCH_MESSAGES = 50
BATCH_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RawMail:
    """One message as the server keeps it, and when it arrived in the mailbox."""

    raw: bytes
    arrived_at: datetime  # IMAP INTERNALDATE, Gmail internalDate, Graph receivedDateTime
    folder: str  # where it was found (IMAP folder; "INBOX" for the APIs)
    uid: str  # the server's id for it in that folder (IMAP UID, Gmail or Graph message id), for logs
    thread_id: str | None = None  # the provider's thread (Gmail's threadId): replies are sent into it


@dataclass(frozen=True)
class Batch:
    """New messages, and the cursor to save once they are handed over. `more` on the last batch
    of a poll: the source stopped at its deadline with messages left (poll again soon)."""

    mails: list[RawMail]
    cursor: dict[str, Any]
    more: bool = False


@dataclass(frozen=True)
class Limits:
    """How much one poll may do: the batch bounds, and a monotonic deadline after which the
    source stops starting new batches."""

    deadline: float
    batch_messages: int = BATCH_MESSAGES
    batch_bytes: int = BATCH_BYTES
    backfill_days: int = 7
    now: datetime | None = field(default=None)  # the clock for backfill (tests pass one)

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline


class MailboxSource(Protocol):
    def batches(self, cursor: dict[str, Any] | None, limits: Limits) -> Iterator[Batch]:
        """New messages since `cursor`, in batches; the last batch may be empty (its cursor still
        counts: e.g. a first poll that found nothing to backfill). Raises
        `inbox.accounts.check_report.PeerError` when the server refuses (code `auth`: the
        credentials; the account goes to `error`) or cannot be reached or misbehaves (any other
        code: recorded, retried next poll); the batches before it stand with their cursors."""
        ...
