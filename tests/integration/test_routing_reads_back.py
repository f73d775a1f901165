"""The real router and sender on any settings: whatever they write reads back through the API,
and says what the account's rules and auto-reply decide (moto; Hypothesis).

Each example is a world: a team, an account (active, paused or in error) with its authorized users,
rules (some stored before a change made them invalid), auto-reply and hours, maybe a customer,
maybe the contact's history; the contact writes once or twice; the provider accepts, refuses,
postpones or the sender dies mid-send; status reports follow."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from inbox.accounts import lifecycle as account_lifecycle
from inbox.accounts.models import AccountCreate, AccountStatus, Channel, Provider
from inbox.business_hours import BusinessHours, Days
from inbox.conversations import (
    AUTO_REPLY,
    ContactState,
    RoutingRecord,
)
from inbox.delivery.outcomes import SendLater, SendRefused, SendResult
from inbox.delivery.queue import OutboundRequest
from inbox.delivery.sender import Outcome as SendOutcome
from inbox.delivery.sender import RetryLater, deliver
from inbox.directory import CustomerFields, UserCreate
from inbox.ids import new_id
from inbox.local.resources import LocalResources
from inbox.routing import consumer
from inbox.routing.assignment import AssignmentDecision, Candidate, decide_assignment
from inbox.routing.assignment_rules import AssignmentRule, AssignmentRules, Fallback, FallbackAction, RuleType
from inbox.routing.auto_reply import (
    AutoReplyDecision,
    AutoReplyRule,
    AutoReplySettings,
    Trigger,
    decide_auto_reply,
)
from inbox.routing.events import (
    STATUS_RANK,
    Contact,
    DeliveryStatus,
    InboundMessage,
    MessageType,
    ProviderError,
    StatusEvent,
)
from inbox.routing.router import Collaborators, Router
from inbox.store import dynamo, items
from inbox.store.account_settings import AccountSettingsStore, AuthorizedUsers
from inbox.store.accounts import AccountStore
from inbox.store.conversations import ConversationStore, contact_key
from inbox.store.credentials import CredentialVault
from inbox.store.customers import CustomerStore
from inbox.store.users import UserStore
from inbox.templates.variables import conversation_context
from routing_setup import RecordingQueue, assert_lossless, read_back, start_afresh, stored_conversation

NOW = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
# Hypothesis runs every example in the same moto (a fixture per example would cost seconds): each
# example starts from an empty table and makes its own ids.
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_numbers = itertools.count(10_000_000)
errors = st.builds(
    ProviderError,
    code=st.sampled_from(["131026", "131047", "30008"]),
    title=st.none() | st.just("Undeliverable"),
)


@pytest.fixture(autouse=True)
def fresh_caches(aws: LocalResources) -> Iterator[None]:
    consumer.clear_caches()
    yield
    consumer.clear_caches()


PEOPLE = ["u0", "u1", "u2", "u3", "ghost"]  # "ghost" is in no directory
people = st.sampled_from(PEOPLE)
brands = st.sampled_from(["Bosch", "Fiat"])


@st.composite
def rules(draw: st.DrawFn) -> AssignmentRule:
    kind = draw(st.sampled_from(RuleType))
    params: dict[str, Any] = {}
    if kind is RuleType.CUSTOMER_CUSTOM_FIELD:
        params = {"field": "owner"}
    elif kind is RuleType.LAST_ASSIGNED_USER:
        params = draw(st.sampled_from([{}, {"within_days": 1}, {"within_days": 30}]))
    elif kind is RuleType.TEAM_BRAND:
        params = draw(st.sampled_from([{}, {"brand": "Bosch"}]))
    if draw(st.integers(0, 9)) == 0:
        params = {"within_days": 0, "unknown": True}  # stored before a change of the rule: invalid now
    action = draw(st.sampled_from(FallbackAction))
    fallback = Fallback(action=action, user_id=draw(people) if action is FallbackAction.ASSIGN_USER else None)
    return AssignmentRule(type=kind, params=params, fallback=fallback)


@st.composite
def auto_reply_settings(draw: st.DrawFn) -> AutoReplySettings:
    # The common case first in each choice: Hypothesis leans towards the first.
    triggers = draw(st.permutations(list(Trigger)))[: draw(st.sampled_from([1, 2, 3, 0]))]
    messages = [
        "Merci !",
        "Bonjour {{customer_name}}",
        "{{user_name}} vous répond.",
        "Votre devis {{quote_number}}",
    ]
    chosen = [AutoReplyRule(trigger=t, message=draw(st.sampled_from(messages))) for t in triggers]
    return AutoReplySettings(
        enabled=bool(chosen) and draw(st.sampled_from([True, True, False])),
        rules=chosen,
        cooldown_minutes=draw(st.sampled_from([0, 30, 24 * 60])),
    )


@dataclass
class Given:
    """One example's world: a team, an account's settings, a customer, the contact's history, the
    message(s) it sends, and how the provider and its status reports answer the auto-replies."""

    team: dict[str, tuple[bool, list[str]]]  # user: (active, brands)
    authorized: list[str]
    rules: list[AssignmentRule]
    auto_reply: AutoReplySettings
    open_now: bool
    status: AccountStatus
    customer: dict[str, Any] | None
    last_assignee: tuple[str, int] | None  # (user, days ago)
    last_auto_reply_minutes_ago: int | None
    age_minutes: int
    automatic: bool
    second_message: bool
    provider: str  # accept, refuse, later, crash, none
    reports: list[tuple[DeliveryStatus, ProviderError | None]] = field(default_factory=list)
    seed: int = 0


def world(**changes: Any) -> Given:
    """An ordinary world (two active members load-balanced, an auto-reply that always answers, the
    provider accepting), with `changes`: the examples every run tries first."""
    ordinary: dict[str, Any] = {
        "team": {"u0": (True, ["Bosch"]), "u1": (True, [])},
        "authorized": ["u0", "u1"],
        "rules": [AssignmentRule(type=RuleType.LOAD_BALANCED)],
        "auto_reply": AutoReplySettings(
            enabled=True, rules=[AutoReplyRule(trigger=Trigger.ALWAYS, message="Merci !")], cooldown_minutes=0
        ),
        "open_now": True,
        "status": AccountStatus.ACTIVE,
        "customer": None,
        "last_assignee": None,
        "last_auto_reply_minutes_ago": None,
        "age_minutes": 0,
        "automatic": False,
        "second_message": False,
        "provider": "accept",
    }
    return Given(**{**ordinary, **changes})


A_REPORTED_FAILURE = ProviderError(
    code="131026", title="Message undeliverable", message="Receiver is incapable"
)


@st.composite
def worlds(draw: st.DrawFn) -> Given:
    team = {
        user: (draw(st.sampled_from([True, True, False])), draw(st.lists(brands, unique=True)))
        for user in draw(st.lists(st.sampled_from(PEOPLE[:-1]), unique=True, max_size=4))
    }
    customer = None
    if draw(st.booleans()):
        customer = {
            "sales_rep_id": draw(st.none() | people),
            "brand": draw(st.none() | brands),
            "custom_fields": draw(
                st.sampled_from([{}, {"owner": 42}, {"owner": " "}, {"owner": "u1"}, {"owner": "ghost"}])
            ),
        }
    return Given(
        team=team,
        authorized=draw(st.lists(people, unique=True, max_size=5)),
        rules=draw(st.lists(rules(), max_size=4)),
        auto_reply=draw(auto_reply_settings()),
        open_now=draw(st.sampled_from([False, True])),
        status=draw(
            st.sampled_from(
                [AccountStatus.ACTIVE, AccountStatus.ACTIVE, AccountStatus.PAUSED, AccountStatus.ERROR]
            )
        ),
        customer=customer,
        last_assignee=draw(st.none() | st.tuples(people, st.sampled_from([0, 3, 60]))),
        last_auto_reply_minutes_ago=draw(st.none() | st.sampled_from([5, 120, 3 * 24 * 60])),
        age_minutes=draw(st.sampled_from([0, 1, 0, 4 * 60])),
        automatic=draw(st.sampled_from([False, False, False, True])),
        second_message=draw(st.booleans()),
        provider=draw(st.sampled_from(["accept", "accept", "accept", "refuse", "later", "crash", "none"])),
        reports=draw(
            st.lists(
                st.tuples(
                    st.sampled_from([DeliveryStatus.DELIVERED, DeliveryStatus.READ, DeliveryStatus.FAILED]),
                    st.none() | errors,
                ),
                max_size=3,
            )
        ),
        seed=draw(st.integers(0, 2**16)),
    )


@dataclass
class Example:
    """One example's world, written through the store as the API would: ids made unique."""

    given: Given
    prefix: str = field(default_factory=lambda: new_id("x")[-10:].lower())
    number: int = field(default_factory=lambda: next(_numbers))

    @property
    def phone(self) -> str:
        return f"+336{self.number:08d}"

    def who(self, person: str | None) -> str | None:
        return None if person is None else f"{self.prefix}-{person}"

    def setup(self) -> str:
        g = self.given
        users = UserStore()
        for person, (active, user_brands) in g.team.items():
            users.create(
                UserCreate(
                    id=self.who(person),
                    name=person.title(),
                    email=f"{self.prefix}.{person}@example.com",
                    brands=user_brands,
                    active=active,
                )
            )
        account = account_lifecycle.create_account(
            AccountCreate(
                provider=Provider.META_CLOUD,
                name="WhatsApp FR",
                address=f"+331{self.number:08d}",
                config={"waba_id": "1", "phone_number_id": str(self.number), "business_name": "Garage"},
                credentials={"access_token": SecretStr("t")},
            ),
            accounts=AccountStore(),
            vault=CredentialVault(),
        )
        if g.status is AccountStatus.PAUSED:
            account_lifecycle.pause(account.id, accounts=AccountStore())
        elif g.status is AccountStatus.ERROR:
            account_lifecycle.record_credentials_rejected(
                account.id, "token revoked", accounts=AccountStore()
            )
        store = AccountSettingsStore()
        store.write(account.id, AuthorizedUsers(user_ids=[str(self.who(p)) for p in g.authorized]))
        store.write(
            account.id,
            AssignmentRules(
                rules=[
                    rule.model_copy(
                        update={
                            "fallback": rule.fallback.model_copy(
                                update={"user_id": self.who(rule.fallback.user_id)}
                            )
                        }
                    )
                    for rule in g.rules
                ]
            ),
        )
        store.write(account.id, g.auto_reply)
        hours = (
            BusinessHours.always_open("Europe/Paris")
            if g.open_now
            else BusinessHours(timezone="Europe/Paris", days=Days())
        )
        store.write(account.id, hours)
        if g.customer is not None:
            fields = {
                k: self.who(v) if isinstance(v, str) and v in PEOPLE else v
                for k, v in g.customer["custom_fields"].items()
            }
            CustomerStore().create(
                CustomerFields(
                    name="Jean Dupont",
                    company_name="Garage Dupont",
                    sales_rep_id=self.who(g.customer["sales_rep_id"]),
                    brand=g.customer["brand"],
                    custom_fields=fields,
                    phones=[self.phone],
                )
            )
        if g.last_assignee is not None or g.last_auto_reply_minutes_ago is not None:
            # The contact's history, as the router left it when their last conversation closed.
            history = ContactState(
                account_id=account.id,
                address=self.phone,
                first_seen_at=NOW - timedelta(days=90),
                last_assignee_id=self.who(g.last_assignee[0]) if g.last_assignee else None,
                last_assigned_at=NOW - timedelta(days=g.last_assignee[1]) if g.last_assignee else None,
                last_auto_reply_at=NOW - timedelta(minutes=g.last_auto_reply_minutes_ago)
                if g.last_auto_reply_minutes_ago is not None
                else None,
            )
            dynamo.table().put_item(Item=items.to_item(history, **contact_key(account.id, self.phone)))
        return account.id

    def inbound(self, account_id: str, n: int, at: datetime) -> InboundMessage:
        return InboundMessage(
            account_id=account_id,
            channel=Channel.WHATSAPP,
            provider=Provider.META_CLOUD,
            provider_message_id=f"wamid.{self.prefix}.{n}",
            contact=Contact(address=self.phone, name="Jean"),
            sent_at=at - timedelta(minutes=self.given.age_minutes),
            received_at=at,
            type=MessageType.TEXT,
            text=f"message {n}",
            headers={"Auto-Submitted": "auto-replied"} if self.given.automatic else {},
        )


