"""Every record reads back: whatever the router and the sender write, the API reads, and says the
same (moto; the API through its function's handler).

The router once wrote `{"trials": [], "reason": "no_rules"}` for every conversation of an account
without assignment rules, and the API answered 500 on it. These tests write routing records and
messages of every value with the router's own writers, and read them back; the real router and
sender, on any settings, are in test_routing_reads_back.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import builders
from builders import call_api, lambda_context
from inbox.accounts.models import Channel, Provider
from inbox.conversations import (
    AUTO_REPLY,
    AutoReplyRecord,
    ContactRef,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    RoutingRecord,
)
from inbox.ids import new_id
from inbox.local.resources import LocalResources
from inbox.local.template import Template
from inbox.routing import consumer
from inbox.routing.assignment import (
    AssignmentDecision,
    AssignmentReason,
    Outcome,
    RuleTrial,
)
from inbox.routing.assignment_rules import FallbackAction, RuleType
from inbox.routing.auto_reply import (
    AutoReplyDecision,
    AutoReplyReason,
    Trigger,
)
from inbox.routing.events import (
    Contact,
    InboundMessage,
    MessageType,
    ProviderError,
    QueuedEvent,
    group_id,
)
from inbox.store import dynamo, items
from inbox.store.conversations import conversation_item, message_item
from routing_setup import assert_lossless, read_back, stored_conversation

NOW = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
# Hypothesis runs every example in the same moto (a fixture per example would cost seconds).
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def fresh_caches(aws: LocalResources) -> Iterator[None]:
    consumer.clear_caches()
    yield
    consumer.clear_caches()


@pytest.fixture
def route_function(template: Template, monkeypatch: pytest.MonkeyPatch, aws: LocalResources) -> Any:
    """functions/route's handler, with the Powertools settings its template environment gives it."""
    (function,) = [f for f in template.functions() if f.name == "route"]
    for name, value in function.environment.items():
        if name.startswith("POWERTOOLS_") and isinstance(value, str):
            monkeypatch.setenv(name, value)
    from functions.route.handler import handler

    return handler


# An account without assignment rules


def test_an_account_without_assignment_rules_routes_and_reads_back(route_function: Any) -> None:
    # Given a WhatsApp account an admin created, and nothing else: no rules, no auto-reply
    account = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "meta_cloud",
            "name": "WhatsApp FR",
            "address": "+33180000000",
            "config": {"waba_id": "1", "phone_number_id": "2"},
            "credentials": {"access_token": "t"},
        },
    ).body
    message = InboundMessage(
        account_id=account["id"],
        channel=Channel.WHATSAPP,
        provider=Provider.META_CLOUD,
        provider_message_id="wamid.1",
        contact=Contact(address="+33612345678", name="Jean"),
        sent_at=datetime.now(UTC),
        received_at=datetime.now(UTC),
        type=MessageType.TEXT,
        text="Bonjour",
    )

    # When a contact's message goes through the route function
    record = builders.sqs_record(
        QueuedEvent(event=message).model_dump_json(), "m1", queue="inbound.fifo", group_id=group_id(message)
    )
    assert route_function({"Records": [record]}, lambda_context("route")) == {"batchItemFailures": []}

    # Then the conversation and its messages read back (200), the routing saying why: no rules
    (listed,) = call_api("GET", "/v1/conversations", query=f"account_id={account['id']}").body["items"]
    conversation, messages = read_back(listed["id"])
    assert conversation["assignee_id"] is None
    assert conversation["routing"]["assignment"]["reason"] == "no_rules"
    assert conversation["routing"]["assignment"]["trials"] == []
    assert conversation["routing"]["assignment"]["assignee_id"] is None
    assert conversation["routing"]["auto_reply"]["decision"]["reason"] == "disabled"
    assert [(m["direction"], m["text"], m["status"]) for m in messages] == [("in", "Bonjour", "received")]


# Every record the router and the sender write (their own writers, any values)

ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))
params_of = {
    RuleType.CUSTOMER_SALES_REP: st.just({}),
    RuleType.CUSTOMER_CUSTOM_FIELD: st.fixed_dictionaries({"field": ids}),
    RuleType.LAST_ASSIGNED_USER: st.one_of(
        st.just({}), st.fixed_dictionaries({"within_days": st.integers(1, 90)})
    ),
    RuleType.TEAM_BRAND: st.one_of(st.just({}), st.fixed_dictionaries({"brand": texts.filter(str.strip)})),
    RuleType.LOAD_BALANCED: st.just({}),
    RuleType.RANDOM: st.just({}),
}
trials = st.sampled_from(RuleType).flatmap(
    lambda rule: st.builds(
        RuleTrial,
        rule=st.just(rule),
        params=params_of[rule],
        outcome=st.sampled_from(Outcome),
        user_id=st.none() | ids,
        detail=st.none() | texts,
        fallback=st.none() | st.sampled_from(FallbackAction),
    )
)
assignments = st.builds(
    AssignmentDecision,
    assignee_id=st.none() | ids,
    trials=st.lists(trials, max_size=4),
    fallback_user_id=st.none() | ids,
    reason=st.sampled_from(AssignmentReason),
)
auto_replies = st.builds(
    AutoReplyDecision,
    send=st.booleans(),
    trigger=st.none() | st.sampled_from(Trigger),
    text=st.none() | texts,
    reason=st.sampled_from(AutoReplyReason),
    detail=st.none() | texts,
)
errors = st.builds(
    ProviderError,
    code=ids,
    title=st.none() | texts,
    message=st.none() | texts,
    window_closed=st.none() | st.booleans(),
)


