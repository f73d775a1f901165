"""The router: each inbound event's effects, each exactly once.

For a message: find (or open) its conversation (WhatsApp: the contact's open one; email: the one
its In-Reply-To/References name, by Message-ID), link the customer, decide the
assignment (new conversations only) and the auto-reply, then commit everything in ONE DynamoDB
transaction whose first write is the durable dedupe record of (account, provider message id):
a redelivered or replayed message fails that condition and has no second effect. An auto-reply
is committed as a `queued` message and then handed to the outbound queue; the dedupe record
remembers it, so a retry after a crash between the two hands it over again (the sender claims a
message before sending, so it is never sent twice).

Every message is routed by the settings as they are when it is routed (`Current`, read first):
what an admin changed before it applies to it (a pause, an authorized user removed, new rules, a
user deactivated), however warm the container.

For a delivery status: advance the sent message's status, never backwards.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inbox.accounts.models import Channel
from inbox.conversations import (
    AUTO_REPLY,
    SERVICE_WINDOW,
    AutoReplyRecord,
    ContactRef,
    ContactState,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    RoutingRecord,
)
from inbox.delivery.queue import OutboundQueue, OutboundRequest
from inbox.directory import Customer, User
from inbox.email.automatic import own_domains
from inbox.errors import NotFound
from inbox.ids import new_id
from inbox.observability import logger
from inbox.routing.assignment import AssignmentDecision, Candidate, decide_assignment
from inbox.routing.assignment_rules import RuleType
from inbox.routing.auto_reply import AUTO_REPLY_DAY, MAX_AUTO_REPLIES_PER_DAY, decide_auto_reply
from inbox.routing.events import STATUS_RANK, InboundMessage, StatusEvent
from inbox.store.account_settings import AccountSnapshot
from inbox.store.conversations import (
    AlreadyRouted,
    ConversationStore,
    RoutingContended,
    contact_write,
    event_write,
    mail_ref_write,
    message_key,
    new_conversation_write,
    new_message_write,
    seen_write,
    touch_write,
)
from inbox.store.customers import CustomerStore
from inbox.store.mailbox_sync import count_write
from inbox.store.workloads import Workloads, count_assignment
from inbox.templates.variables import conversation_context
from inbox.timeline import EventType, new_event

COMMIT_ATTEMPTS = 12
RETRY_PAUSE_SECONDS = 0.01
# Rules whose choice depends on workloads: only then are workloads read.
LOAD_RULES = {RuleType.TEAM_BRAND, RuleType.LOAD_BALANCED}


@dataclass(frozen=True)
class Current:
    """What a message is routed by, as it is now: the contact's state (None: a first contact), the
    account with its settings, and the team by user id."""

    contact: ContactState | None
    snapshot: AccountSnapshot
    team: Mapping[str, User]


@dataclass
class Collaborators:
    """What the router reads and writes; tests pass fakes or fixed clocks."""

    # current(account_id, contact address): read afresh for each attempt at a message.
    current: Callable[[str, str], Current]
    conversations: ConversationStore = field(default_factory=ConversationStore)
    customers: CustomerStore = field(default_factory=CustomerStore)
    outbound: Callable[[], OutboundQueue] = OutboundQueue
    clock: Callable[[], datetime] = lambda: datetime.now().astimezone()
    rng: random.Random = field(default_factory=random.Random)


class Router:
    def __init__(self, collaborators: Collaborators) -> None:
        self.c = collaborators

    # Messages

    def route_message(self, message: InboundMessage) -> None:
        store = self.c.conversations
        for attempt in range(COMMIT_ATTEMPTS):
            if attempt:
                # Another router won the same workload or conversation: decide again shortly after, on
                # fresh reads (jittered, so two racing routers do not keep colliding).
                time.sleep(self.c.rng.uniform(0, RETRY_PAUSE_SECONDS * attempt))
            now = self.c.clock()
            plan = self._plan(message, self.c.current(message.account_id, message.contact.address), now)
            try:
                store.commit_routing(plan.seen, plan.writes)
            except AlreadyRouted:
                self._hand_over_pending(message)
                logger.info(
                    "Duplicate inbound message: no second effect",
                    extra={"provider_message_id": message.provider_message_id},
                )
                return
            except RoutingContended:
                continue  # a concurrent change (workload, conversation): decide again on fresh reads
            if plan.reply is not None:
                self.c.outbound().send(plan.reply)
            return
        raise RuntimeError("could not commit the routing of a message after several attempts")

    def _plan(self, message: InboundMessage, current: Current, now: datetime) -> _Plan:
        """Decide everything first (conversation, assignment, auto-reply), then write it all."""
        account = current.snapshot.account
        state = current.contact or ContactState(
            account_id=account.id, address=message.contact.address, first_seen_at=now
        )
        existing = self._existing_conversation(message, state)
        opened: _Opened | None = None
        if existing is None:
            opened = self._open_conversation(message, current, state, now)
            state = opened.state
        conversation_id = opened.conversation.id if opened else str(existing)
        assignee_id = opened.conversation.assignee_id if opened else state.last_assignee_id
        # An email answer in a closed thread reopens it (its assignee's workload counts it again).
        reopened = self._closed_thread(message, existing)
        inbound = _inbound(message, conversation_id, account.id)
        reply = _auto_reply(message, current, state, inbound, assignee_id, now)
        return _writes(message, reply.state, opened, inbound, reply, now, reopened=reopened)

    def _closed_thread(self, message: InboundMessage, existing: str | None) -> Conversation | None:
        """The closed email conversation the message answers (None: none, or it is open). A
        WhatsApp contact's conversation is open by construction: closing frees the contact."""
        if existing is None or message.email is None:
            return None
        try:
            conversation = self.c.conversations.get(existing)
        except NotFound:
            return None
        return conversation if conversation.status is ConversationStatus.CLOSED else None

    def _existing_conversation(self, message: InboundMessage, state: ContactState) -> str | None:
        """The conversation the message joins: WhatsApp, the contact's open one; email, the one
        of the message it answers (In-Reply-To, then References from the latest), else none."""
        if message.email is None:
            return state.open_conversation_id
        answered = [*message.email.in_reply_to, *reversed(message.email.references)]
        return self.c.conversations.thread_of(message.account_id, answered)

    def _open_conversation(
        self, message: InboundMessage, current: Current, state: ContactState, now: datetime
    ) -> _Opened:
        """A first message with no open conversation: the conversation it opens, assigned by the
        account's rules, and the contact's state with it."""
        snapshot = current.snapshot
        account = snapshot.account
        customer = self._customer(message)
        decision, loads = self._assign(snapshot, current.team, customer, state, now)
        conversation = Conversation(
            id=new_id("cnv"),
            account_id=account.id,
            channel=account.channel,
            contact=ContactRef(address=message.contact.address, name=message.contact.name),
            subject=message.email.subject if message.email else None,
            customer_id=customer.id if customer else None,
            assignee_id=decision.assignee_id,
            last_message_at=message.sent_at,
            last_inbound_at=message.sent_at,
            window_expires_at=_window(message),
            created_at=now,
            updated_at=now,
            routing=RoutingRecord(assignment=decision, assigned_at=now if decision.assignee_id else None),
        )
        state = state.model_copy(
            update={
                "open_conversation_id": conversation.id,
                "customer_id": conversation.customer_id,
                "customer_name": customer.name if customer else None,
                "company_name": customer.company_name if customer else None,
                **(
                    {"last_assignee_id": decision.assignee_id, "last_assigned_at": now}
                    if decision.assignee_id
                    else {}
                ),
            }
        )
        return _Opened(conversation=conversation, state=state, loads=loads)

    def _customer(self, message: InboundMessage) -> Customer | None:
        if message.channel is Channel.EMAIL:
            found = self.c.customers.find_by_email(message.contact.address)
        else:
            found = self.c.customers.find_by_phone(message.contact.address)
        return found[0] if found else None

    def _assign(
        self,
        snapshot: AccountSnapshot,
        users: Mapping[str, User],
        customer: Customer | None,
        state: ContactState,
        now: datetime,
    ) -> tuple[AssignmentDecision, Workloads | None]:
        """The decision, and the workloads it was made on (None when no rule looked at them)."""
        rules = snapshot.assignment_rules
        needs_load = any(rule.type in LOAD_RULES for rule in rules.rules)
        loads = self.c.conversations.workloads() if needs_load else {}
        candidates = {
            user_id: Candidate(
                user_id=user_id,
                active=user.active,
                brands=user.brands,
                open_assigned=loads.get(user_id, (0, None))[0],
                last_assigned_at=loads.get(user_id, (0, None))[1],
            )
            for user_id, user in users.items()
        }
        last = None
        if state.last_assignee_id and state.last_assigned_at:
            last = (state.last_assignee_id, state.last_assigned_at)
        decision = decide_assignment(
            rules,
            authorized=snapshot.authorized_users.user_ids,
            users=candidates,
            customer=customer,
            last_assignee=last,
            now=now,
            rng=self.c.rng,
        )
        return decision, loads if needs_load else None

    def _hand_over_pending(self, message: InboundMessage) -> None:
        """A duplicate: hand over again the auto-reply its first routing committed (the sender
        ignores a message it already handled)."""
        pending = self.c.conversations.pending_reply(message.account_id, message.provider_message_id)
        if pending:
            self.c.outbound().send(OutboundRequest.model_validate(pending))

    # Delivery statuses

    def route_status(self, event: StatusEvent) -> bool:
        """Advance the sent message's status (never backwards); False when nothing changed."""
        store = self.c.conversations
        key = store.message_by_provider_id(event.account_id, event.provider_message_id)
        if key is None:
            logger.info(
                "Status for a message we did not send (or not yet recorded)",
                extra={"provider_message_id": event.provider_message_id},
            )
            return False
        return store.advance_status(
            key,
            status=event.status.value,
            rank=STATUS_RANK[event.status],
            at=event.occurred_at,
            error=event.error,
        )


