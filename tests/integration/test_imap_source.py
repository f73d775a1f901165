"""The IMAP mailbox source against a real Dovecot: what a poll imports, what it costs when nothing
is new, and that it never changes the mailbox. Each story has a mailbox of its own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dovecot import LocalDovecot, new_mailbox
from inbox.accounts.check_report import PeerError
from inbox.accounts.models import ImapConfig
from inbox.email.imap_source import ImapSource
from inbox.email.mailbox import Batch, Limits, RawMail
from mail_peers import MailUser
from mailboxes import append, commands_sent, delete_folder, flags_of, mail

DAY = timedelta(days=1)


@pytest.fixture
def user(dovecot: LocalDovecot) -> MailUser:
    return new_mailbox(dovecot)


def source(
    dovecot: LocalDovecot, user: MailUser, *, password: str | None = None, **config: Any
) -> ImapSource:
    settings = ImapConfig(
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security="none",
        smtp_host="smtp.example.com",
        username=user.username,
        **config,
    )
    return ImapSource(settings, user.password if password is None else password, command_timeout=10)


def poll(mailbox: ImapSource, cursor: dict[str, Any] | None = None, **limits: Any) -> list[Batch]:
    return list(mailbox.batches(cursor, Limits(deadline=time.monotonic() + 30, **limits)))


def mails(batches: list[Batch]) -> list[RawMail]:
    return [mail for batch in batches for mail in batch.mails]


def subjects(batches: list[Batch]) -> list[str]:
    return [subject_of(mail.raw) for mail in mails(batches)]


def subject_of(raw: bytes) -> str:
    return next(line[9:] for line in raw.decode().splitlines() if line.startswith("Subject: "))


def after_login(sent: list[str]) -> list[str]:
    return sent[sent.index("LOGIN") :]


def ago(delta: timedelta) -> datetime:
    return (datetime.now(UTC) - delta).replace(microsecond=0)


def test_the_first_poll_imports_what_arrived_within_the_backfill_in_uid_order(
    dovecot: LocalDovecot, user: MailUser
) -> None:
    # Given messages that arrived over the last weeks, not in arrival order (APPENDed old mail)
    arrivals = {
        "a month ago": ago(30 * DAY),
        "three days ago": ago(3 * DAY),
        "seven days and six hours ago": ago(7 * DAY + timedelta(hours=6)),
        "ten days ago": ago(10 * DAY),
        "an hour ago": ago(timedelta(hours=1)),
    }
    for subject, arrived in arrivals.items():
        append(dovecot, user, mail(subject), internal_date=arrived)

    # When the account is polled for the first time, with a 7-day backfill
    batches = poll(source(dovecot, user), None, backfill_days=7)

    # Then only the last 7 days' messages come, in UID order, with their arrival dates
    assert subjects(batches) == ["three days ago", "an hour ago"]
    assert [(m.uid, m.folder, m.arrived_at) for m in mails(batches)] == [
        ("2", "INBOX", arrivals["three days ago"]),
        ("5", "INBOX", arrivals["an hour ago"]),
    ]
    assert batches[-1].more is False
    folder = batches[-1].cursor["folders"]["INBOX"]
    assert folder["last_uid"] == 5
    assert folder["since"] is None
    assert isinstance(folder["uidvalidity"], int)


def test_an_idle_poll_sends_only_login_examine_and_logout(dovecot: LocalDovecot, user: MailUser) -> None:
    # Given a mailbox polled once
    for n in range(3):
        append(dovecot, user, mail(f"message {n}"))
    mailbox = source(dovecot, user)
    cursor = poll(mailbox)[-1].cursor

    # When it is polled again with nothing new
    with commands_sent() as sent:
        batches = poll(mailbox, cursor)

    # Then one empty batch says the poll succeeded, and only LOGIN, EXAMINE and LOGOUT were sent
    assert batches == [Batch(mails=[], cursor=cursor, more=False)]
    assert after_login(sent) == ["LOGIN", "EXAMINE", "LOGOUT"]


def test_new_mail_after_the_cursor_is_imported_once(dovecot: LocalDovecot, user: MailUser) -> None:
    # Given a mailbox polled once
    append(dovecot, user, mail("before"))
    mailbox = source(dovecot, user)
    cursor = poll(mailbox)[-1].cursor

    # When two messages arrive, and the mailbox is polled twice
    append(dovecot, user, mail("first new"))
    append(dovecot, user, mail("second new"))
    first = poll(mailbox, cursor)
    second = poll(mailbox, first[-1].cursor)

    # Then the new messages come once
    assert subjects(first) == ["first new", "second new"]
    assert first[-1].cursor["folders"]["INBOX"]["last_uid"] == 3
    assert mails(second) == []


def test_an_empty_mailbox_gives_one_empty_batch_with_a_cursor(dovecot: LocalDovecot, user: MailUser) -> None:
    batches = poll(source(dovecot, user))

    assert len(batches) == 1
    assert batches[0].mails == []
    assert batches[0].cursor["folders"]["INBOX"]["last_uid"] == 0


def test_no_backfill_starts_at_the_end(dovecot: LocalDovecot, user: MailUser) -> None:
    # Given a mailbox with mail, polled for the first time without backfill
    append(dovecot, user, mail("already there"))
    mailbox = source(dovecot, user)
    first = poll(mailbox, None, backfill_days=0)

    # When a message arrives
    append(dovecot, user, mail("new"))
    second = poll(mailbox, first[-1].cursor, backfill_days=0)

    # Then nothing from before is imported, what came after is
    assert mails(first) == []
    assert subjects(second) == ["new"]


def test_batches_are_bounded_in_messages(dovecot: LocalDovecot, user: MailUser) -> None:
    for n in range(5):
        append(dovecot, user, mail(f"message {n}"))

    batches = poll(source(dovecot, user), None, batch_messages=2)

    assert [len(batch.mails) for batch in batches] == [2, 2, 1]
    assert [batch.cursor["folders"]["INBOX"]["last_uid"] for batch in batches] == [2, 4, 5]
    assert subjects(batches) == [f"message {n}" for n in range(5)]


def test_batches_are_bounded_in_bytes_and_a_bigger_message_goes_alone(
    dovecot: LocalDovecot, user: MailUser
) -> None:
    # Given small messages and one bigger than a batch may hold
    small = [mail(f"small {n}") for n in range(4)]
    big = mail("big", body="x" * 5000)
    for raw in [*small[:3], big, small[3]]:
        append(dovecot, user, raw)
    limit = 2 * max(len(raw) for raw in small) + 10

    # When polled with room for two small messages a batch
    batches = poll(source(dovecot, user), None, batch_bytes=limit)

    # Then each batch stays within the bytes, but for the big message, alone
    assert [[subject_of(m.raw) for m in batch.mails] for batch in batches] == [
        ["small 0", "small 1"],
        ["small 2"],
        ["big"],
        ["small 3"],
    ]
    assert all(sum(len(m.raw) for m in batch.mails) <= limit for batch in batches if len(batch.mails) > 1)


def test_a_poll_past_its_deadline_stops_with_more_and_the_next_one_goes_on(
    dovecot: LocalDovecot, user: MailUser
) -> None:
    # Given three messages, a batch each
    for n in range(3):
        append(dovecot, user, mail(f"message {n}"))
    mailbox = source(dovecot, user)
    limits = Limits(deadline=time.monotonic() + 2, batch_messages=1)

    # When the deadline passes after the first batch
    batches: list[Batch] = []
    for batch in mailbox.batches(None, limits):
        batches.append(batch)
        time.sleep(max(0.0, limits.deadline - time.monotonic()))

    # Then the poll ends with an empty batch saying there is more, its cursor after the first
    assert [len(batch.mails) for batch in batches] == [1, 0]
    assert batches[-1].more is True
    assert batches[-1].cursor["folders"]["INBOX"]["last_uid"] == 1
    # And the next poll goes on from there
    assert subjects(poll(mailbox, batches[-1].cursor)) == ["message 1", "message 2"]


def test_a_backfill_cut_short_keeps_its_bound_until_it_is_caught_up(
    dovecot: LocalDovecot, user: MailUser
) -> None:
    # Given recent messages and old ones between them
    for subject, arrived in [
        ("recent 1", ago(2 * DAY)),
        ("old 1", ago(20 * DAY)),
        ("recent 2", ago(DAY)),
        ("old 2", ago(20 * DAY)),
        ("recent 3", ago(timedelta(hours=1))),
    ]:
        append(dovecot, user, mail(subject), internal_date=arrived)
    mailbox = source(dovecot, user)
    limits = Limits(deadline=time.monotonic() + 2, batch_messages=1)

    # When the first poll stops at its deadline after one batch
    first: list[Batch] = []
    for batch in mailbox.batches(None, limits):
        first.append(batch)
        time.sleep(max(0.0, limits.deadline - time.monotonic()))
    second = poll(mailbox, first[-1].cursor, batch_messages=1)

    # Then the next poll still passes over the old messages, and ends the backfill
    assert subjects(first) == ["recent 1"]
    assert first[-1].more is True
    assert first[-1].cursor["folders"]["INBOX"]["since"] is not None
    assert subjects(second) == ["recent 2", "recent 3"]
    assert second[-1].cursor["folders"]["INBOX"] == {
        "uidvalidity": first[-1].cursor["folders"]["INBOX"]["uidvalidity"],
        "last_uid": 5,
        "since": None,
    }
    # And once it is over, even old mail moved into the folder is new mail
    append(dovecot, user, mail("old, moved in"), internal_date=ago(60 * DAY))
    assert subjects(poll(mailbox, second[-1].cursor)) == ["old, moved in"]


def test_a_new_uidvalidity_backfills_the_folder_again(dovecot: LocalDovecot, user: MailUser) -> None:
    # Given a folder polled once
    append(dovecot, user, mail("old copy 1"), folder="Sales")
    append(dovecot, user, mail("old copy 2"), folder="Sales")
    mailbox = source(dovecot, user, folders=["Sales"])
    cursor = poll(mailbox)[-1].cursor

    # When the folder is deleted and made again (new UIDVALIDITY, UIDs from 1 again)
    delete_folder(dovecot, user, "Sales")
    append(dovecot, user, mail("after the rebuild"), folder="Sales")
    batches = poll(mailbox, cursor)

    # Then the folder is read afresh
    assert subjects(batches) == ["after the rebuild"]
    folder = batches[-1].cursor["folders"]["Sales"]
    assert folder["uidvalidity"] != cursor["folders"]["Sales"]["uidvalidity"]
    assert folder["last_uid"] == 1


def test_polling_changes_no_flag(dovecot: LocalDovecot, user: MailUser) -> None:
    # Given an unread message, a flagged one and a read one
    append(dovecot, user, mail("unread"))
    append(dovecot, user, mail("flagged"), flags="\\Flagged")
    append(dovecot, user, mail("read"), flags="\\Seen")
    before = flags_of(dovecot, user)

    # When the mailbox is polled (all three imported)
    assert len(mails(poll(source(dovecot, user)))) == 3

    # Then every flag is as it was: nothing marked read
    assert flags_of(dovecot, user) == before == {1: set(), 2: {"\\Flagged"}, 3: {"\\Seen"}}


def test_a_wrong_password_is_an_auth_error(dovecot: LocalDovecot, user: MailUser) -> None:
    mailbox = source(dovecot, user, password="not-" + user.password)

    with pytest.raises(PeerError) as refused:
        poll(mailbox)

    assert refused.value.error.code == "auth"
    assert user.password not in refused.value.error.message


def test_a_missing_folder_is_a_protocol_error(dovecot: LocalDovecot, user: MailUser) -> None:
    mailbox = source(dovecot, user, folders=["INBOX", "Archive"])

    with pytest.raises(PeerError) as refused:
        poll(mailbox)

    assert refused.value.error.code == "protocol"
    assert refused.value.error.message == "The folder 'Archive' does not exist on the IMAP server."


def test_every_folder_is_polled_in_order_in_one_session(dovecot: LocalDovecot, user: MailUser) -> None:
    # Given mail in INBOX and in a folder whose name is beyond ASCII ("Reçus" in modified UTF-7)
    append(dovecot, user, mail("to the inbox"))
    append(dovecot, user, mail("to the received folder"), folder="Re&AOc-us")
    mailbox = source(dovecot, user, folders=["INBOX", "Reçus"])

    # When polled, then again
    with commands_sent() as sent:
        first = poll(mailbox)
    second = poll(mailbox, first[-1].cursor)

    # Then both folders' messages come, each with its folder, and the cursor holds both
    assert [(m.folder, subject_of(m.raw)) for m in mails(first)] == [
        ("INBOX", "to the inbox"),
        ("Reçus", "to the received folder"),
    ]
    assert set(first[-1].cursor["folders"]) == {"INBOX", "Reçus"}
    assert sent.count("LOGIN") == 1
    assert mails(second) == []