@st.composite
def messages_of(draw: st.DrawFn, conversation: Conversation) -> list[Message]:
    found = []
    for status in draw(st.lists(st.sampled_from(MessageStatus), min_size=1, max_size=5)):
        found.append(
            Message(
                id=new_id("msg"),
                conversation_id=conversation.id,
                account_id=conversation.account_id,
                direction=Direction.IN if status is MessageStatus.RECEIVED else Direction.OUT,
                text=draw(st.none() | texts),
                sent_by=None
                if status is MessageStatus.RECEIVED
                else draw(st.sampled_from([AUTO_REPLY, "alice"])),
                status=status,
                error=draw(errors) if status is MessageStatus.FAILED else None,
                provider_message_id=draw(st.none() | ids),
                created_at=draw(moments),
                sent_at=draw(st.none() | moments),
            )
        )
    return found


def written_as_the_router_writes(
    account_id: str, assignment: AssignmentDecision, auto_reply: AutoReplyDecision, at: datetime
) -> Conversation:
    conversation = Conversation(
        id=new_id("cnv"),
        account_id=account_id,
        channel=Channel.WHATSAPP,
        contact=ContactRef(address="+33611111111", name="Jean"),
        assignee_id=assignment.assignee_id,
        last_message_at=at,
        last_inbound_at=at,
        window_expires_at=at + timedelta(hours=24),
        created_at=at,
        updated_at=at,
        routing=RoutingRecord(
            assignment=assignment,
            assigned_at=at if assignment.assignee_id else None,
            auto_reply=AutoReplyRecord(
                inbound_message_id=new_id("msg"),
                decided_at=at,
                decision=auto_reply,
                reply_message_id=new_id("msg") if auto_reply.send else None,
            ),
        ),
    )
    items.transact(
        dynamo.table(),
        [items.put(conversation_item(conversation), condition=items.NOT_EXISTS)],
        on_conflict=lambda reasons: AssertionError(reasons),
    )
    return conversation


def assert_reads_back(conversation: Conversation, messages: list[Message]) -> None:
    for message in messages:
        dynamo.table().put_item(Item=message_item(message))
    body, listed = read_back(conversation.id)
    assert_lossless(stored_conversation(conversation.id))
    assert Conversation.model_validate(body) == conversation
    # In the order of their keys (creation time, then id); a claimed message reads as queued.
    expected = sorted(messages, key=lambda m: (m.created_at.isoformat(), m.id))
    assert [Message.model_validate(m) for m in listed] == [
        m.model_copy(update={"status": MessageStatus.QUEUED}) if m.status is MessageStatus.SENDING else m
        for m in expected
    ]


@EXAMPLES
@given(assignment=assignments, auto_reply=auto_replies, at=moments, data=st.data())
def test_any_routing_record_and_message_reads_back_as_written(
    assignment: AssignmentDecision,
    auto_reply: AutoReplyDecision,
    at: datetime,
    data: st.DataObject,
) -> None:
    conversation = written_as_the_router_writes("acc_any", assignment, auto_reply, at)
    assert_reads_back(conversation, data.draw(messages_of(conversation)))


def test_every_outcome_reason_fallback_and_status_reads_back() -> None:
    # Each value of each vocabulary at least once, whatever Hypothesis happened to draw above.
    every_trial = [
        RuleTrial(rule=rule, params={}, outcome=outcome, user_id="bob", detail="why", fallback=fallback)
        for outcome, rule, fallback in zip(
            Outcome,
            itertools.cycle(RuleType),
            itertools.cycle([None, *FallbackAction]),
            strict=False,
        )
    ]
    for n, (reason, reply_reason, trigger) in enumerate(
        itertools.zip_longest(AssignmentReason, AutoReplyReason, [None, *Trigger])
    ):
        assignment = AssignmentDecision(
            assignee_id="bob" if n % 2 else None,
            trials=every_trial if n == 0 else [],
            reason=reason or AssignmentReason.NO_RULES,
        )
        auto_reply = AutoReplyDecision(
            send=reply_reason is AutoReplyReason.SENT,
            trigger=trigger,
            text="Merci" if reply_reason is AutoReplyReason.SENT else None,
            reason=reply_reason or AutoReplyReason.DISABLED,
        )
        conversation = written_as_the_router_writes("acc_every", assignment, auto_reply, NOW)
        messages = [
            Message(
                id=new_id("msg"),
                conversation_id=conversation.id,
                account_id="acc_every",
                direction=Direction.IN if status is MessageStatus.RECEIVED else Direction.OUT,
                sent_by=None if status is MessageStatus.RECEIVED else AUTO_REPLY,
                text="x",
                status=status,
                error=ProviderError(code="window_closed", window_closed=True)
                if status is MessageStatus.FAILED
                else None,
                created_at=NOW + timedelta(seconds=i),
            )
            for i, status in enumerate(MessageStatus)
        ]
        assert_reads_back(conversation, messages)