def expected_assignment(example: Example, account_id: str) -> AssignmentDecision:
    """What the account's rules give, decided apart from the router on what it will read."""
    snapshot = AccountSettingsStore().snapshot(account_id)
    loads = ConversationStore().workloads()
    team = UserStore().everyone()
    customers = CustomerStore().find_by_phone(example.phone)
    state = ConversationStore().contact(account_id, example.phone)
    last = None
    if state and state.last_assignee_id and state.last_assigned_at:
        last = (state.last_assignee_id, state.last_assigned_at)
    return decide_assignment(
        snapshot.assignment_rules,
        authorized=snapshot.authorized_users.user_ids,
        users={
            user_id: Candidate(
                user_id=user_id,
                active=user.active,
                brands=user.brands,
                open_assigned=loads.get(user_id, (0, None))[0],
                last_assigned_at=loads.get(user_id, (0, None))[1],
            )
            for user_id, user in team.items()
        },
        customer=customers[0] if customers else None,
        last_assignee=last,
        now=NOW,
        rng=random.Random(example.given.seed),
    )


def expected_auto_reply(example: Example, account_id: str, assignee_id: str | None) -> AutoReplyDecision:
    """The auto-reply decision for the contact's first message, decided apart from the router."""
    snapshot = AccountSettingsStore().snapshot(account_id)
    team = UserStore().everyone()
    state = ConversationStore().contact(account_id, example.phone)
    customers = CustomerStore().find_by_phone(example.phone)
    customer = customers[0] if customers else None
    message = example.inbound(account_id, 1, NOW)
    return decide_auto_reply(
        snapshot.auto_reply,
        account_status=snapshot.account.status,
        hours=snapshot.business_hours,
        sent_at=message.sent_at,
        now=NOW,
        first_contact=state is None,
        last_auto_reply_at=state.last_auto_reply_at if state else None,
        headers=message.headers,
        sender=example.phone,
        context=conversation_context(
            account=snapshot.account,
            contact_name="Jean",
            customer_name=customer.name if customer else None,
            company_name=customer.company_name if customer else None,
            assignee=team.get(assignee_id) if assignee_id else None,
        ),
    )


