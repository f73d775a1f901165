"""The poll of one mailbox, in the order of its effects (in-memory stores, a scripted mailbox):
a batch's cursor is saved only after the batch is handed over; a failure keeps the cursors of the
batches before it; refused credentials put the account in error unless they changed meanwhile; a
poll that lost its lease stops writing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from fakes import FakeAccounts, FakeMailboxSync, FakeVault, Journal, ScriptedSource, Step
from inbox.accounts.check_report import PeerError
from inbox.accounts.models import Account, AccountStatus, Channel, ImapCredentials, Provider
from inbox.email.mailbox import Batch, RawMail
from inbox.email.polling import Collaborators, PollResult, poll_mailbox

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACCOUNT = Account(
    id="acc_1",
    channel=Channel.EMAIL,
    provider=Provider.IMAP,
    name="Support",
    address="support@shop.example",
    config={"imap_host": "imap.shop.example", "smtp_host": "smtp.shop.example", "username": "support"},
    has_credentials=True,
    created_at=NOW,
    updated_at=NOW,
)


def batch(at: int, *subjects: str, more: bool = False) -> Batch:
    mails = [
        RawMail(raw=f"Subject: {s}\r\n\r\n".encode(), arrived_at=NOW, folder="INBOX", uid=s) for s in subjects
    ]
    return Batch(mails=mails, cursor={"at": at}, more=more)


class Jobs:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def queue(self, account_ids: list[str], *, reason: str, dedupe: str) -> None:
        self.journal.write(f"queued {reason}")


def run(
    script: Sequence[Step],
    *,
    vault: FakeVault | None = None,
    sync: FakeMailboxSync | None = None,
    journal: Journal | None = None,
) -> tuple[PollResult, Journal, FakeAccounts, FakeMailboxSync]:
    journal = journal or Journal()
    accounts = FakeAccounts(ACCOUNT)
    sync = sync or FakeMailboxSync(journal)
    password = ImapCredentials.model_validate({"password": "secret"})

    def hand_over(account: Account, mails: list[RawMail]) -> int:
        if mails:
            journal.write("handed over " + ",".join(m.uid for m in mails))
        return len(mails)

    collaborators = Collaborators(
        accounts=accounts,  # type: ignore[arg-type]
        sync=sync,  # type: ignore[arg-type]
        vault=vault or FakeVault(password),  # type: ignore[arg-type]
        hand_over=hand_over,
        jobs=lambda: Jobs(journal),  # type: ignore[arg-type,return-value]
        clock=lambda: NOW,
        source=lambda account, credentials: ScriptedSource(journal, script),
    )
    return poll_mailbox(ACCOUNT.id, seconds=60, collaborators=collaborators), journal, accounts, sync


def test_each_cursor_is_saved_after_its_batch_is_handed_over_and_a_backlog_continues() -> None:
    result, journal, _, _ = run([batch(1, "a", "b"), batch(2, "c", more=True)])
    assert journal.entries == [
        "fetch from start",
        "handed over a,b",
        "cursor 1",
        "handed over c",
        "cursor 2",
        "recorded success",
        "lease released",
        "queued continue",
    ]
    assert result == PollResult(handed_over=3, more=True)


def test_a_failure_keeps_the_cursor_of_the_batches_before_it() -> None:
    failure = PeerError("timeout", "The IMAP server did not answer within 30 seconds.")
    result, journal, accounts, sync = run([batch(1, "a"), failure])
    assert journal.entries == [
        "fetch from start",
        "handed over a",
        "cursor 1",
        "recorded timeout",
        "lease released",
    ]
    assert sync.saved == {"at": 1}
    assert result.error == "timeout"
    assert accounts.get(ACCOUNT.id).status is AccountStatus.ACTIVE  # unreachable is not refused


def test_refused_credentials_put_the_account_in_error() -> None:
    result, _, accounts, sync = run([PeerError("auth", "The IMAP server refused the user name or password.")])
    assert result.error == "auth"
    account = accounts.get(ACCOUNT.id)
    assert (account.status, account.status_reason) == (
        AccountStatus.ERROR,
        "The IMAP server refused the user name or password.",
    )
    assert sync.state.last_error is not None


def test_credentials_changed_during_the_poll_are_tried_next_time_not_declared_refused() -> None:
    vault = FakeVault(ImapCredentials.model_validate({"password": "old"}))

    def refused_while_the_admin_fixes_it() -> None:
        vault.credentials = ImapCredentials.model_validate({"password": "new"})
        raise PeerError("auth", "The IMAP server refused the user name or password.")

    result, _, accounts, _ = run([refused_while_the_admin_fixes_it], vault=vault)
    assert result.error == "auth"
    assert accounts.get(ACCOUNT.id).status is AccountStatus.ACTIVE


def test_a_poll_that_lost_its_lease_stops_before_handing_over_more() -> None:
    journal = Journal()
    sync = FakeMailboxSync(journal)
    sync.steal_lease_after_saves = 1  # another poll takes the mailbox after our first cursor
    result, journal, _, _ = run([batch(1, "a"), batch(2, "b"), batch(3, "c")], sync=sync, journal=journal)
    assert journal.entries == ["fetch from start", "handed over a", "cursor 1", "handed over b"]
    assert result == PollResult(handed_over=2, error="lease_lost")


@pytest.mark.parametrize("status", [AccountStatus.PAUSED, AccountStatus.ERROR])
def test_paused_and_error_accounts_are_not_polled(status: AccountStatus, monkeypatch: Any) -> None:
    journal = Journal()
    accounts = FakeAccounts(ACCOUNT.model_copy(update={"status": status}))
    collaborators = Collaborators(
        accounts=accounts,  # type: ignore[arg-type]
        sync=FakeMailboxSync(journal),  # type: ignore[arg-type]
        vault=FakeVault(None),  # type: ignore[arg-type]
        hand_over=lambda account, mails: 0,
        source=lambda account, credentials: ScriptedSource(journal, []),
    )
    assert (
        poll_mailbox(ACCOUNT.id, seconds=60, collaborators=collaborators).skipped == f"email account {status}"
    )
    assert journal.entries == []