@dataclass
class _Opened:
    """The conversation a message opens, the contact's state after it, and the workloads its
    assignment was decided on (None when no rule looked at them)."""

    conversation: Conversation
    state: ContactState
    loads: Workloads | None


@dataclass
class _Reply:
    """The auto-reply decision for a message, recorded on the conversation; the reply itself and
    its request to the outbound queue when one is sent; the contact's state after it."""

    record: AutoReplyRecord
    outgoing: Message | None
    request: OutboundRequest | None
    state: ContactState


def _window(message: InboundMessage) -> datetime | None:
    """When the WhatsApp service window the message opens closes (email has none)."""
    return None if message.channel is Channel.EMAIL else message.sent_at + SERVICE_WINDOW


def _inbound(message: InboundMessage, conversation_id: str, account_id: str) -> Message:
    """The message as stored in its conversation."""
    return Message(
        id=new_id("msg"),
        conversation_id=conversation_id,
        account_id=account_id,
        direction=Direction.IN,
        type=message.type,
        text=message.text,
        media=message.media,
        status=MessageStatus.RECEIVED,
        provider_message_id=message.provider_message_id,
        created_at=message.sent_at,
        sent_at=message.sent_at,
        raw=message.raw,
        **(message.email.message_fields() if message.email else {}),
    )


