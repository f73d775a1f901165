"""Polling a real Dovecot through the poll_email function, then routing what it handed over: new mail
becomes conversations, nothing on the server changes, a poll killed at any point loses and
duplicates nothing, the lease keeps polls of one mailbox apart, refused credentials put the account
in error, the schedule fans out one job per active email account."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from builders import call_api, invoke_handler
from dovecot import LocalDovecot, new_mailbox
from email_corpus import CORPUS
from inbox import aws
from inbox.email import polling
from inbox.email.polling import PollResult
from inbox.local.resources import LocalResources
from inbox.local.scheduler import scheduled_event
from inbox.local.template import Schedule
from inbox.store.mailbox_sync import MailboxSyncStore
from mail_flow import (
    account,
    conversations_of,
    create_imap_account,
    drain_inbound,
    function_variables,
    inbound_messages,
    messages_of,
    poll,
    quarantine_of,
    queue_url,
)
from mail_peers import MailUser
from mailboxes import append, flags_of, mail

POLL_SECONDS = 60


class Killed(BaseException):
    """The process dying mid-poll: nothing after this point runs (not even an `except Exception`)."""


@pytest.fixture
def stack(aws: LocalResources) -> Iterator[LocalResources]:
    with function_variables(aws, "poll_email", "route", "settings_api"):
        yield aws


@pytest.fixture
def mailbox(dovecot: LocalDovecot) -> MailUser:
    return new_mailbox(dovecot, "poll")


def account_on(server: LocalDovecot, user: MailUser, *, password: str | None = None, **config: Any) -> str:
    created = create_imap_account(
        host=server.host,
        port=server.port,
        security="none",
        username=user.username,
        password=password or user.password,
        **config,
    )
    return str(created["id"])


def test_new_mail_becomes_conversations_and_the_server_is_left_as_it_was(
    stack: LocalResources, dovecot: LocalDovecot, mailbox: MailUser
) -> None:
    append(dovecot, mailbox, mail("Unread question"))
    append(dovecot, mailbox, mail("Read already"), flags="\\Seen")
    append(dovecot, mailbox, mail("Flagged one"), flags="\\Flagged")
    before = flags_of(dovecot, mailbox)
    account_id = account_on(dovecot, mailbox)

    assert poll(account_id) == {"batchItemFailures": []}
    drain_inbound(stack)

    assert sorted(c["subject"] for c in conversations_of(account_id)) == [
        "Flagged one",
        "Read already",
        "Unread question",
    ]
    assert flags_of(dovecot, mailbox) == before  # nothing marked \Seen, moved or deleted
    sync = account(account_id)["sync"]
    assert sync["imported"] == 3
    assert sync["last_error"] is None
    assert sync["last_success_at"]

    # Nothing new: nothing more. Then a reply: it joins its conversation.
    poll(account_id)
    assert drain_inbound(stack) == 0
    (first,) = [m for m in inbound_messages(account_id) if m["subject"] == "Unread question"]
    reply = mail("Re: Unread question").replace(
        b"MIME-Version", f"In-Reply-To: <{first['message_id']}>\r\nMIME-Version".encode(), 1
    )
    append(dovecot, mailbox, reply)
    poll(account_id)
    drain_inbound(stack)
    (thread,) = [c for c in conversations_of(account_id) if c["subject"] == "Unread question"]
    assert [m["subject"] for m in messages_of(thread["id"])] == ["Unread question", "Re: Unread question"]
    assert account(account_id)["sync"]["imported"] == 4


def test_the_whole_corpus_through_dovecot_ends_stored_or_quarantined(
    stack: LocalResources, dovecot: LocalDovecot, mailbox: MailUser
) -> None:
    for corpus_mail in CORPUS:
        if corpus_mail.raw:  # IMAP cannot hold an empty message
            append(dovecot, mailbox, corpus_mail.raw)
    delivered = [m for m in CORPUS if m.raw]
    account_id = account_on(dovecot, mailbox)
    poll(account_id)
    drain_inbound(stack)
    stored, quarantined = inbound_messages(account_id), quarantine_of(account_id)
    second_copies = [m for m in delivered if m.name.startswith("duplicate-message-id-")][1:]
    assert len(stored) + len(quarantined) + len(second_copies) == len(delivered)
    assert len(quarantined) == len([m for m in delivered if m.outcome == "quarantined"])


def killing(hand_over: Any, *, after: bool) -> Any:
    """The real hand-over, with the process dying just before it, or just after it (before the
    cursor is written)."""

    def dying(account: Any, mails: list[Any]) -> int:
        if mails and not after:
            raise Killed
        handed = int(hand_over(account, mails))
        if mails:
            raise Killed
        return handed

    return dying


@pytest.mark.parametrize("after", [False, True], ids=["between-fetch-and-hand-over", "before-cursor-write"])
def test_a_poll_killed_at_any_point_loses_and_duplicates_nothing(
    after: bool, stack: LocalResources, dovecot: LocalDovecot, mailbox: MailUser
) -> None:
    for n in range(5):
        append(dovecot, mailbox, mail(f"Message {n}"))
    account_id = account_on(dovecot, mailbox)
    collaborators = polling.default_collaborators()
    dying = replace(collaborators, hand_over=killing(collaborators.hand_over, after=after))

    with pytest.raises(Killed):
        polling.poll_mailbox(account_id, seconds=POLL_SECONDS, collaborators=dying)
    assert MailboxSyncStore().cursor(account_id) is None  # the cursor did not move

    poll(account_id)  # the next poll, from the saved cursor
    drain_inbound(stack)
    subjects = sorted(m["subject"] for m in inbound_messages(account_id))
    assert subjects == [f"Message {n}" for n in range(5)]
    assert account(account_id)["sync"]["imported"] == 5


def test_two_polls_of_one_mailbox_never_overlap_and_a_dead_one_frees_it_in_time(
    stack: LocalResources, dovecot: LocalDovecot, mailbox: MailUser
) -> None:
    append(dovecot, mailbox, mail("Waiting"))
    account_id = account_on(dovecot, mailbox)
    sync = MailboxSyncStore()
    # A poll that died holding the lease (a Lambda timeout): for one more second it is still "live".
    assert sync.acquire_lease(account_id, "poll_dead", seconds=1)

    assert polling.poll_mailbox(account_id, seconds=POLL_SECONDS) == PollResult(
        skipped="another poll holds the mailbox"
    )
    time.sleep(1.2)
    result = polling.poll_mailbox(account_id, seconds=POLL_SECONDS)
    assert result.handed_over == 1
    assert result.error is None
    # Its lease was released: the next poll needs no wait.
    assert sync.acquire_lease(account_id, "poll_next", seconds=1)


def test_a_backlog_bigger_than_a_poll_continues_at_once(
    stack: LocalResources, dovecot: LocalDovecot, mailbox: MailUser
) -> None:
    for n in range(3):
        append(dovecot, mailbox, mail(f"Backlog {n}"))
    account_id = account_on(dovecot, mailbox)
    result = polling.poll_mailbox(account_id, seconds=0)  # the deadline passes after the first batch
    assert result.more
    jobs = aws.client("sqs").receive_message(
        QueueUrl=queue_url(stack, "EmailPollQueue"), MaxNumberOfMessages=10
    )["Messages"]
    assert [json.loads(j["Body"]) for j in jobs] == [{"account_id": account_id, "reason": "continue"}]


def test_a_wrong_password_puts_the_account_in_error_and_new_credentials_resume_polling(
    stack: LocalResources, dovecot: LocalDovecot, mailbox: MailUser
) -> None:
    append(dovecot, mailbox, mail("Behind a bad password"))
    account_id = account_on(dovecot, mailbox, password="not-the-password")

    poll(account_id)
    refused = account(account_id)
    assert refused["status"] == "error"
    assert "refused" in refused["status_reason"]
    assert refused["sync"]["last_error"]["code"] == "auth"
    assert polling.poll_mailbox(account_id, seconds=POLL_SECONDS).skipped == "email account error"

    fixed = call_api(
        "PATCH", f"/v1/accounts/{account_id}", body={"credentials": {"password": mailbox.password}}
    )
    assert fixed.body["status"] == "active"
    poll(account_id)
    drain_inbound(stack)
    assert [m["subject"] for m in inbound_messages(account_id)] == ["Behind a bad password"]
    assert account(account_id)["sync"]["last_error"] is None


def test_an_unreachable_server_is_recorded_and_the_account_stays_active(
    stack: LocalResources, closed_port: Any
) -> None:
    created = create_imap_account(host=closed_port.host, port=closed_port.port, security="none")
    poll(created["id"])
    after = account(created["id"])
    assert after["status"] == "active"
    assert after["sync"]["last_error"]["code"] == "connect"
    assert after["sync"]["last_polled_at"]
    assert after["sync"]["last_success_at"] is None


def test_the_schedule_queues_one_job_per_active_email_account_once_a_minute(stack: LocalResources) -> None:
    active = [create_imap_account(address=f"desk{n}@shop.example")["id"] for n in range(3)]
    paused = create_imap_account(address="paused@shop.example")["id"]
    assert call_api("POST", f"/v1/accounts/{paused}/pause").status == 200
    whatsapp = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "twilio",
            "name": "WA",
            "address": "+33100000000",
            "config": {"account_sid": "AC" + "0" * 32},
            "credentials": {"auth_token": "t"},
        },
    )
    assert whatsapp.status == 201
    tick = Schedule(logical_id="EmailPollSchedule", expression="rate(1 minute)", function_ids=(), kind=None)
    now = datetime.now(UTC)
    assert invoke_handler("poll_email", scheduled_event(tick, now)) == {"queued": 3}
    assert invoke_handler("poll_email", scheduled_event(tick, now)) == {"queued": 3}  # same minute

    jobs = aws.client("sqs").receive_message(
        QueueUrl=queue_url(stack, "EmailPollQueue"), MaxNumberOfMessages=10
    )["Messages"]
    assert sorted(json.loads(j["Body"])["account_id"] for j in jobs) == sorted(active)


def test_sync_now_queues_a_poll_of_an_active_email_account_only(stack: LocalResources) -> None:
    account_id = create_imap_account()["id"]
    answer = call_api("POST", f"/v1/accounts/{account_id}/sync")
    assert answer.status == 202
    jobs = aws.client("sqs").receive_message(QueueUrl=queue_url(stack, "EmailPollQueue"))["Messages"]
    assert json.loads(jobs[0]["Body"]) == {"account_id": account_id, "reason": "sync"}

    call_api("POST", f"/v1/accounts/{account_id}/pause")
    refused = call_api("POST", f"/v1/accounts/{account_id}/sync")
    assert (refused.status, refused.body["error"]["code"]) == (409, "account_paused")
    assert call_api("POST", "/v1/accounts/acc_missing/sync").status == 404
