"""Email polling: the schedule's fan-out, and the poll of one mailbox.

Every tick (deployed: EventBridge each minute) `fan_out` pages through the accounts and queues one
poll job per active email account on the email-poll queue (FIFO: deduplicated per account and
minute, one account's jobs one at a time). `poll_mailbox` runs one job:

1. the account must still be an active email account;
2. the mailbox's lease (`store.mailbox_sync`) is taken, so two polls of one mailbox never overlap;
   a poll that dies frees it when the lease runs out;
3. the channel's mailbox source (`inbox.channels`) yields batches since the saved cursor; each is
   handed over (`inbox.email.ingest`: bucket, then queue) and only then is its cursor saved, so a
   poll killed at any point loses nothing and the router drops what it gets twice;
4. the outcome is recorded on the account's `sync`: the server refusing the credentials puts the
   account in `error` at once; an unreachable server or a storage failure is `last_error` only.
A poll stops starting batches at its deadline; when messages are left, it queues its own
continuation, so a backlog drains poll after poll without waiting for the next tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from inbox.accounts.check_report import PeerError
from inbox.accounts.models import Account, AccountStatus, Channel
from inbox.email.mailbox import MailboxSource
from inbox.email.poll_queue import PollJobs
from inbox.errors import NotFound
from inbox.ids import new_id
from inbox.observability import logger, metrics
from inbox.routing.queue import QueueRefused
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault, MissingCredentials
from inbox.store.mail_objects import StorageFailure
from inbox.store.mailbox_sync import LeaseLost, MailboxSyncStore

# Longer than a poll can run (the function's timeout), so a live poll never loses its lease.
LEASE_SECONDS = 180
ACCOUNTS_PAGE = 100


@dataclass(frozen=True)
class PollResult:
    """What a poll did: messages handed over, whether some were left for a continuation, and
    why nothing was polled (`skipped`) or what failed (`error` code)."""

    handed_over: int = 0
    more: bool = False
    skipped: str | None = None
    error: str | None = None


def pollable(account: Account) -> bool:
    return account.channel is Channel.EMAIL and account.status is AccountStatus.ACTIVE


# The fan-out


def fan_out(
    *,
    now: datetime | None = None,
    accounts: AccountStore | None = None,
    jobs: PollJobs | None = None,
) -> int:
    """Queue a poll job for every active email account; how many were queued."""
    accounts = accounts or AccountStore()
    jobs = jobs or PollJobs()
    minute = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M")
    queued = 0
    for page in _pages(accounts):
        due = [account.id for account in page if pollable(account)]
        jobs.queue(due, reason="tick", dedupe=minute)
        queued += len(due)
    logger.info("Email polls queued", extra={"accounts": queued})
    metrics.add_metric(name="EmailPollsQueued", unit="Count", value=queued)
    return queued


def _pages(accounts: AccountStore) -> Iterator[list[Account]]:
    cursor: str | None = None
    while True:
        page = accounts.page(cursor=cursor, limit=ACCOUNTS_PAGE)
        yield page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# One mailbox


@dataclass
class Collaborators:
    accounts: AccountStore
    sync: MailboxSyncStore
    vault: CredentialVault
    hand_over: Callable[[Account, list[Any]], int]
    jobs: Callable[[], PollJobs] = PollJobs
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # The account's mailbox source (its channel's adapter's; tests script one).
    source: Callable[[Account, Any], MailboxSource] = field(default=lambda a, c: _adapter_source(a, c))


def default_collaborators() -> Collaborators:
    from inbox.email.ingest import hand_over
    from inbox.routing.queue import InboundQueue
    from inbox.store import dynamo
    from inbox.store.mail_objects import MailObjects

    table = dynamo.table()
    objects, queue = MailObjects(), InboundQueue()
    return Collaborators(
        accounts=AccountStore(table),
        sync=MailboxSyncStore(table),
        vault=CredentialVault(),
        hand_over=lambda account, mails: hand_over(account, mails, objects=objects, queue=queue),
    )


def poll_mailbox(
    account_id: str, *, seconds: float, collaborators: Collaborators | None = None
) -> PollResult:
    """Poll one mailbox for at most about `seconds` (batches are not started after that)."""
    c = collaborators or default_collaborators()
    try:
        account = c.accounts.get(account_id)
    except NotFound:
        return PollResult(skipped="account deleted")
    if not pollable(account):
        return PollResult(skipped=f"{account.channel} account {account.status}")
    if (waiting := _throttled_until(account_id, c)) is not None:
        logger.info("Provider asked to wait: poll skipped", extra={"account_id": account_id})
        return PollResult(skipped=f"throttled until {waiting.isoformat()}")
    holder = new_id("poll")
    if not c.sync.acquire_lease(account_id, holder, seconds=LEASE_SECONDS):
        logger.info("Mailbox already being polled", extra={"account_id": account_id})
        return PollResult(skipped="another poll holds the mailbox")
    started = time.monotonic()
    try:
        result = _poll(account, holder, started + seconds, c)
    finally:
        c.sync.release_lease(account_id, holder)
    metrics.add_metric(name="EmailPollSeconds", unit="Seconds", value=time.monotonic() - started)
    if result.more:
        c.jobs().queue([account_id], reason="continue", dedupe=holder)
    return result


def _poll(account: Account, holder: str, deadline: float, c: Collaborators) -> PollResult:
    from inbox.accounts.models import CREDENTIALS_MODEL, parse_config
    from inbox.email.mailbox import Limits

    try:
        credentials = c.vault.load(account.id, CREDENTIALS_MODEL[account.provider])
    except MissingCredentials:
        return _refused(account, "The account has no stored credentials.", c)
    source = c.source(account, credentials)
    config = parse_config(account.provider, account.config)
    limits = Limits(deadline=deadline, backfill_days=getattr(config, "backfill_days", 7))
    handed_over, more = 0, False
    saved = c.sync.cursor(account.id)
    try:
        for batch in source.batches(saved, limits):
            handed_over += c.hand_over(account, batch.mails)
            if batch.cursor != saved:
                c.sync.save_cursor(account.id, batch.cursor, holder=holder)
                saved = batch.cursor
            more = batch.more
    except PeerError as failure:
        metrics.add_metric(name="EmailMessagesFetched", unit="Count", value=handed_over)
        if failure.error.code == "auth" and _same_credentials(account, credentials, c):
            return _refused(account, failure.error.message, c)
        retry_at = c.clock() + timedelta(seconds=failure.retry_after) if failure.retry_after else None
        return _failed(account, failure.error.code, failure.error.message, c, handed_over, retry_at)
    except LeaseLost:
        logger.warning("Poll outlived its lease: stopped", extra={"account_id": account.id})
        return PollResult(handed_over=handed_over, error="lease_lost")
    except (StorageFailure, QueueRefused) as failure:
        message = "The mail could not be kept or queued; the next poll tries again."
        logger.exception("Mail hand-over failed", extra={"account_id": account.id})
        return _failed(account, "storage", f"{message} ({type(failure).__name__})", c, handed_over)
    metrics.add_metric(name="EmailMessagesFetched", unit="Count", value=handed_over)
    c.sync.record_poll(account.id, c.clock(), error=None)
    logger.info("Mailbox polled", extra={"account_id": account.id, "handed_over": handed_over, "more": more})
    return PollResult(handed_over=handed_over, more=more)


def _adapter_source(account: Account, credentials: Any) -> MailboxSource:
    from inbox.channels import adapter

    return adapter(account.provider).mailbox_source(account, credentials)


def _throttled_until(account_id: str, c: Collaborators) -> datetime | None:
    """When the provider's last "slow down" ends, if it has not yet."""
    error = c.sync.sync(account_id).last_error
    if error is None or error.retry_at is None or error.retry_at <= c.clock():
        return None
    return error.retry_at