def _auto_reply(
    message: InboundMessage,
    current: Current,
    state: ContactState,
    inbound: Message,
    assignee_id: str | None,
    now: datetime,
) -> _Reply:
    """Whether the message gets an auto-reply, and the reply when it does."""
    snapshot, users = current.snapshot, current.team
    account = snapshot.account
    decision = decide_auto_reply(
        snapshot.auto_reply,
        account_status=account.status,
        hours=snapshot.business_hours,
        sent_at=message.sent_at,
        now=now,
        first_contact=current.contact is None,
        last_auto_reply_at=state.last_auto_reply_at,
        headers=message.headers,
        sender=message.contact.address,
        context=_context(message, state, snapshot, users.get(assignee_id) if assignee_id else None),
        own_domains=own_domains(account.address) if message.channel is Channel.EMAIL else (),
        recent_auto_replies=state.recent_auto_replies,
    )
    record = AutoReplyRecord(inbound_message_id=inbound.id, decided_at=now, decision=decision)
    if not (decision.send and decision.text):
        return _Reply(record=record, outgoing=None, request=None, state=state)
    outgoing = Message(
        id=new_id("msg"),
        conversation_id=inbound.conversation_id,
        account_id=account.id,
        direction=Direction.OUT,
        text=decision.text,
        sent_by=AUTO_REPLY,
        status=MessageStatus.QUEUED,
        created_at=now,
        **(message.email.reply_fields(account.address, automatic=True) if message.email else {}),
    )
    key = message_key(outgoing)
    request = OutboundRequest(
        account_id=account.id,
        conversation_id=inbound.conversation_id,
        message_pk=key["pk"],
        message_sk=key["sk"],
        to=message.contact.address,
    )
    return _Reply(
        record=record.model_copy(update={"reply_message_id": outgoing.id}),
        outgoing=outgoing,
        request=request,
        state=state.model_copy(
            update={
                "last_auto_reply_at": now,
                "recent_auto_replies": [
                    *(at for at in state.recent_auto_replies if now - at < AUTO_REPLY_DAY),
                    now,
                ][-MAX_AUTO_REPLIES_PER_DAY:],
            }
        ),
    )


