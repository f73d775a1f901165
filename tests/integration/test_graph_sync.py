"""Syncing an Office 365 Inbox with Graph's delta query (`GraphSource`) against the Microsoft
stand-in over real https, with the account's real tokens (`AccountTokens`: the lease in DynamoDB
and the credentials in Secrets Manager, on moto): the backfill window, incremental rounds, pages
and batch bounds, the deadline, a poll killed mid-way, a lost sync state, and which failures put
the account in error (`auth`) and which only wait (`throttled`, `connect`)."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from inbox.accounts.check_report import PeerError
from inbox.accounts.models import Account, Channel, Office365Credentials, Provider
from inbox.email.api_sending import already_sent_graph, send_graph
from inbox.email.graph_source import GraphSource
from inbox.email.mailbox import Batch, Limits, RawMail
from inbox.local.resources import LocalResources
from inbox.local.sandbox.microsoft import MicrosoftSandbox
from inbox.local.sandbox.tls import LocalCA
from inbox.oauth.microsoft import Microsoft
from inbox.oauth.tokens import AccountTokens
from inbox.store.credentials import CredentialVault
from microsoft_standin import APP, MAILBOX, connect, serve_microsoft


@pytest.fixture
def microsoft(
    https_server: HTTPServer, trust_stand_ins: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> MicrosoftSandbox:
    return serve_microsoft(https_server, monkeypatch)


NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Stoppable(Limits):
    """A poll's limits whose deadline the test decides (`stop.set()`: the deadline has passed)."""

    stop: threading.Event = field(default_factory=threading.Event)

    def expired(self) -> bool:
        return self.stop.is_set()


@dataclass
class Connected:
    account: Account
    vault: CredentialVault

    def source(self) -> GraphSource:
        tokens = AccountTokens(self.account, vault=self.vault, provider=Microsoft(), app=lambda: APP)
        return GraphSource(tokens, graph_url=os.environ["INBOX_MICROSOFT_GRAPH_URL"], timeout=5)

    def credentials(self) -> Office365Credentials:
        return self.vault.load(self.account.id, Office365Credentials)


@pytest.fixture
def mailbox(microsoft: MicrosoftSandbox, aws: LocalResources, trust_stand_ins: LocalCA) -> Connected:
    """The stand-in's mailbox connected as an account, its credentials in the vault."""
    connected = connect(trust_stand_ins)
    account = Account(
        id="acc_graph",
        channel=Channel.EMAIL,
        provider=Provider.OFFICE365,
        name="Shared inbox",
        address=connected.address,
        config={**connected.config, "backfill_days": 7},
        has_credentials=True,
        created_at=NOW,
        updated_at=NOW,
    )
    vault = CredentialVault()
    vault.save(account.id, connected.credentials)
    return Connected(account, vault)


def message(name: str) -> EmailMessage:
    composed = EmailMessage()
    composed["From"] = "Ana Silva <ana@customer.example>"
    composed["To"] = MAILBOX
    composed["Subject"] = name
    composed["Message-ID"] = f"<{name.replace(' ', '-')}@customer.example>"
    composed.set_content(f"Hello from {name}")
    return composed


def email(name: str) -> bytes:
    return bytes(message(name))


def deliver(microsoft: MicrosoftSandbox, *names: str, days_ago: float = 0) -> list[str]:
    return [
        microsoft.deliver(MAILBOX, email(name), received_at=NOW - timedelta(days=days_ago)) for name in names
    ]


def limits(**bounds: Any) -> Stoppable:
    return Stoppable(deadline=time.monotonic() + 60, now=NOW, **bounds)


def poll(mailbox: Connected, cursor: dict[str, Any] | None, **bounds: Any) -> list[Batch]:
    return list(mailbox.source().batches(cursor, limits(**bounds)))


def subjects(batches: list[Batch]) -> list[str]:
    return [subject_of(mail) for batch in batches for mail in batch.mails]