def deliver_as_the_provider_answers(
    example: Example, request: OutboundRequest, router: Router
) -> tuple[str, str | None]:
    """Deliver one queued auto-reply (its account is active: others queue none); the status and
    error code it should read as afterwards."""
    behaviour = example.given.provider
    wamid = f"wamid.out.{new_id('w')}"

    def provider(*_: Any, **__: Any) -> SendResult:
        if behaviour == "refuse":
            raise SendRefused("131047", "Re-engagement message", window_closed=True, title="Window closed")
        if behaviour == "later":
            raise SendLater(30)
        if behaviour == "crash":
            raise RuntimeError("the function died mid-send")  # the claim stays: `sending`
        return SendResult(provider_message_id=wamid)

    if behaviour == "none":
        return "queued", None
    if behaviour in ("later", "crash"):
        with pytest.raises((RetryLater, RuntimeError)):
            deliver(request, send=provider)
        return "queued", None
    outcome = deliver(request, send=provider)
    if behaviour == "refuse":
        assert outcome is SendOutcome.FAILED
        return "failed", "131047"
    assert outcome is SendOutcome.SENT
    status, code = DeliveryStatus.SENT, None
    for reported, error in example.given.reports:
        router.route_status(
            StatusEvent(
                account_id=request.account_id,
                provider=Provider.META_CLOUD,
                provider_message_id=wamid,
                status=reported,
                occurred_at=NOW,
                error=error if reported is DeliveryStatus.FAILED else None,
            )
        )
        if STATUS_RANK[reported] > STATUS_RANK[status]:
            status = reported
            code = error.code if error and reported is DeliveryStatus.FAILED else None
    return status.value, code


