"""Working a conversation through the API: labels (created inline, a deleted one kept in the
history), the assignee (only an active user authorized for the account), close and reopen, and
the timeline of it all; workload counters exact, under concurrent changes too (moto)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

import builders
from builders import call_api, invoke_handler
from inbox.access import Caller
from inbox.accounts.models import Channel, Provider
from inbox.conversation_actions import AssigneeChange, close, default_stores, reopen, set_assignee
from inbox.ids import new_id
from inbox.local.resources import LocalResources
from inbox.routing.events import Contact, InboundMessage, MessageType, QueuedEvent, group_id
from inbox.store import dynamo
from inbox.store.conversations import ConversationStore
from inbox.store.workloads import read_workloads
from mail_flow import function_variables

TEAM = ("alice", "bob", "carol")


@pytest.fixture
def account_id(aws: LocalResources) -> Any:
    with function_variables(aws, "route", "send", "settings_api"):
        yield team_account()


def team_account() -> str:
    """A WhatsApp account for alice, bob, carol and erin (inactive); dave is not authorized."""
    for user_id in (*TEAM, "dave", "erin"):
        body = {"id": user_id, "name": user_id.title(), "email": f"{user_id}@example.com"}
        assert call_api("POST", "/v1/users", body=body).status == 201
    erin = {"name": "Erin", "email": "erin@example.com", "active": False}
    assert call_api("PUT", "/v1/users/erin", body=erin).status == 200
    account: dict[str, Any] = {
        "provider": "meta_cloud",
        "name": "WhatsApp FR",
        "address": "+33 6 12 34 56 78",
        "config": {"waba_id": "1234567890", "phone_number_id": "10987654321"},
        "credentials": {"access_token": "EAAG-secret-token"},
    }
    created = call_api("POST", "/v1/accounts", body=account).body["id"]
    users = {"user_ids": [*TEAM, "erin"]}
    assert call_api("PUT", f"/v1/accounts/{created}/authorized-users", body=users).status == 200
    return str(created)


def inbound(account_id: str, contact: str = "+33611223344", text: str = "Bonjour") -> str:
    """The contact writes; the route function routes it; the conversation it is in."""
    now = datetime.now(UTC)
    message = InboundMessage(
        account_id=account_id,
        channel=Channel.WHATSAPP,
        provider=Provider.META_CLOUD,
        provider_message_id=f"wamid.in.{new_id('m')}",
        contact=Contact(address=contact, name="Ana"),
        sent_at=now,
        received_at=now,
        type=MessageType.TEXT,
        text=text,
    )
    record = builders.sqs_record(
        QueuedEvent(event=message).model_dump_json(),
        new_id("sqs"),
        queue="inbound.fifo",
        group_id=group_id(message),
    )
    assert invoke_handler("route", {"Records": [record]}) == {"batchItemFailures": []}
    state = ConversationStore().contact(account_id, contact)
    assert state is not None
    assert state.open_conversation_id is not None
    return state.open_conversation_id


def conversation(conversation_id: str) -> dict[str, Any]:
    answer = call_api("GET", f"/v1/conversations/{conversation_id}")
    assert answer.status == 200, answer.body
    return dict(answer.body)


def events(conversation_id: str) -> list[tuple[str, str | None]]:
    answer = call_api("GET", f"/v1/conversations/{conversation_id}/events", query="limit=200")
    assert answer.status == 200, answer.body
    return [(e["type"], e["by"]) for e in answer.body["items"]]


def open_assigned() -> dict[str, int]:
    return {user: count for user, (count, _) in read_workloads(dynamo.table()).items() if count}


def actual_open_assigned(conversation_ids: list[str]) -> dict[str, int]:
    counts = Counter(
        c["assignee_id"]
        for c in (conversation(i) for i in conversation_ids)
        if c["assignee_id"] and c["status"] == "open"
    )
    return dict(counts)


def test_labels_are_set_by_name_created_inline_and_kept_in_the_history_when_deleted(account_id: str) -> None:
    conversation_id = inbound(account_id)
    assert call_api("POST", "/v1/labels", body={"name": "Urgent", "color": "#d93025"}).status == 201

    unknown = call_api(
        "PUT", f"/v1/conversations/{conversation_id}/labels", body={"labels": ["urgent", "Devis"]}
    )
    assert (unknown.status, unknown.body["error"]["code"]) == (422, "unknown_label")
    assert unknown.body["error"]["details"] == [{"field": "labels[1]", "message": "no such label"}]
    assert conversation(conversation_id)["labels"] == []

    answer = call_api(
        "PUT",
        f"/v1/conversations/{conversation_id}/labels",
        body={"labels": ["urgent", "Devis"], "create_missing": True},
        user="alice",
        admin=False,
    )
    assert answer.status == 200, answer.body
    assert [label["name"] for label in answer.body["labels"]] == ["Urgent", "Devis"]
    names = [label["name"] for label in call_api("GET", "/v1/labels").body["items"]]
    assert sorted(names) == ["Devis", "Urgent"]
    listed = call_api("GET", "/v1/conversations", query="label=Devis").body["items"]
    assert [c["id"] for c in listed] == [conversation_id]

    devis = next(label for label in answer.body["labels"] if label["name"] == "Devis")
    assert call_api("DELETE", f"/v1/labels/{devis['id']}").status == 204
    kept = call_api("PUT", f"/v1/conversations/{conversation_id}/labels", body={"labels": ["Urgent"]})
    assert [label["name"] for label in kept.body["labels"]] == ["Urgent"]
    timeline = call_api("GET", f"/v1/conversations/{conversation_id}/events").body["items"]
    labelled = [(e["type"], e["label"]["name"], e["by"]) for e in timeline if e["label"]]
    assert labelled == [
        ("labelled", "Urgent", "alice"),
        ("labelled", "Devis", "alice"),
        ("unlabelled", "Devis", "alice"),
    ]


def test_only_an_active_user_authorized_for_the_account_can_be_assigned(account_id: str) -> None:
    conversation_id = inbound(account_id)

    for user_id, why in (("dave", "not authorized"), ("erin", "not active"), ("zoe", "no user")):
        refused = call_api("PUT", f"/v1/conversations/{conversation_id}/assignee", body={"user_id": user_id})
        assert (refused.status, refused.body["error"]["code"]) == (422, "assignee_not_allowed")
        assert why in refused.body["error"]["details"][0]["message"]
    assert conversation(conversation_id)["assignee_id"] is None
    assert open_assigned() == {}

    assigned = call_api("PUT", f"/v1/conversations/{conversation_id}/assignee", body={"user_id": "bob"})
    assert assigned.status == 200, assigned.body
    assert assigned.body["assignee_id"] == "bob"
    assert open_assigned() == {"bob": 1}
    mine = call_api("GET", "/v1/conversations", query="assignee_id=bob").body["items"]
    assert [c["id"] for c in mine] == [conversation_id]

    moved = call_api("PUT", f"/v1/conversations/{conversation_id}/assignee", body={"user_id": "carol"})
    assert moved.body["assignee_id"] == "carol"
    assert open_assigned() == {"carol": 1}
    assert call_api("GET", "/v1/conversations", query="assignee_id=bob").body["items"] == []
    nobody = call_api("PUT", f"/v1/conversations/{conversation_id}/assignee", body={"user_id": None})
    assert nobody.body["assignee_id"] is None
    assert open_assigned() == {}
    assert events(conversation_id) == [
        ("assigned", "alice"),
        ("unassigned", "alice"),
        ("assigned", "alice"),
        ("unassigned", "alice"),
    ]


def test_closing_frees_the_contact_and_counts_and_reopening_counts_again(account_id: str) -> None:
    first = inbound(account_id)
    call_api("PUT", f"/v1/conversations/{first}/assignee", body={"user_id": "bob"})

    closed = call_api("POST", f"/v1/conversations/{first}/close", user="bob", admin=False)
    assert (closed.status, closed.body["status"]) == (200, "closed")
    assert open_assigned() == {}
    assert call_api("POST", f"/v1/conversations/{first}/close").body["status"] == "closed"  # once
    assert open_assigned() == {}

    reopened = call_api("POST", f"/v1/conversations/{first}/reopen", user="bob", admin=False)
    assert (reopened.status, reopened.body["status"]) == (200, "open")
    assert open_assigned() == {"bob": 1}

    # Closed again, the contact's next message opens a new conversation, routed afresh.
    call_api("POST", f"/v1/conversations/{first}/close")
    second = inbound(account_id, text="Encore moi")
    assert second != first
    assert conversation(first)["status"] == "closed"
    superseded = call_api("POST", f"/v1/conversations/{first}/reopen")
    assert (superseded.status, superseded.body["error"]["code"]) == (409, "conversation_superseded")
    assert events(first) == [
        ("assigned", "alice"),
        ("closed", "bob"),
        ("reopened", "bob"),
        ("closed", "alice"),
    ]


def test_an_agent_not_authorized_for_the_account_gets_404_on_every_write(account_id: str) -> None:
    conversation_id = inbound(account_id)
    path = f"/v1/conversations/{conversation_id}"

    for method, suffix, body in (
        ("PUT", "/labels", {"labels": [], "create_missing": False}),
        ("PUT", "/assignee", {"user_id": "alice"}),
        ("POST", "/close", None),
        ("POST", "/reopen", None),
        ("POST", "/messages", {"text": "Bonjour"}),
        ("GET", "/events", None),
    ):
        answer = call_api(method, path + suffix, body=body, user="dave", admin=False)
        assert (answer.status, answer.body["error"]["code"]) == (404, "conversation_not_found"), (
            method,
            suffix,
        )
    assert conversation(conversation_id)["status"] == "open"
    assert events(conversation_id) == []


@pytest.mark.usefixtures("serial_aws")
def test_concurrent_assignments_closes_and_reopens_keep_the_workloads_exact() -> None:
    account_id = team_account()
    conversation_ids = [inbound(account_id, contact=f"+3361100{n:04d}") for n in range(6)]
    stores = default_stores()
    caller = Caller(user_id="alice", groups=frozenset({"admins"}))
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def agent(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(25):
            target = rng.choice(conversation_ids)
            action = rng.choice(["assign", "assign", "unassign", "close", "reopen"])
            try:
                if action == "assign":
                    set_assignee(caller, target, AssigneeChange(user_id=rng.choice(TEAM)), stores=stores)
                elif action == "unassign":
                    set_assignee(caller, target, AssigneeChange(user_id=None), stores=stores)
                elif action == "close":
                    close(caller, target, stores=stores)
                else:
                    reopen(caller, target, stores=stores)
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=agent, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert open_assigned() == actual_open_assigned(conversation_ids)
    assert sum(open_assigned().values()) <= len(conversation_ids)