def _writes(
    message: InboundMessage,
    state: ContactState,
    opened: _Opened | None,
    inbound: Message,
    reply: _Reply,
    now: datetime,
    *,
    reopened: Conversation | None = None,
) -> _Plan:
    """Everything decided for the message, as the writes of one transaction."""
    account_id, conversation_id = inbound.account_id, inbound.conversation_id
    # The dedupe record: its condition is what makes a replay a no-op.
    seen = seen_write(
        account_id,
        message.provider_message_id,
        conversation_id=conversation_id,
        message_id=inbound.id,
        pending_reply=reply.request,
    )
    writes: list[dict[str, Any]] = []
    if opened is not None:
        conversation = opened.conversation
        conversation.routing.auto_reply = reply.record
        writes.append(new_conversation_write(conversation))
        if conversation.assignee_id:
            writes.append(count_assignment(conversation.assignee_id, now, opened.loads))
            assigned = new_event(
                conversation_id, EventType.ASSIGNED, now, None, assignee_id=conversation.assignee_id
            )
            writes.append(event_write(assigned))
    else:
        writes.append(
            touch_write(
                conversation_id,
                message.sent_at,
                _window(message),
                now,
                reply.record,
                reopening=reopened is not None,
            )
        )
        if reopened is not None:
            writes.append(
                event_write(new_event(conversation_id, EventType.REOPENED, now, None, message_id=inbound.id))
            )
            if reopened.assignee_id:
                writes.append(count_assignment(reopened.assignee_id, now, None))
    if reply.outgoing is not None:
        writes.append(new_message_write(reply.outgoing))
        answered = new_event(
            conversation_id, EventType.AUTO_REPLY, now, AUTO_REPLY, message_id=reply.outgoing.id
        )
        writes.append(event_write(answered))
        if reply.outgoing.message_id:  # a reply to our auto-reply joins this conversation
            writes.append(mail_ref_write(account_id, reply.outgoing.message_id, conversation_id))
    writes.append(contact_write(account_id, state))
    writes.append(new_message_write(inbound))
    if message.email is not None:
        if message.email.message_id:
            writes.append(mail_ref_write(account_id, message.email.message_id, conversation_id))
        writes.append(count_write(account_id, "imported"))
    return _Plan(seen=seen, writes=writes, reply=reply.request)


@dataclass
class _Plan:
    seen: dict[str, Any]  # the dedupe record, written first
    writes: list[dict[str, Any]]
    reply: OutboundRequest | None


def _context(
    message: InboundMessage, state: ContactState, snapshot: AccountSnapshot, assignee: User | None
) -> dict[str, str | None]:
    """What an auto-reply's variables can say about this conversation."""
    return conversation_context(
        account=snapshot.account,
        contact_name=message.contact.name,
        customer_name=state.customer_name,
        company_name=state.company_name,
        assignee=assignee,
    )