def _same_credentials(account: Account, used: Any, c: Collaborators) -> bool:
    """Whether the refused credentials are still the stored ones (an admin may have just fixed
    them: the next poll tries the new ones instead of putting the account in error). An OAuth
    account's refusal was already checked so, under its token lease (`inbox.oauth.tokens`): its
    stored credentials change with every refresh."""
    from inbox.accounts.lifecycle import OAUTH_PROVIDERS
    from inbox.accounts.models import CREDENTIALS_MODEL

    if account.provider in OAUTH_PROVIDERS:
        return True

    try:
        return bool(c.vault.load(account.id, CREDENTIALS_MODEL[account.provider]) == used)
    except MissingCredentials:
        return True


def _refused(account: Account, reason: str, c: Collaborators) -> PollResult:
    from inbox.accounts.lifecycle import record_credentials_rejected
    from inbox.email.sync_state import SyncError

    now = c.clock()
    record_credentials_rejected(account.id, reason, accounts=c.accounts, now=now)
    c.sync.record_poll(account.id, now, error=SyncError(code="auth", message=reason, at=now))
    logger.warning("Mailbox refused the credentials: account put in error", extra={"account_id": account.id})
    return PollResult(error="auth")


def _failed(
    account: Account,
    code: str,
    message: str,
    c: Collaborators,
    handed_over: int,
    retry_at: datetime | None = None,
) -> PollResult:
    from inbox.email.sync_state import SyncError

    now = c.clock()
    c.sync.record_poll(
        account.id, now, error=SyncError(code=code, message=message, at=now, retry_at=retry_at)
    )
    logger.warning("Mailbox poll failed", extra={"account_id": account.id, "code": code})
    return PollResult(handed_over=handed_over, error=code)