def subject_of(mail: RawMail) -> str:
    for line in mail.raw.split(b"\r\n") if b"\r\n" in mail.raw else mail.raw.split(b"\n"):
        if line.startswith(b"Subject: "):
            return line[len(b"Subject: ") :].decode()
    raise AssertionError("no Subject")


def caught_up(mailbox: Connected, **bounds: Any) -> dict[str, Any]:
    """The cursor of a first poll of the mailbox as it is now."""
    return poll(mailbox, None, **bounds)[-1].cursor


# --- the first poll ---------------------------------------------------------------------------


def test_the_first_poll_imports_what_arrived_within_the_backfill(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    deliver(microsoft, "last month", days_ago=30)
    deliver(microsoft, "last week", days_ago=8)
    deliver(microsoft, "this week", days_ago=6)
    deliver(microsoft, "today")

    batches = poll(mailbox, None, backfill_days=7)

    assert subjects(batches) == ["this week", "today"]
    cursor = batches[-1].cursor
    assert cursor["link"].startswith("/v1.0/")
    assert "$deltatoken=" in cursor["link"]
    assert cursor["handed"] == []
    assert cursor["since"] is None
    assert not batches[-1].more


def test_a_message_carries_its_arrival_graph_id_and_conversation(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    arrived = NOW - timedelta(hours=3)
    message_id = microsoft.deliver(MAILBOX, email("hello"), received_at=arrived, conversation_id="AAQkConv=")

    (mail,) = [mail for batch in poll(mailbox, None) for mail in batch.mails]

    assert mail.raw == email("hello")
    assert (mail.arrived_at, mail.uid, mail.thread_id, mail.folder) == (
        arrived,
        message_id,
        "AAQkConv=",
        "INBOX",
    )


def test_with_no_backfill_the_first_poll_only_sets_the_cursor(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    deliver(microsoft, "an hour ago", days_ago=1 / 24)

    first = poll(mailbox, None, backfill_days=0)
    deliver(microsoft, "new")
    second = poll(mailbox, first[-1].cursor, backfill_days=0)

    assert subjects(first) == []
    assert len(first) == 1
    assert "$deltatoken=" in first[-1].cursor["link"]
    assert subjects(second) == ["new"]


# --- incremental polls ------------------------------------------------------------------------


def test_a_poll_imports_only_what_arrived_since_the_cursor(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    deliver(microsoft, "before")
    cursor = caught_up(mailbox)
    deliver(microsoft, "after 1", "after 2")

    second = poll(mailbox, cursor)
    third = poll(mailbox, second[-1].cursor)

    assert subjects(second) == ["after 1", "after 2"]
    assert subjects(third) == []
    assert len(third) == 1


def test_removed_messages_are_passed_over(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    (old,) = deliver(microsoft, "old")
    cursor = caught_up(mailbox)
    (gone,) = deliver(microsoft, "gone")
    deliver(microsoft, "kept")
    microsoft.delete(MAILBOX, old)
    microsoft.delete(MAILBOX, gone)
    fetched = microsoft.calls("/$value")

    assert subjects(poll(mailbox, cursor)) == ["kept"]
    assert microsoft.calls("/$value") == fetched + 1


def test_a_message_deleted_between_listing_and_fetching_is_skipped(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    cursor = caught_up(mailbox)
    _, doomed, _ = deliver(microsoft, "first", "doomed", "third")
    batches = mailbox.source().batches(cursor, limits(batch_messages=1))

    first = next(batches)
    microsoft.delete(MAILBOX, doomed)
    rest = list(batches)

    assert subjects([first, *rest]) == ["first", "third"]


def test_rounds_of_several_pages_are_followed(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    microsoft.add_mailbox(MAILBOX).page_size = 2
    names = [f"message {n}" for n in range(5)]
    deliver(microsoft, *names)
    delta_calls = microsoft.calls("/messages/delta")

    batches = poll(mailbox, None)

    assert subjects(batches) == names
    assert microsoft.calls("/messages/delta") == delta_calls + 3


def test_links_on_graphs_own_host_are_followed_on_the_configured_url(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    microsoft.link_base = "https://graph.microsoft.com"
    microsoft.add_mailbox(MAILBOX).page_size = 1
    deliver(microsoft, "one", "two")

    batches = poll(mailbox, None)
    deliver(microsoft, "three")

    assert subjects(batches) == ["one", "two"]
    assert batches[-1].cursor["link"].startswith("/v1.0/me/mailFolders('inbox')/messages/delta?$deltatoken=")
    assert subjects(poll(mailbox, batches[-1].cursor)) == ["three"]


# --- bounds, deadline, crashes ----------------------------------------------------------------


def test_batches_hold_at_most_batch_messages(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    deliver(microsoft, *(f"m{n}" for n in range(5)))

    batches = poll(mailbox, None, batch_messages=2)

    assert [len(batch.mails) for batch in batches] == [2, 2, 1]


def test_a_message_over_batch_bytes_is_a_batch_alone(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    deliver(microsoft, "a", "b", "c")

    batches = poll(mailbox, None, batch_bytes=len(email("a")) + 10)

    assert [subjects([batch]) for batch in batches] == [["a"], ["b"], ["c"]]


def test_at_the_deadline_the_poll_ends_with_more_and_the_next_one_goes_on(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    deliver(microsoft, "m1", "m2", "m3")
    bounds = limits(batch_messages=1)
    batches = mailbox.source().batches(None, bounds)

    first = next(batches)
    bounds.stop.set()
    last = list(batches)

    assert subjects([first]) == ["m1"]
    assert len(last) == 1
    assert last[0].more
    assert last[0].mails == []
    assert subjects(poll(mailbox, last[0].cursor)) == ["m2", "m3"]


@pytest.mark.parametrize("page_size", [2, 50])
def test_a_poll_killed_mid_way_resumes_from_the_last_cursor_without_a_gap(
    microsoft: MicrosoftSandbox, mailbox: Connected, page_size: int
) -> None:
    microsoft.add_mailbox(MAILBOX).page_size = page_size
    names = [f"m{n}" for n in range(7)]
    deliver(microsoft, *names)
    batches = mailbox.source().batches(None, limits(batch_messages=2))
    handed = [next(batches), next(batches)]  # then the process dies: nothing more runs

    resumed = poll(mailbox, handed[-1].cursor, batch_messages=2)

    assert set(subjects([*handed, *resumed])) == set(names)
    if page_size == 50:  # mid-page, the messages handed over are not fetched again
        assert subjects(resumed) == names[4:]


def test_a_lost_sync_state_starts_over_within_the_backfill(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    deliver(microsoft, "long ago", days_ago=20)
    deliver(microsoft, "seen")
    cursor = caught_up(mailbox)
    deliver(microsoft, "new")
    microsoft.expire_sync_state(MAILBOX)

    batches = poll(mailbox, cursor, backfill_days=7)

    assert subjects(batches) == ["seen", "new"]  # "seen" again: the router drops the copy
    assert "$deltatoken=" in batches[-1].cursor["link"]
    assert subjects(poll(mailbox, batches[-1].cursor)) == []


def test_a_cursor_that_is_not_one_is_a_first_poll(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    deliver(microsoft, "recent")

    assert subjects(poll(mailbox, {"folders": {"INBOX": {}}})) == ["recent"]


# --- the account's access ---------------------------------------------------------------------


def test_a_refused_token_is_renewed_once_and_the_rotation_saved(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    stored = mailbox.credentials()
    deliver(microsoft, "hello")
    microsoft.expire_access_tokens(MAILBOX)  # Graph refuses a token the cache still thinks fresh

    assert subjects(poll(mailbox, None)) == ["hello"]
    assert microsoft.refreshes == 1
    assert mailbox.credentials() != stored


def test_a_token_refused_again_after_renewal_is_an_auth_failure(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    microsoft.expire_access_tokens(MAILBOX)
    microsoft.access_token_seconds = 0  # every new token is dead on arrival

    with pytest.raises(PeerError) as failed:
        poll(mailbox, None)

    assert failed.value.error.code == "auth"
    assert failed.value.error.message == "Microsoft refused the account's access: reconnect the account."


def test_a_revoked_grant_is_an_auth_failure(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    microsoft.revoke(MAILBOX)

    with pytest.raises(PeerError) as failed:
        poll(mailbox, None)

    assert failed.value.error.code == "auth"
    assert failed.value.error.message == "Microsoft access was revoked: reconnect the account."


def test_sign_in_down_during_a_refresh_is_not_an_auth_failure(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    microsoft.expire_access_tokens(MAILBOX)
    microsoft.fail(1, status=503, path="/oauth2/v2.0/token")

    with pytest.raises(PeerError) as failed:
        poll(mailbox, None)

    assert failed.value.error.code == "connect"


# --- throttling and outages -------------------------------------------------------------------


def test_a_long_throttling_ends_the_poll_with_graphs_retry_after(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    microsoft.throttle(5, retry_after=30)

    with pytest.raises(PeerError) as failed:
        poll(mailbox, None)

    assert failed.value.error.code == "throttled"
    assert failed.value.retry_after == 30


def test_a_short_throttling_is_waited_out(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    deliver(microsoft, "hello")
    microsoft.throttle(1, retry_after=1, path="/$value")

    started = time.monotonic()
    assert subjects(poll(mailbox, None)) == ["hello"]
    assert time.monotonic() - started >= 1


def test_a_503_with_retry_after_is_throttling(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    microsoft.fail(5, status=503, retry_after=120)

    with pytest.raises(PeerError) as failed:
        poll(mailbox, None)

    assert (failed.value.error.code, failed.value.retry_after) == ("throttled", 120)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_graph_outage_is_a_connect_failure_not_auth(
    microsoft: MicrosoftSandbox, mailbox: Connected, status: int
) -> None:
    microsoft.fail(5, status=status)

    with pytest.raises(PeerError) as failed:
        poll(mailbox, None)

    assert failed.value.error.code == "connect"


def test_batches_handed_over_before_a_failure_stand(microsoft: MicrosoftSandbox, mailbox: Connected) -> None:
    deliver(microsoft, "m1", "m2")
    batches = mailbox.source().batches(None, limits(batch_messages=1))
    first = next(batches)
    microsoft.fail(1, status=500)

    with pytest.raises(PeerError):
        list(batches)

    assert subjects(poll(mailbox, first.cursor)) == ["m2"]


def test_graph_not_answering_is_a_connect_failure(
    microsoft: MicrosoftSandbox, mailbox: Connected, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("INBOX_MICROSOFT_GRAPH_URL", f"https://127.0.0.1:{port}")

    with pytest.raises(PeerError) as failed:
        poll(mailbox, None)

    assert failed.value.error.code == "connect"


# --- the same Graph, sending ------------------------------------------------------------------


def test_a_message_sent_with_send_mail_is_filed_in_sent_items(
    microsoft: MicrosoftSandbox, mailbox: Connected
) -> None:
    token = AccountTokens(mailbox.account, vault=mailbox.vault, provider=Microsoft(), app=lambda: APP).get()
    graph_url = os.environ["INBOX_MICROSOFT_GRAPH_URL"]

    result = send_graph(token, message("a reply"), graph_url=graph_url)

    assert result.provider_message_id == "a-reply@customer.example"
    (sent,) = microsoft.sent(MAILBOX)
    assert b"Message-ID: <a-reply@customer.example>" in sent
    assert already_sent_graph(token, "a-reply@customer.example", graph_url=graph_url)
    assert subjects(poll(mailbox, None)) == []  # Sent Items are not the Inbox
