"""Fetched mail, handed over as the poller does (bucket, then inbound queue), routed by the route
function: every mail of the corpus ends as one stored message or in quarantine with its reason,
replies join their conversation, attachments and quarantined mail read back through the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from builders import call_api, http_event, invoke_handler
from email_corpus import CORPUS, LARGE_ATTACHMENT_SIZE, large_attachment
from inbox.accounts.models import Account
from inbox.email.ingest import hand_over
from inbox.email.mailbox import RawMail
from inbox.local.resources import LocalResources
from inbox.routing.queue import InboundQueue
from inbox.store.accounts import AccountStore
from inbox.store.mail_objects import MailObjects
from mail_flow import (
    body_of,
    conversations_of,
    create_imap_account,
    drain_inbound,
    function_variables,
    inbound_messages,
    messages_of,
    quarantine_of,
)

NOW = datetime.now(UTC)


@pytest.fixture
def account(aws: LocalResources) -> Iterator[Account]:
    with function_variables(aws, "poll_email", "route", "settings_api"):
        created = create_imap_account()
        yield AccountStore().get(created["id"])


def deliver(account: Account, *raws: bytes) -> None:
    mails = [RawMail(raw=raw, arrived_at=NOW, folder="INBOX", uid=str(n)) for n, raw in enumerate(raws, 1)]
    hand_over(account, mails, objects=MailObjects(), queue=InboundQueue())


def mail(subject: str, *, message_id: str, sender: str = "ana@customer.example", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@shop.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    message["Date"] = (NOW - timedelta(minutes=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"Body of {subject}")
    return message.as_bytes()


def test_every_corpus_mail_ends_stored_once_or_quarantined_with_a_reason(
    aws: LocalResources, account: Account
) -> None:
    deliver(account, *(m.raw for m in CORPUS))
    drain_inbound(aws, deliveries=2)  # every queue message delivered twice: no second effect

    stored = inbound_messages(account.id)
    quarantined = quarantine_of(account.id)
    duplicates = [m for m in CORPUS if m.name.startswith("duplicate-message-id-")][1:]
    assert len(stored) + len(quarantined) + len(duplicates) == len(CORPUS)
    expected_quarantine = [m for m in CORPUS if m.outcome == "quarantined"]
    assert len(quarantined) == len(expected_quarantine)
    assert all(q["reason"] for q in quarantined)
    by_message_id = {m["message_id"]: m for m in stored if m["message_id"]}
    for corpus_mail in CORPUS:
        if corpus_mail.outcome != "stored" or corpus_mail.message_id is None or corpus_mail in duplicates:
            continue
        found = by_message_id[corpus_mail.message_id]
        assert len(found["attachments"]) == corpus_mail.attachments, corpus_mail.name
        assert len(found["cc"]) == corpus_mail.cc_count, corpus_mail.name
        if corpus_mail.text_contains:
            assert corpus_mail.text_contains in found["text"], corpus_mail.name
        if corpus_mail.subject:
            assert found["subject"] == corpus_mail.subject, corpus_mail.name

    answer = call_api("GET", f"/v1/accounts/{account.id}")
    assert answer.body["sync"]["imported"] == len(stored)
    assert answer.body["sync"]["quarantined"] == len(quarantined)


def test_a_reply_joins_the_conversation_of_the_message_it_answers(
    aws: LocalResources, account: Account
) -> None:
    deliver(account, mail("Order 42", message_id="first@customer.example"))
    drain_inbound(aws)
    deliver(
        account,
        # A colleague answers on the thread (another sender), then an unrelated mail.
        mail(
            "Re: Order 42",
            message_id="second@customer.example",
            sender="bruno@customer.example",
            In_Reply_To="<first@customer.example>",
            References="<first@customer.example>",
        ),
        mail(
            "Re: Re: Order 42",
            message_id="third@customer.example",
            References="<unknown@elsewhere.example> <second@customer.example>",
        ),
        mail("Another question", message_id="fourth@customer.example"),
    )
    drain_inbound(aws)

    conversations = {c["subject"]: c for c in conversations_of(account.id)}
    assert set(conversations) == {"Order 42", "Another question"}
    thread = messages_of(conversations["Order 42"]["id"])
    assert [m["message_id"] for m in thread] == [
        "first@customer.example",
        "second@customer.example",
        "third@customer.example",
    ]
    assert conversations["Order 42"]["contact"]["address"] == "ana@customer.example"


def test_reply_to_is_the_contact(aws: LocalResources, account: Account) -> None:
    deliver(
        account, mail("Quote", message_id="q@customer.example", Reply_To="Buyer <buyer@customer.example>")
    )
    drain_inbound(aws)
    (conversation,) = conversations_of(account.id)
    assert conversation["contact"] == {"address": "buyer@customer.example", "name": "Buyer"}
    (message,) = messages_of(conversation["id"])
    assert message["from"]["address"] == "ana@customer.example"


def test_attachments_download_for_those_who_see_the_conversation(
    aws: LocalResources, account: Account
) -> None:
    message = EmailMessage()
    message["From"] = "ana@customer.example"
    message["Subject"] = "Files"
    message["Message-ID"] = "<files@customer.example>"
    message.set_content("Two files")
    message.add_attachment(b"small,csv\n", maintype="text", subtype="csv", filename="prix été.csv")
    message.add_attachment(
        large_attachment(), maintype="application", subtype="octet-stream", filename="big.bin"
    )
    deliver(account, message.as_bytes())
    drain_inbound(aws)
    (conversation,) = conversations_of(account.id)
    (stored,) = messages_of(conversation["id"])
    small, big = stored["attachments"]
    assert (small["filename"], small["content_type"], small["size"]) == ("prix été.csv", "text/csv", 10)
    assert big["size"] == LARGE_ATTACHMENT_SIZE
    base = f"/v1/conversations/{conversation['id']}/messages/{stored['id']}/attachments"

    answer = invoke_handler("settings_api", http_event("GET", f"{base}/{small['id']}"))
    assert answer["statusCode"] == 200
    assert body_of(answer) == b"small,csv\n"
    assert "filename*=UTF-8''prix%20%C3%A9t%C3%A9.csv" in answer["headers"]["Content-Disposition"]

    answer = invoke_handler("settings_api", http_event("GET", f"{base}/{big['id']}"))
    assert answer["statusCode"] == 302
    location = urlparse(answer["headers"]["Location"])
    assert "Signature" in parse_qs(location.query) or "X-Amz-Signature" in parse_qs(location.query)

    # A user not authorized for the account sees neither the conversation nor its files.
    answer = invoke_handler(
        "settings_api", http_event("GET", f"{base}/{small['id']}", user="mallory", admin=False)
    )
    assert answer["statusCode"] == 404
    assert call_api("GET", f"{base}/att_99").status == 404


def test_quarantined_mail_is_listed_and_downloads_as_it_was_fetched(
    aws: LocalResources, account: Account
) -> None:
    broken = b"Subject: no sender\r\nMessage-ID: <nosender@x.example>\r\n\r\nWho wrote this?\r\n"
    deliver(account, broken)
    drain_inbound(aws)
    deliver(account, broken)  # fetched again (a cursor lost): quarantined once
    drain_inbound(aws)
    (entry,) = quarantine_of(account.id)
    assert entry["subject"] == "no sender"
    assert entry["size"] == len(broken)
    assert "sender" in entry["reason"]
    answer = invoke_handler(
        "settings_api", http_event("GET", f"/v1/accounts/{account.id}/quarantine/{entry['id']}/raw")
    )
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "message/rfc822"
    assert body_of(answer) == broken
    assert call_api("GET", f"/v1/accounts/{account.id}/quarantine/qtn_unknown/raw").status == 404
    assert conversations_of(account.id) == []


def test_auto_replies_to_email_are_decided_with_the_real_headers(
    aws: LocalResources, account: Account
) -> None:
    rules = {"enabled": True, "cooldown_minutes": 0, "rules": [{"trigger": "always", "message": "Merci !"}]}
    assert call_api("PUT", f"/v1/accounts/{account.id}/auto-reply", body=rules).status == 200
    deliver(
        account,
        mail("Help", message_id="help@customer.example"),
        mail(
            "Out of office",
            message_id="ooo@other.example",
            sender="bob@other.example",
            Auto_Submitted="auto-replied",
        ),
        # A bounce of our own message: its Message-ID domain is ours.
        mail(
            "Back to us",
            message_id="x@shop.example",
            sender="ops@partner.example",
            In_Reply_To="<y@shop.example>",
        ),
    )
    drain_inbound(aws)
    decisions: dict[str, Any] = {}
    for conversation in conversations_of(account.id):
        detail = call_api("GET", f"/v1/conversations/{conversation['id']}").body
        decisions[conversation["subject"]] = detail["routing"]["auto_reply"]["decision"]
        if conversation["subject"] == "Help":
            replies = [m for m in messages_of(conversation["id"]) if m["direction"] == "out"]
            # Recorded, and queued until email sending lands.
            assert [(r["text"], r["status"], r["sent_by"]) for r in replies] == [
                ("Merci !", "queued", "auto_reply")
            ]
    assert decisions["Help"]["send"] is True
    assert decisions["Out of office"]["reason"] == "automatic_message"
    assert "Auto-Submitted" in decisions["Out of office"]["detail"]
    assert (decisions["Back to us"]["reason"], decisions["Back to us"]["detail"]) == (
        "automatic_message",
        "our own message",
    )


def test_a_mail_that_keeps_failing_is_quarantined_on_its_last_delivery_not_left_to_the_dlq(
    aws: LocalResources, account: Account
) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from builders import sqs_record
    from inbox.aws import MAX_RECEIVE_COUNT
    from inbox.routing.events import InboundMail, QueuedEvent

    # A reference whose raw mail is not in the bucket: routing it fails every time.
    lost = InboundMail(
        account_id=account.id,
        provider=account.provider,
        identity="mid:lost@customer.example",
        raw_key=f"raw/{account.id}/missing.eml",
        size=123,
        arrived_at=NOW,
        received_at=NOW,
        folder="INBOX",
    )
    body = QueuedEvent(event=lost).model_dump_json()

    def route(delivery: int) -> Any:
        record = sqs_record(body, f"m{delivery}", queue="inbound.fifo", group_id="g", receives=delivery)
        return invoke_handler("route", {"Records": [record]}, timeout_seconds=60)

    with pytest.raises(BatchProcessingError):  # the whole batch failed: delivered again later
        route(1)
    assert quarantine_of(account.id) == []
    assert route(MAX_RECEIVE_COUNT) == {"batchItemFailures": []}
    (entry,) = quarantine_of(account.id)
    assert entry["reason"].startswith("could not be routed (NotFound")
    assert entry["size"] == 123


def test_a_huge_body_is_stored_cut_and_a_message_too_big_to_store_is_quarantined(
    aws: LocalResources, account: Account
) -> None:
    long = EmailMessage()
    long["From"] = "ana@customer.example"
    long["Subject"] = "Le catalogue"
    long["Message-ID"] = "<catalogue@customer.example>"
    long.set_content("日本語のカタログ。" * 60_000)  # about 1.6 MB of UTF-8 text
    crowded = mail("Tout le monde", message_id="crowd@customer.example")
    recipients = ", ".join(
        f'"Destinataire numéro {n} du service" <d{n}@partner.example>' for n in range(9000)
    )
    crowded = crowded.replace(b"To: ", f"Cc: {recipients}\r\nTo: ".encode(), 1)
    deliver(account, long.as_bytes(), crowded)
    drain_inbound(aws)

    conversations = conversations_of(account.id)
    assert [c["subject"] for c in conversations] == ["Le catalogue"]
    (stored,) = messages_of(conversations[0]["id"])
    assert stored["body_truncated"] is True
    assert stored["text"].startswith("日本語のカタログ。")
    assert len(stored["text"].encode()) <= 100_000
    (too_big,) = quarantine_of(account.id)
    assert too_big["subject"] == "Tout le monde"
    assert too_big["reason"].startswith("too large to store")


def test_one_address_gets_at_most_five_auto_replies_a_day_across_conversations(
    aws: LocalResources, account: Account
) -> None:
    # An auto-responder on the other side, whose every mail opens a new conversation, and no cooldown.
    rules = {"enabled": True, "cooldown_minutes": 0, "rules": [{"trigger": "always", "message": "Merci !"}]}
    assert call_api("PUT", f"/v1/accounts/{account.id}/auto-reply", body=rules).status == 200
    for n in range(7):
        deliver(account, mail(f"Question {n}", message_id=f"q{n}@robot.example", sender="desk@robot.example"))
        drain_inbound(aws)
    replies = [
        m
        for conversation in conversations_of(account.id)
        for m in messages_of(conversation["id"])
        if m["direction"] == "out"
    ]
    assert len(replies) == 5


def test_an_answer_in_a_closed_thread_reopens_it_and_its_assignee_counts_it_again(
    aws: LocalResources, account: Account
) -> None:
    from inbox.store import dynamo
    from inbox.store.workloads import read_workloads

    user = {"id": "bob", "name": "Bob", "email": "bob@shop.example"}
    assert call_api("POST", "/v1/users", body=user).status == 201
    assert (
        call_api("PUT", f"/v1/accounts/{account.id}/authorized-users", body={"user_ids": ["bob"]}).status
        == 200
    )
    deliver(account, mail("Order 51", message_id="o51@customer.example"))
    drain_inbound(aws)
    (conversation,) = conversations_of(account.id)
    path = f"/v1/conversations/{conversation['id']}"
    assert call_api("PUT", f"{path}/assignee", body={"user_id": "bob"}).status == 200
    assert call_api("POST", f"{path}/close").body["status"] == "closed"
    assert read_workloads(dynamo.table())["bob"][0] == 0

    deliver(
        account, mail("Re: Order 51", message_id="o52@customer.example", In_Reply_To="<o51@customer.example>")
    )
    drain_inbound(aws)

    (reopened,) = conversations_of(account.id)
    assert (reopened["id"], reopened["status"], reopened["assignee_id"]) == (
        conversation["id"],
        "open",
        "bob",
    )
    assert read_workloads(dynamo.table())["bob"][0] == 1
    timeline = [(e["type"], e["by"]) for e in call_api("GET", f"{path}/events").body["items"]]
    assert timeline == [("assigned", "alice"), ("closed", "alice"), ("reopened", None)]
