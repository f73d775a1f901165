"""A conversation's timeline (`GET /v1/conversations/{id}/events`): everything that happened to
it and by whom, one item per event in the conversation's partition, written in the same
transaction as the change it records (so a change without its event, or the reverse, never is).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from inbox.conversations import LabelRef
from inbox.ids import new_id
from inbox.model import Model


class EventType(StrEnum):
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    LABELLED = "labelled"
    UNLABELLED = "unlabelled"
    CLOSED = "closed"
    REOPENED = "reopened"
    AUTO_REPLY = "auto_reply"
    REPLIED = "replied"


class ConversationEvent(Model):
    id: str
    conversation_id: str
    type: EventType
    at: datetime
    by: str | None = None  # a user id, "auto_reply", or None (the product: routing, a new message)
    message_id: str | None = None  # replied, auto_reply
    assignee_id: str | None = None  # assigned: the new one; unassigned: the one before
    label: LabelRef | None = None  # labelled, unlabelled (as the label was then)


def new_event(
    conversation_id: str, type: EventType, at: datetime, by: str | None, **fields: object
) -> ConversationEvent:
    return ConversationEvent.model_validate(
        {"id": new_id("evt"), "conversation_id": conversation_id, "type": type, "at": at, "by": by, **fields}
    )
