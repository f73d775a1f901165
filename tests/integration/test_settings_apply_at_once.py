"""Settings apply at once: once the API call that changes them has returned, the next message is
routed, and the next reply sent, by the new settings, however warm the router and the sender are
(moto; no wait anywhere)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from builders import call_api
from inbox.accounts.models import Account, Channel, Provider
from inbox.conversations import ContactState
from inbox.delivery.outcomes import SendResult
from inbox.delivery.sender import Outcome, deliver
from inbox.local.resources import LocalResources
from inbox.routing import consumer
from inbox.routing.events import Contact, InboundMessage, MessageType
from inbox.routing.router import Collaborators, Router
from inbox.store import dynamo
from inbox.store.conversations import ConversationStore
from routing_setup import CUSTOMER_PHONE, RecordingQueue, create_routing_account, read_back

SATURDAY_NOON = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # closed: the auto-reply answers
_contacts = iter(range(10_000))


@pytest.fixture
def account_id(aws: LocalResources) -> Iterator[str]:
    consumer.clear_caches()
    yield create_routing_account()
    consumer.clear_caches()


@pytest.fixture
def queue() -> RecordingQueue:
    return RecordingQueue()


@pytest.fixture
def router(queue: RecordingQueue) -> Router:
    """One warm router for the whole test, as a Lambda container that keeps running."""
    return Router(
        Collaborators(
            current=consumer.current,
            outbound=lambda: queue,
            clock=lambda: SATURDAY_NOON,
            rng=random.Random(3),
        )
    )


class Provider_:
    """The provider's API: accepts every message and remembers it."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(
        self, account: Account, credentials: Any, *, to: str, text: str, template: Any = None
    ) -> SendResult:
        self.sent.append(to)
        return SendResult(provider_message_id=f"wamid.out.{len(self.sent)}")


def write(account_id: str, router: Router, sender: str | None = None) -> dict[str, Any]:
    """A new contact (or `sender`) writes; the conversation it lands in, as the API reads it."""
    address = sender or f"+3369{next(_contacts):07d}"
    router.route_message(
        InboundMessage(
            account_id=account_id,
            channel=Channel.WHATSAPP,
            provider=Provider.META_CLOUD,
            provider_message_id=f"wamid.{address}.{next(_contacts)}",
            contact=Contact(address=address, name="Client"),
            sent_at=SATURDAY_NOON,
            received_at=SATURDAY_NOON,
            type=MessageType.TEXT,
            text="Bonjour",
        )
    )
    state = ConversationStore().contact(account_id, address)
    assert isinstance(state, ContactState)
    assert state.open_conversation_id is not None
    conversation, _ = read_back(state.open_conversation_id)
    return conversation


@pytest.fixture
def dynamodb_requests(aws: LocalResources) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB request made meanwhile: (operation, its JSON body)."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
        seen.append((event_name.rsplit(".", 1)[-1], json.loads(params.get("body") or b"{}")))

    events = dynamo.table().meta.client.meta.events
    events.register("before-call.dynamodb", record)
    yield seen
    events.unregister("before-call.dynamodb", record)


