"""Two routers racing for the same team, against a DynamoDB that serializes requests (moto server
answering one request at a time, as DynamoDB is linearizable per item): load balancing must hold."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest

from builders import call_api
from inbox.accounts.models import Channel, Provider
from inbox.routing import consumer
from inbox.routing.events import Contact, InboundMessage, MessageType
from inbox.routing.router import Collaborators, Router
from inbox.store.conversations import ConversationStore
from routing_setup import create_routing_account

TUESDAY_TEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.usefixtures("serial_aws")
def test_two_routers_racing_over_100_new_conversations_balance_exactly() -> None:
    account_id = create_routing_account()
    call_api(
        "PUT", f"/v1/accounts/{account_id}/assignment-rules", body={"rules": [{"type": "load_balanced"}]}
    )
    senders = [f"+336200{n:05d}" for n in range(100)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(share: list[str], seed: int) -> None:
        worker = Router(
            Collaborators(
                current=consumer.current,
                clock=lambda: TUESDAY_TEN,
                rng=random.Random(seed),
            )
        )
        start.wait()
        for sender in share:
            message = InboundMessage(
                account_id=account_id,
                channel=Channel.WHATSAPP,
                provider=Provider.META_CLOUD,
                provider_message_id=f"wamid.{sender}",
                contact=Contact(address=sender),
                sent_at=TUESDAY_TEN,
                received_at=TUESDAY_TEN,
                type=MessageType.TEXT,
                text="Bonjour",
            )
            try:
                worker.route_message(message)
            except Exception as error:  # reported below
                errors.append(error)

    threads = [threading.Thread(target=run, args=(senders[i::2], i)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    found: list[dict[str, str]] = []
    cursor = None
    while True:
        page = call_api(
            "GET",
            "/v1/conversations",
            query=f"account_id={account_id}&limit=200" + (f"&cursor={cursor}" if cursor else ""),
        ).body
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(found) == 100
    assert len({c["id"] for c in found}) == 100
    counts = Counter(c["assignee_id"] for c in found)
    assert set(counts) == {"alice", "bob", "carol"}
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    assert {user: load for user, (load, _) in ConversationStore().workloads().items()} == dict(counts)