@EXAMPLES
@given(given=worlds())
@example(given=world(reports=[(DeliveryStatus.DELIVERED, None), (DeliveryStatus.READ, None)]))
@example(given=world(reports=[(DeliveryStatus.FAILED, A_REPORTED_FAILURE), (DeliveryStatus.READ, None)]))
@example(given=world(rules=[], provider="refuse", second_message=True))
@example(
    given=world(
        provider="crash",
        second_message=True,
        customer={"sales_rep_id": "u1", "brand": None, "custom_fields": {}},
    )
)
@example(given=world(provider="later", status=AccountStatus.ACTIVE, open_now=False))
@example(given=world(status=AccountStatus.PAUSED, provider="none"))
def test_whatever_the_router_and_the_sender_write_reads_back(given: Given) -> None:
    # Given an account, its settings, its team, a customer and a contact's history, as generated
    start_afresh()
    example = Example(given)
    account_id = example.setup()
    queue = RecordingQueue()
    router = Router(
        Collaborators(
            current=consumer.current, outbound=lambda: queue, clock=lambda: NOW, rng=random.Random(given.seed)
        )
    )
    expected = expected_assignment(example, account_id)
    expected_reply = expected_auto_reply(example, account_id, expected.assignee_id)

    # When the contact writes (once or twice), and the sender delivers what was queued
    router.route_message(example.inbound(account_id, 1, NOW))
    state = ConversationStore().contact(account_id, example.phone)
    assert state is not None
    assert state.open_conversation_id is not None
    conversation_id = state.open_conversation_id
    first_body, _ = read_back(conversation_id)
    first_reply = first_body["routing"]["auto_reply"]["decision"]
    if given.second_message:
        router.route_message(example.inbound(account_id, 2, NOW))
    outcomes = [deliver_as_the_provider_answers(example, request, router) for request in queue.sent]

    # Then everything reads back through the API, and says what was decided
    conversation, messages = read_back(conversation_id)
    assert_lossless(stored_conversation(conversation_id))
    routing_record = RoutingRecord.model_validate(conversation["routing"])
    assert routing_record.assignment == expected
    assert conversation["assignee_id"] == expected.assignee_id
    assert AutoReplyDecision.model_validate(first_reply) == expected_reply
    inbound = [m for m in messages if m["direction"] == "in"]
    replies = [m for m in messages if m["direction"] == "out"]
    assert [(m["text"], m["status"]) for m in inbound] == [
        (f"message {n}", "received") for n in range(1, 3 if given.second_message else 2)
    ]
    assert len(replies) == len(queue.sent)
    assert [(m["status"], (m["error"] or {}).get("code")) for m in replies] == outcomes
    assert all(m["sent_by"] == AUTO_REPLY for m in replies)
    # What this example covered (`--hypothesis-show-statistics` lists it).
    event(f"assignment: {expected.reason}")
    event(f"auto-reply: {expected_reply.reason}")
    for trial in expected.trials:
        event(f"trial: {trial.outcome}")
    for status, _ in outcomes:
        event(f"reply: {status}")
    latest = routing_record.auto_reply
    assert latest is not None
    assert latest.inbound_message_id == inbound[-1]["id"]
    assert (latest.reply_message_id is not None) == latest.decision.send