def partitions_queried(requests: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [str(body["ExpressionAttributeValues"][":pk"]["S"]) for op, body in requests if op == "Query"]


def put(path: str, body: dict[str, Any]) -> None:
    answer = call_api("PUT", path, body=body)
    assert answer.status == 200, answer.body


# Pause


def test_after_a_pause_the_next_message_gets_no_auto_reply(
    account_id: str, router: Router, queue: RecordingQueue
) -> None:
    # Given a router that has just answered a message of the account (its settings warm)
    assert write(account_id, router)["routing"]["auto_reply"]["decision"]["send"] is True
    assert len(queue.sent) == 1

    # When the admin pauses the account, and at once another contact writes
    assert call_api("POST", f"/v1/accounts/{account_id}/pause").status == 200
    conversation = write(account_id, router)

    # Then no auto-reply is queued, and the conversation says why
    assert conversation["routing"]["auto_reply"]["decision"]["reason"] == "account_paused"
    assert len(queue.sent) == 1


def test_after_a_pause_the_sender_sends_nothing_already_queued(
    account_id: str, router: Router, queue: RecordingQueue
) -> None:
    # Given two auto-replies queued, and a sender that has just sent the first (warm)
    first, second = write(account_id, router), write(account_id, router)
    provider = Provider_()
    assert deliver(queue.sent[0], send=provider) is Outcome.SENT

    # When the admin pauses the account, and at once the sender takes the second
    assert call_api("POST", f"/v1/accounts/{account_id}/pause").status == 200
    outcome = deliver(queue.sent[1], send=provider)

    # Then it is not sent, and reads back failed, saying why
    assert outcome is Outcome.ACCOUNT_PAUSED
    assert provider.sent == [first["contact"]["address"]]
    _, messages = read_back(second["id"])
    (reply,) = [m for m in messages if m["direction"] == "out"]
    assert (reply["status"], reply["error"]["code"]) == ("failed", "account_paused")


def test_after_a_resume_the_next_message_is_answered_again(account_id: str, router: Router) -> None:
    assert call_api("POST", f"/v1/accounts/{account_id}/pause").status == 200
    assert write(account_id, router)["routing"]["auto_reply"]["decision"]["reason"] == "account_paused"

    assert call_api("POST", f"/v1/accounts/{account_id}/resume").status == 200

    assert write(account_id, router)["routing"]["auto_reply"]["decision"]["send"] is True


# Authorized users, rules, auto-reply


def test_a_user_removed_from_the_authorized_users_is_not_assigned_the_next_conversation(
    account_id: str, router: Router
) -> None:
    # Given an account whose only authorized user, alice, was just assigned a conversation
    put(f"/v1/accounts/{account_id}/authorized-users", {"user_ids": ["alice"]})
    put(f"/v1/accounts/{account_id}/assignment-rules", {"rules": [{"type": "load_balanced"}]})
    assert write(account_id, router)["assignee_id"] == "alice"

    # When the admin authorizes bob instead, and at once a new contact writes
    put(f"/v1/accounts/{account_id}/authorized-users", {"user_ids": ["bob"]})
    conversation = write(account_id, router)

    # Then bob gets it
    assert conversation["assignee_id"] == "bob"


def test_new_assignment_rules_apply_to_the_next_message(account_id: str, router: Router) -> None:
    # Given a router that just routed by the rules "sales rep, then load balanced"
    assert write(account_id, router)["routing"]["assignment"]["reason"] == "rule_matched"

    # When the admin removes every rule, and at once the customer writes
    put(f"/v1/accounts/{account_id}/assignment-rules", {"rules": []})
    conversation = write(account_id, router, sender=CUSTOMER_PHONE)

    # Then their new conversation is unassigned, by no rule (not given to their rep, alice)
    assert conversation["assignee_id"] is None
    assert conversation["routing"]["assignment"]["reason"] == "no_rules"


def test_a_new_auto_reply_applies_to_the_next_message(account_id: str, router: Router) -> None:
    assert write(account_id, router)["routing"]["auto_reply"]["decision"]["text"] == (
        "Bonjour Client, nous sommes fermés."
    )

    put(
        f"/v1/accounts/{account_id}/auto-reply",
        {"enabled": True, "cooldown_minutes": 0, "rules": [{"trigger": "always", "message": "Merci !"}]},
    )

    assert write(account_id, router)["routing"]["auto_reply"]["decision"]["text"] == "Merci !"


# The team


@pytest.mark.parametrize("leaves", ["deactivated", "deleted"])
def test_a_user_deactivated_or_deleted_is_not_assigned_the_next_conversation(
    account_id: str, router: Router, leaves: str
) -> None:
    # Given alice, the only authorized user, just assigned a conversation (the team warm)
    put(f"/v1/accounts/{account_id}/authorized-users", {"user_ids": ["alice"]})
    put(f"/v1/accounts/{account_id}/assignment-rules", {"rules": [{"type": "load_balanced"}]})
    assert write(account_id, router)["assignee_id"] == "alice"

    # When the admin deactivates (or deletes) her, and at once a new contact writes
    if leaves == "deactivated":
        put("/v1/users/alice", {"name": "Alice", "email": "alice@example.com", "active": False})
    else:
        assert call_api("DELETE", "/v1/users/alice").status == 204
    conversation = write(account_id, router)

    # Then nobody valid is left: the conversation waits unassigned, saying why
    assert conversation["assignee_id"] is None
    (trial,) = conversation["routing"]["assignment"]["trials"]
    assert (trial["rule"], trial["outcome"]) == ("load_balanced", "no_candidate")


def test_a_user_added_and_authorized_is_assigned_the_next_conversation(
    account_id: str, router: Router
) -> None:
    put(f"/v1/accounts/{account_id}/authorized-users", {"user_ids": ["alice"]})
    put(f"/v1/accounts/{account_id}/assignment-rules", {"rules": [{"type": "load_balanced"}]})
    assert write(account_id, router)["assignee_id"] == "alice"

    assert (
        call_api("POST", "/v1/users", body={"id": "erin", "name": "Erin", "email": "erin@example.com"}).status
        == 201
    )
    put(f"/v1/accounts/{account_id}/authorized-users", {"user_ids": ["alice", "erin"]})

    assert write(account_id, router)["assignee_id"] == "erin"  # fewer open conversations than alice


def test_while_nothing_changes_the_settings_and_team_are_not_read_again(
    account_id: str, router: Router, dynamodb_requests: list[tuple[str, dict[str, Any]]]
) -> None:
    # Given a router that has routed a message (its copies warm)
    write(account_id, router)
    dynamodb_requests.clear()

    # When more contacts write while nothing changes, then once the rules change
    write(account_id, router)
    write(account_id, router)
    unchanged = partitions_queried(dynamodb_requests)
    put(f"/v1/accounts/{account_id}/assignment-rules", {"rules": []})
    dynamodb_requests.clear()
    write(account_id, router)

    # Then the account's settings were queried again only once they changed (and the team not)
    assert not any(p.startswith(("ACCOUNT#", "USERS")) for p in unchanged)
    assert [p for p in partitions_queried(dynamodb_requests) if p.startswith(("ACCOUNT#", "USERS"))] == [
        f"ACCOUNT#{account_id}"
    ]
