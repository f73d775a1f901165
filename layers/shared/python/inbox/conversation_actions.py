"""Working a conversation (CONTRACT.md, "Agents' write API"): its labels, its assignee, closing and
reopening it.

Each change is one transaction with its timeline events (`inbox.timeline`), conditioned on the
conversation being as it was read: of two agents changing it at once, one wins and the other's
change is decided again on a fresh read (never applied to a stale one). The workload counters
(`inbox.store.workloads`: each user's open assigned conversations, which balanced assignment
reads) move in the same transaction, so they stay exact: +1 to whom an open conversation is
assigned, -1 from whom it is taken, -1 when it closes, +1 when it reopens.

WhatsApp: closing also frees the contact (its state stops pointing at the conversation), so the
contact's next message opens a new conversation, routed afresh. Email: an answer in a closed
thread reopens it (`inbox.routing.router`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from inbox.access import Caller
from inbox.accounts.models import Channel
from inbox.conversations import Conversation, ConversationStatus, LabelRef
from inbox.errors import Conflict, FieldProblem, Invalid, NotFound
from inbox.labels import Label, LabelCreate
from inbox.model import Model
from inbox.store.account_settings import AccountSettingsStore
from inbox.store.conversations import (
    ConversationStore,
    conversation_write,
    event_write,
    free_contact_write,
)
from inbox.store.labels import LabelStore
from inbox.store.users import UserStore
from inbox.store.workloads import count_assignment, uncount_assignment
from inbox.timeline import EventType, new_event

ATTEMPTS = 6
LabelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class LabelsChange(Model):
    model_config = ConfigDict(extra="forbid")

    labels: list[LabelName] = Field(max_length=50, description="label names or ids, the whole new set")
    create_missing: bool = Field(default=False, strict=True, description="create the names no label has")


class AssigneeChange(Model):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(
        default=None, description="an active user authorized for the account; null: nobody"
    )


@dataclass(frozen=True)
class Stores:
    conversations: ConversationStore
    labels: LabelStore
    users: UserStore
    settings: AccountSettingsStore


def default_stores() -> Stores:
    """The stores as the deployed functions have them (the API's)."""
    return Stores(
        conversations=ConversationStore(),
        labels=LabelStore(),
        users=UserStore(),
        settings=AccountSettingsStore(),
    )


Writes = list[dict[str, Any]]


def set_labels(caller: Caller, conversation_id: str, change: LabelsChange, *, stores: Stores) -> Conversation:
    wanted = _labels(change, stores.labels)

    def decide(conversation: Conversation, now: datetime) -> tuple[Conversation, Writes]:
        before = {label.id: label for label in conversation.labels}
        after = {label.id: LabelRef(id=label.id, name=label.name, color=label.color) for label in wanted}
        events = [
            new_event(conversation.id, EventType.LABELLED, now, caller.user_id, label=ref)
            for label_id, ref in after.items()
            if label_id not in before
        ] + [
            new_event(conversation.id, EventType.UNLABELLED, now, caller.user_id, label=ref)
            for label_id, ref in before.items()
            if label_id not in after
        ]
        changed = conversation.model_copy(update={"labels": list(after.values()), "updated_at": now})
        return changed, [event_write(event) for event in events] if events else []

    return _apply(conversation_id, stores, decide)


def set_assignee(
    caller: Caller, conversation_id: str, change: AssigneeChange, *, stores: Stores
) -> Conversation:
    def decide(conversation: Conversation, now: datetime) -> tuple[Conversation, Writes]:
        previous, new = conversation.assignee_id, change.user_id
        if previous == new:
            return conversation, []
        if new is not None:
            _check_assignable(new, conversation.account_id, stores)
        writes: Writes = []
        if conversation.status is ConversationStatus.OPEN:
            if previous:
                writes.append(uncount_assignment(previous))
            if new:
                writes.append(count_assignment(new, now, None))
        if previous:
            writes.append(
                event_write(
                    new_event(
                        conversation.id, EventType.UNASSIGNED, now, caller.user_id, assignee_id=previous
                    )
                )
            )
        if new:
            writes.append(
                event_write(
                    new_event(conversation.id, EventType.ASSIGNED, now, caller.user_id, assignee_id=new)
                )
            )
        return conversation.model_copy(update={"assignee_id": new, "updated_at": now}), writes

    return _apply(conversation_id, stores, decide)


def close(caller: Caller, conversation_id: str, *, stores: Stores) -> Conversation:
    def decide(conversation: Conversation, now: datetime) -> tuple[Conversation, Writes]:
        if conversation.status is ConversationStatus.CLOSED:
            return conversation, []
        writes: Writes = [event_write(new_event(conversation.id, EventType.CLOSED, now, caller.user_id))]
        if conversation.assignee_id:
            writes.append(uncount_assignment(conversation.assignee_id))
        if conversation.channel is Channel.WHATSAPP:
            freed = free_contact_write(stores.conversations, conversation)
            writes += [freed] if freed else []
        return conversation.model_copy(
            update={"status": ConversationStatus.CLOSED, "updated_at": now}
        ), writes

    return _apply(conversation_id, stores, decide)


def reopen(caller: Caller, conversation_id: str, *, stores: Stores) -> Conversation:
    def decide(conversation: Conversation, now: datetime) -> tuple[Conversation, Writes]:
        if conversation.status is ConversationStatus.OPEN:
            return conversation, []
        if conversation.channel is Channel.WHATSAPP:
            current = stores.conversations.contact(conversation.account_id, conversation.contact.address)
            if current is not None and current.open_conversation_id not in (None, conversation.id):
                raise Conflict(
                    "The contact has a newer open conversation: answer there.", code="conversation_superseded"
                )
        writes: Writes = [event_write(new_event(conversation.id, EventType.REOPENED, now, caller.user_id))]
        if conversation.assignee_id:
            writes.append(count_assignment(conversation.assignee_id, now, None))
        if conversation.channel is Channel.WHATSAPP:
            writes.append(stores.conversations.claim_contact_write(conversation))
        return conversation.model_copy(update={"status": ConversationStatus.OPEN, "updated_at": now}), writes

    return _apply(conversation_id, stores, decide)


def _apply(
    conversation_id: str,
    stores: Stores,
    decide: Callable[[Conversation, datetime], tuple[Conversation, Writes]],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Conversation:
    """Read, decide, write with the condition that nothing changed since the read; again on a
    fresh read when something did."""
    for attempt in range(ATTEMPTS):
        if attempt:  # jittered: two agents racing do not keep colliding
            time.sleep(random.uniform(0, 0.02 * attempt))
        conversation, version = stores.conversations.read(conversation_id)
        changed, writes = decide(conversation, clock())
        if not writes and changed == conversation:
            return conversation
        try:
            stores.conversations.commit([conversation_write(changed, version), *writes])
        except Conflict:
            continue
        return changed
    raise Conflict("The conversation kept changing meanwhile: try again.", code="conversation_changed")


def _labels(change: LabelsChange, labels: LabelStore) -> list[Label]:
    """The labels named (by id or by name, any case), created when asked; 422 for the others."""
    found: list[Label] = []
    unknown: list[str] = []
    for given in dict.fromkeys(change.labels):
        label_id = given if given.startswith("lbl_") else labels.id_by_name(given)
        label = None
        if label_id is not None:
            try:
                label = labels.get(label_id)
            except NotFound:
                label = None
        if label is None and change.create_missing and not given.startswith("lbl_"):
            label = _created(labels, given)
        if label is None:
            unknown.append(given)
        elif label.id not in {f.id for f in found}:
            found.append(label)
    if unknown:
        raise Invalid(
            f"No label named {', '.join(unknown)}: create it, or pass create_missing.",
            code="unknown_label",
            details=[
                FieldProblem(f"labels[{change.labels.index(name)}]", "no such label") for name in unknown
            ],
        )
    return found


def _created(labels: LabelStore, name: str) -> Label:
    try:
        return labels.create(LabelCreate(name=name))
    except Conflict:  # created meanwhile by another request: that one
        label_id = labels.id_by_name(name)
        if label_id is None:
            raise
        return labels.get(label_id)


def _check_assignable(user_id: str, account_id: str, stores: Stores) -> None:
    try:
        user = stores.users.get(user_id)
    except NotFound:
        user = None
    problem = None
    if user is None:
        problem = f"no user with id {user_id!r}"
    elif not user.active:
        problem = f"{user.name} is not active"
    elif not stores.settings.authorizes(account_id, user_id):
        problem = f"{user.name} is not authorized for this account"
    if problem:
        raise Invalid(
            f"user_id: {problem}", code="assignee_not_allowed", details=[FieldProblem("user_id", problem)]
        )
