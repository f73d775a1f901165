"""Syncing a Gmail mailbox (`GmailSource`) against the sandbox's Google over real https, with the
account's real tokens (`AccountTokens`: the lease in DynamoDB, the credentials in Secrets Manager,
on moto; refreshes by google-auth): the backfill of a first poll, the history after it, pages and
batch bounds, the deadline, a poll killed at any batch losing nothing, a history Gmail no longer
keeps, and which failures are the account's (`auth`) and which are not (quota, outages)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from google_standin import APP, closed_port_url, email, serve_google
from inbox.accounts.check_report import PeerError
from inbox.accounts.models import Account, Channel, GmailCredentials, Provider
from inbox.email.api_sending import send_gmail
from inbox.email.gmail_source import GmailSource
from inbox.email.mailbox import Batch, Limits, RawMail
from inbox.local.resources import LocalResources
from inbox.local.sandbox.google import GMAIL_SEND, GoogleSandbox
from inbox.local.sandbox.tls import LocalCA
from inbox.oauth.tokens import AccountTokens
from inbox.store.credentials import CredentialVault

ADDRESS = "support@shop.example"
NOW = datetime.now(UTC)
MESSAGES = "/gmail/v1/users/me/messages/"


@pytest.fixture
def google(
    https_server: HTTPServer, trust_stand_ins: LocalCA, aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> GoogleSandbox:
    sandbox = serve_google(https_server, monkeypatch)
    sandbox.add_mailbox(ADDRESS)
    return sandbox


@pytest.fixture
def account(google: GoogleSandbox) -> Account:
    """A connected Gmail account: its refresh token stored, no access token yet."""
    connected = Account(
        id="acc_gmail",
        channel=Channel.EMAIL,
        provider=Provider.GMAIL,
        name="Support",
        address=ADDRESS,
        config={"backfill_days": 7},
        has_credentials=True,
        created_at=NOW,
        updated_at=NOW,
    )
    refresh_token = SecretStr(google.grant(ADDRESS))
    CredentialVault().save(connected.id, GmailCredentials(refresh_token=refresh_token))
    return connected


def source(account: Account, https_server: HTTPServer, *, api_url: str | None = None) -> GmailSource:
    tokens = AccountTokens(account, app=lambda: APP)
    return GmailSource(tokens, api_url=api_url or https_server.url_for("/").rstrip("/"), timeout=5)


@dataclass(frozen=True)
class Interruptible(Limits):
    """Limits whose deadline passes when the test says so (`stop.set()`)."""

    stop: threading.Event = field(default_factory=threading.Event)

    def expired(self) -> bool:
        return self.stop.is_set()


def limits(**bounds: Any) -> Limits:
    return Limits(deadline=time.monotonic() + 60, now=NOW, **bounds)


def subjects(mails: list[RawMail]) -> list[str]:
    return [mail.raw.split(b"Subject: ")[1].split(b"\r\n")[0].decode() for mail in mails]


def handed(batches: list[Batch]) -> list[str]:
    return [name for batch in batches for name in subjects(batch.mails)]


def arrive(google: GoogleSandbox, *names: str, ago: timedelta = timedelta(0)) -> list[str]:
    """Messages named `names` arriving in the INBOX (their internalDate `ago` before now); ids."""
    return [google.deliver(ADDRESS, email(name), arrived_at=NOW - ago) for name in names]


def poll(gmail: GmailSource, cursor: dict[str, Any] | None, **bounds: Any) -> list[Batch]:
    batches = list(gmail.batches(cursor, limits(**bounds)))
    assert batches, "a successful poll gives at least one batch"
    return batches


def test_a_first_poll_imports_what_arrived_within_the_backfill(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    arrive(google, "too-old", ago=timedelta(days=8))
    (recent,) = arrive(google, "recent", ago=timedelta(days=2))
    arrive(google, "this-morning", ago=timedelta(hours=3))
    gmail = source(account, https_server)

    first = poll(gmail, None, backfill_days=7)

    assert sorted(handed(first)) == ["recent", "this-morning"]
    mail = next(m for b in first for m in b.mails if m.uid == recent)
    assert mail.folder == "INBOX"
    assert mail.thread_id == recent
    assert abs(mail.arrived_at - (NOW - timedelta(days=2))) < timedelta(milliseconds=1)
    assert first[-1].cursor.keys() == {"history_id"}
    assert not first[-1].more
    assert google.calls(MESSAGES) == 2  # the old message is not even fetched

    quiet = poll(gmail, first[-1].cursor)
    assert [b.mails for b in quiet] == [[]]

    arrive(google, "new")
    assert handed(poll(gmail, quiet[-1].cursor)) == ["new"]


def test_without_a_backfill_only_what_arrives_next_is_imported(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    arrive(google, "yesterday", ago=timedelta(days=1))
    gmail = source(account, https_server)

    first = poll(gmail, None, backfill_days=0)
    arrive(google, "after-connecting")

    assert [b.mails for b in first] == [[]]
    assert handed(poll(gmail, first[-1].cursor)) == ["after-connecting"]


def test_every_page_of_the_backfill_and_of_the_history_is_read(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    google.add_mailbox(ADDRESS).page_size = 2  # Gmail may answer fewer than asked
    arrive(google, *(f"old-{i}" for i in range(5)), ago=timedelta(days=1))
    gmail = source(account, https_server)

    first = poll(gmail, None)
    arrive(google, *(f"new-{i}" for i in range(5)))
    later = poll(gmail, first[-1].cursor)

    assert sorted(handed(first)) == [f"old-{i}" for i in range(5)]
    assert handed(later) == [f"new-{i}" for i in range(5)]  # history is oldest first
    assert google.calls("/gmail/v1/users/me/history") >= 1 + 3


def test_batches_are_bounded_in_messages_and_bytes(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    start = poll(gmail, None, backfill_days=0)[-1].cursor
    for i in range(5):
        google.deliver(ADDRESS, email(f"small-{i}", body="x" * 1000))
    google.deliver(ADDRESS, email("big", body="y" * 6000))
    google.deliver(ADDRESS, email("after-big", body="z" * 1000))

    by_count = poll(gmail, start, batch_messages=2)
    by_bytes = poll(gmail, start, batch_bytes=3000)

    assert [len(b.mails) for b in by_count if b.mails] == [2, 2, 2, 1]
    for batch in by_bytes:
        assert len(batch.mails) == 1 or sum(len(m.raw) for m in batch.mails) <= 3000
    assert [subjects(b.mails) for b in by_bytes if "big" in subjects(b.mails)] == [["big"]]
    assert handed(by_count) == handed(by_bytes) == [*(f"small-{i}" for i in range(5)), "big", "after-big"]


def test_the_deadline_ends_the_poll_with_more_and_the_next_one_goes_on(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    start = poll(gmail, None, backfill_days=0)[-1].cursor
    arrive(google, *(f"m-{i}" for i in range(5)))
    bounds = Interruptible(deadline=time.monotonic() + 60, now=NOW, batch_messages=2)

    batches = gmail.batches(start, bounds)
    first = next(batches)
    bounds.stop.set()  # the function's time is up
    rest = list(batches)

    assert subjects(first.mails) == ["m-0", "m-1"]
    assert [(b.mails, b.more) for b in rest] == [([], True)]
    assert handed(poll(gmail, rest[-1].cursor)) == ["m-2", "m-3", "m-4"]


@pytest.mark.parametrize("phase", ["backfill", "history"])
def test_a_poll_killed_after_any_batch_loses_nothing(
    phase: str, google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    google.add_mailbox(ADDRESS).page_size = 3
    gmail = source(account, https_server)
    names = [f"m-{i}" for i in range(8)]
    if phase == "backfill":
        arrive(google, *names, ago=timedelta(hours=1))
        start = None
    else:
        start = poll(gmail, None)[-1].cursor
        arrive(google, *names)

    saved_mid_page = False
    for kept in range(1, 20):
        # The poller saved the cursor of batch `kept` (once its mails were handed over), then died.
        taken: list[Batch] = []
        for batch in gmail.batches(start, limits(batch_messages=2)):
            taken.append(batch)
            if len(taken) == kept:
                break
        if len(taken) < kept:
            break
        saved = taken[-1].cursor
        saved_mid_page |= bool(saved.get("backfill", {}).get("handed"))
        resumed = poll(gmail, saved, batch_messages=2)
        assert set(handed(taken)) | set(handed(resumed)) == set(names), f"killed after batch {kept}"
        assert resumed[-1].cursor.keys() == {"history_id"}
    assert kept >= 5
    assert saved_mid_page or phase == "history"


def test_a_history_gmail_no_longer_keeps_means_a_new_backfill(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    (too_old,) = arrive(google, "too-old", ago=timedelta(days=30))
    arrive(google, "last-week", ago=timedelta(days=3))
    gmail = source(account, https_server)
    cursor = poll(gmail, None)[-1].cursor
    arrive(google, "during-the-outage")
    google.expire_history(ADDRESS)  # the account was paused for weeks
    fetched_before = google.calls(MESSAGES)

    resynced = poll(gmail, cursor)

    # The router drops the second copy of last-week (by Message-ID); nothing is missing.
    assert sorted(handed(resynced)) == ["during-the-outage", "last-week"]
    assert google.calls(MESSAGES) - fetched_before == 2
    assert google.calls(f"{MESSAGES}{too_old}") == 0
    arrive(google, "after")
    assert handed(poll(gmail, resynced[-1].cursor)) == ["after"]


def test_a_message_listed_twice_is_fetched_once_and_a_deleted_one_is_passed_over(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    cursor = poll(gmail, None, backfill_days=0)[-1].cursor
    gone, kept = arrive(google, "deleted-meanwhile", "kept")
    google.delete(ADDRESS, gone)
    google.list_again(ADDRESS, kept)

    batches = poll(gmail, cursor)

    assert handed(batches) == ["kept"]
    assert google.calls(f"{MESSAGES}{kept}") == 1


def test_a_reply_sent_through_gmail_joins_the_thread_and_is_not_imported(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    cursor = poll(gmail, None, backfill_days=0)[-1].cursor
    (question,) = arrive(google, "question")
    reply = message_from_bytes(email("reply"), _class=EmailMessage, policy=policy.default)
    token = AccountTokens(account, app=lambda: APP).get()

    send_gmail(token, reply, thread_id=question, api_url=https_server.url_for("/").rstrip("/"))

    assert [m.thread_id for m in google.sent(ADDRESS)] == [question]
    assert handed(poll(gmail, cursor)) == ["question"]  # SENT is not INBOX


def test_a_token_refused_once_is_renewed_and_the_poll_goes_on(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    cursor = poll(gmail, None, backfill_days=0)[-1].cursor
    assert google.refreshes == 1  # the first token, stored for the next polls
    arrive(google, "new")
    google.expire_access_tokens(ADDRESS)  # revoked early: the stored one still looks fresh

    assert handed(poll(gmail, cursor)) == ["new"]
    assert google.refreshes == 2


def test_a_token_refused_again_after_renewal_is_the_accounts_refusal(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    google.refuse_access(ADDRESS)

    with pytest.raises(PeerError) as caught:
        poll(source(account, https_server), None)

    assert caught.value.error.code == "auth"
    assert "reconnect the account" in caught.value.error.message
    assert google.refreshes == 2  # the first token, and one renewal: no loop


def test_a_revoked_grant_is_the_accounts_refusal(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    cursor = poll(gmail, None, backfill_days=0)[-1].cursor
    google.revoke(ADDRESS)

    with pytest.raises(PeerError) as caught:
        poll(gmail, cursor)

    assert caught.value.error.code == "auth"
    assert "revoked" in caught.value.error.message
    assert "ya29." not in caught.value.error.message
    assert "1//" not in caught.value.error.message


def test_a_token_without_a_mail_scope_is_the_accounts_refusal(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    send_only = SecretStr(google.grant(ADDRESS, frozenset({GMAIL_SEND})))
    CredentialVault().save(account.id, GmailCredentials(refresh_token=send_only))

    with pytest.raises(PeerError) as caught:
        poll(source(account, https_server), None)

    assert caught.value.error.code == "auth"
    assert "reconnect the account" in caught.value.error.message


def test_quota_is_throttled_with_retry_after_never_auth(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    cursor = poll(gmail, None, backfill_days=0)[-1].cursor

    google.throttle(1, retry_after=30)
    with pytest.raises(PeerError) as throttled:
        poll(gmail, cursor)
    google.throttle(1, retry_after=None, quota_reason="userRateLimitExceeded")
    with pytest.raises(PeerError) as over_quota:
        poll(gmail, cursor)

    assert (throttled.value.error.code, throttled.value.retry_after) == ("throttled", 30)
    assert (over_quota.value.error.code, over_quota.value.retry_after) == ("throttled", None)


def test_a_short_retry_after_is_waited_out_within_the_poll(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    cursor = poll(gmail, None, backfill_days=0)[-1].cursor
    arrive(google, "new")
    google.throttle(1, retry_after=1, quota_reason="rateLimitExceeded")
    started = time.monotonic()

    assert handed(poll(gmail, cursor)) == ["new"]
    assert time.monotonic() - started >= 1


def test_gmail_failing_or_unreachable_is_not_the_accounts_fault(
    google: GoogleSandbox, account: Account, https_server: HTTPServer
) -> None:
    gmail = source(account, https_server)
    cursor = poll(gmail, None, backfill_days=0)[-1].cursor

    google.fail(1, status=503, path="/gmail/")
    with pytest.raises(PeerError) as failing:
        poll(gmail, cursor)
    with pytest.raises(PeerError) as unreachable:
        poll(source(account, https_server, api_url=closed_port_url()), cursor)
    google.fail(1, status=502, path="/token")  # not retried by google-auth (see test_google_oauth)
    google.expire_access_tokens(ADDRESS)
    with pytest.raises(PeerError) as no_token:
        poll(gmail, cursor)

    assert failing.value.error.code == "connect"
    assert "503" in failing.value.error.message
    assert unreachable.value.error.code == "connect"
    assert no_token.value.error.code == "connect"
