"""The router on moto: conversations, customers, assignment, auto-replies, each effect once."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from builders import call_api
from inbox.accounts.models import Channel, Provider
from inbox.local.resources import LocalResources
from inbox.routing import consumer
from inbox.routing.events import Contact, DeliveryStatus, InboundMessage, MessageType, StatusEvent
from inbox.routing.router import Collaborators, Router
from inbox.store.conversations import ConversationStore
from routing_setup import CUSTOMER_PHONE, create_routing_account

SATURDAY_NOON = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # closed (Europe/Paris, Mon-Fri 9-18)
TUESDAY_TEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # open


@pytest.fixture
def outbound_url(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = next(
        u for lid, u in aws.queue_urls.items() if lid.startswith("OutboundQueue") and "Dead" not in lid
    )
    monkeypatch.setenv("INBOX_OUTBOUND_QUEUE_URL", url)
    consumer.clear_caches()
    yield url
    consumer.clear_caches()


@pytest.fixture
def account_id(outbound_url: str) -> str:
    return create_routing_account()


def router(at: datetime, seed: int = 7) -> Router:
    return Router(Collaborators(current=consumer.current, clock=lambda: at, rng=random.Random(seed)))


def inbound(
    account_id: str,
    *,
    sender: str = CUSTOMER_PHONE,
    sent_at: datetime = SATURDAY_NOON,
    provider_id: str | None = None,
    text: str = "Bonjour",
) -> InboundMessage:
    return InboundMessage(
        account_id=account_id,
        channel=Channel.WHATSAPP,
        provider=Provider.META_CLOUD,
        provider_message_id=provider_id or f"wamid.{random.getrandbits(64):x}",
        contact=Contact(address=sender, name="Jean"),
        sent_at=sent_at,
        received_at=sent_at,
        type=MessageType.TEXT,
        text=text,
    )


def replies(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def conversations_of(account_id: str) -> list[dict[str, Any]]:
    return list(
        call_api("GET", "/v1/conversations", query=f"account_id={account_id}&limit=200").body["items"]
    )


def test_a_customer_writing_outside_hours_gets_a_conversation_their_rep_and_one_auto_reply(
    account_id: str, outbound_url: str
) -> None:
    router(SATURDAY_NOON).route_message(inbound(account_id, text="Avez-vous des plaquettes ?"))

    (summary,) = conversations_of(account_id)
    conversation = call_api("GET", f"/v1/conversations/{summary['id']}").body
    assert conversation["assignee_id"] == "alice"
    assert conversation["customer_id"] is not None
    assert conversation["window_expires_at"].startswith("2026-11-29T11:00:00")
    assignment = conversation["routing"]["assignment"]
    assert [(t["rule"], t["outcome"]) for t in assignment["trials"]] == [("customer_sales_rep", "matched")]
    auto_reply = conversation["routing"]["auto_reply"]["decision"]
    assert (auto_reply["send"], auto_reply["trigger"]) == (True, "outside_business_hours")
    messages = call_api("GET", f"/v1/conversations/{summary['id']}/messages").body["items"]
    assert [(m["direction"], m["text"], m["sent_by"], m["status"]) for m in messages] == [
        ("in", "Avez-vous des plaquettes ?", None, "received"),
        ("out", "Bonjour Jean Dupont, nous sommes fermés.", "auto_reply", "queued"),
    ]
    (reply,) = replies(outbound_url)
    assert reply["to"] == CUSTOMER_PHONE


def test_the_same_message_delivered_twice_is_stored_once_and_answered_once(
    account_id: str, outbound_url: str
) -> None:
    message = inbound(account_id, provider_id="wamid.SAME")

    router(SATURDAY_NOON).route_message(message)
    router(SATURDAY_NOON + timedelta(seconds=30)).route_message(message)

    (summary,) = conversations_of(account_id)
    messages = call_api("GET", f"/v1/conversations/{summary['id']}/messages").body["items"]
    assert [m["direction"] for m in messages] == ["in", "out"]
    handed_over = replies(outbound_url)
    assert len({r["message_sk"] for r in handed_over}) == 1  # handed over again at most, never a second reply


def test_a_second_message_joins_the_conversation_and_the_cooldown_holds_the_reply(
    account_id: str, outbound_url: str
) -> None:
    router(SATURDAY_NOON).route_message(inbound(account_id))
    router(SATURDAY_NOON + timedelta(minutes=10)).route_message(
        inbound(account_id, sent_at=SATURDAY_NOON + timedelta(minutes=10), text="Vous êtes là ?")
    )

    (summary,) = conversations_of(account_id)
    conversation = call_api("GET", f"/v1/conversations/{summary['id']}").body
    assert conversation["routing"]["auto_reply"]["decision"]["reason"] == "cooldown"
    assert conversation["window_expires_at"].startswith("2026-11-29T11:10:00")
    assert len(replies(outbound_url)) == 1


def test_inside_business_hours_there_is_no_auto_reply(account_id: str, outbound_url: str) -> None:
    router(TUESDAY_TEN).route_message(inbound(account_id, sent_at=TUESDAY_TEN))

    (summary,) = conversations_of(account_id)
    decision = call_api("GET", f"/v1/conversations/{summary['id']}").body["routing"]["auto_reply"]["decision"]
    assert decision["send"] is False
    assert replies(outbound_url) == []


def test_a_sales_rep_not_authorized_for_the_account_is_skipped_and_the_next_rule_assigns(
    account_id: str, outbound_url: str
) -> None:
    call_api("PUT", f"/v1/accounts/{account_id}/authorized-users", body={"user_ids": ["bob", "carol"]})

    router(TUESDAY_TEN).route_message(inbound(account_id, sent_at=TUESDAY_TEN))

    (summary,) = conversations_of(account_id)
    trials = call_api("GET", f"/v1/conversations/{summary['id']}").body["routing"]["assignment"]["trials"]
    assert [(t["rule"], t["outcome"]) for t in trials] == [
        ("customer_sales_rep", "not_authorized"),
        ("load_balanced", "matched"),
    ]
    assert summary["assignee_id"] in ("bob", "carol")


def test_an_unknown_contact_has_no_customer_and_is_load_balanced(account_id: str, outbound_url: str) -> None:
    for n in range(6):
        router(TUESDAY_TEN).route_message(inbound(account_id, sender=f"+3361000000{n}", sent_at=TUESDAY_TEN))

    assigned = Counter(c["assignee_id"] for c in conversations_of(account_id))
    assert assigned == {"alice": 2, "bob": 2, "carol": 2}


def test_delivery_statuses_never_move_backwards(account_id: str, outbound_url: str) -> None:
    router(SATURDAY_NOON).route_message(inbound(account_id))
    (reply,) = replies(outbound_url)
    store = ConversationStore()
    store.table.put_item(
        Item={
            "pk": f"OUTBOUND#{account_id}#wamid.OUT",
            "sk": "SENT",
            "message_pk": reply["message_pk"],
            "message_sk": reply["message_sk"],
        }
    )

    def report(status: DeliveryStatus) -> bool:
        return router(SATURDAY_NOON).route_status(
            StatusEvent(
                account_id=account_id,
                provider=Provider.META_CLOUD,
                provider_message_id="wamid.OUT",
                status=status,
                occurred_at=SATURDAY_NOON,
            )
        )

    assert [report(s) for s in (DeliveryStatus.READ, DeliveryStatus.DELIVERED, DeliveryStatus.SENT)] == [
        True,
        False,
        False,
    ]
    item = store.table.get_item(Key={"pk": reply["message_pk"], "sk": reply["message_sk"]})["Item"]
    assert item["status"] == "read"


def test_agents_see_only_the_conversations_of_accounts_they_are_authorized_for(
    account_id: str, outbound_url: str
) -> None:
    router(TUESDAY_TEN).route_message(inbound(account_id, sent_at=TUESDAY_TEN))
    (summary,) = conversations_of(account_id)
    conversation_path = f"/v1/conversations/{summary['id']}"

    for agent in ("alice", "bob"):
        assert call_api("GET", conversation_path, user=agent, admin=False).status == 200
        assert call_api("GET", f"{conversation_path}/messages", user=agent, admin=False).status == 200
        listed = call_api("GET", "/v1/conversations", user=agent, admin=False).body["items"]
        assert [c["id"] for c in listed] == [summary["id"]]

    for path in (conversation_path, f"{conversation_path}/messages"):
        answer = call_api("GET", path, user="dave", admin=False)
        assert (answer.status, answer.body["error"]["code"]) == (404, "conversation_not_found")
    assert call_api("GET", "/v1/conversations", user="dave", admin=False).body["items"] == []
    assert (
        call_api(
            "GET", "/v1/conversations", query=f"account_id={account_id}", user="dave", admin=False
        ).status
        == 404
    )


def test_conversations_are_filtered_by_assignee_status_and_label(account_id: str, outbound_url: str) -> None:
    router(TUESDAY_TEN).route_message(inbound(account_id, sent_at=TUESDAY_TEN))  # Jean: alice
    router(TUESDAY_TEN).route_message(inbound(account_id, sender="+33700000001", sent_at=TUESDAY_TEN))

    mine = call_api("GET", "/v1/conversations", query="assignee_id=alice").body["items"]
    open_ones = call_api("GET", "/v1/conversations", query="status=open").body["items"]
    closed = call_api("GET", "/v1/conversations", query=f"account_id={account_id}&status=closed").body[
        "items"
    ]
    labelled = call_api("GET", "/v1/conversations", query="label=Urgent").body["items"]

    assert [c["contact"]["address"] for c in mine] == ["+33612345678"]
    assert len(open_ones) == 2
    assert closed == []
    assert labelled == []
    assert call_api("GET", "/v1/conversations", query="status=archived").status == 422
