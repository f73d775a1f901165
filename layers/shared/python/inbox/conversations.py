"""Conversations and their messages: what agents read and answer.

A WhatsApp conversation is the contact's open conversation on one account; the contact's state
(`ContactState`) points at it, so finding it is one read (email threading by Message-ID will
point at conversations the same way). Every routing decision is kept on the conversation
(`RoutingRecord`), so "why is this mine?" and "why did they get that reply?" have answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from inbox.accounts.models import Channel
from inbox.model import Model
from inbox.routing.assignment import AssignmentDecision
from inbox.routing.auto_reply import AutoReplyDecision
from inbox.routing.events import Attachment, DeliveryStatus, EmailAddress, Media, MessageType, ProviderError
from inbox.whatsapp.template_message import TemplateMessage

# The customer-service window: after a contact's last message, anything may be sent for 24 hours.
SERVICE_WINDOW = timedelta(hours=24)


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ContactRef(Model):
    address: str
    name: str | None = None


class LabelRef(Model):
    id: str
    name: str
    color: str


class AutoReplyRecord(Model):
    """The auto-reply decision taken for one inbound message."""

    inbound_message_id: str
    decided_at: datetime
    decision: AutoReplyDecision
    reply_message_id: str | None = None


class RoutingRecord(Model):
    """Why the conversation is where it is: the assignment (decided once, when it opened) and the
    auto-reply decision for its latest inbound message (each message keeps its own too)."""

    assignment: AssignmentDecision | None = None
    assigned_at: datetime | None = None
    auto_reply: AutoReplyRecord | None = None


class Conversation(Model):
    id: str
    account_id: str
    channel: Channel
    contact: ContactRef
    subject: str | None = None  # email: the subject of the message that opened it
    customer_id: str | None = None
    status: ConversationStatus = ConversationStatus.OPEN
    assignee_id: str | None = None
    labels: list[LabelRef] = Field(default_factory=list)
    last_message_at: datetime
    last_inbound_at: datetime | None = None
    window_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    context: dict[str, str] = Field(
        default_factory=dict, description="e.g. quote_number, set by integrations"
    )
    routing: RoutingRecord = Field(default_factory=RoutingRecord)


class ConversationSummary(Model):
    """A conversation as lists show it (CONTRACT.md); the routing record is in the detail only."""

    id: str
    account_id: str
    channel: Channel
    contact: ContactRef
    subject: str | None = None
    customer_id: str | None = None
    status: ConversationStatus
    assignee_id: str | None = None
    labels: list[LabelRef] = Field(default_factory=list)
    last_message_at: datetime
    window_expires_at: datetime | None = None


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class MessageStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENDING = "sending"  # claimed by the sender, the provider being called
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


AUTO_REPLY = "auto_reply"  # `sent_by` of automatic messages


class Message(Model):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    conversation_id: str
    account_id: str
    direction: Direction
    type: MessageType = MessageType.TEXT
    text: str | None = None
    html: str | None = None
    media: list[Media] = Field(default_factory=list)
    # Email: the headers' meaning and the files (kept in the mail bucket; `raw_key`: the raw mail).
    subject: str | None = None
    from_: EmailAddress | None = Field(default=None, alias="from")
    to: list[EmailAddress] | None = None
    cc: list[EmailAddress] | None = None
    message_id: str | None = None
    in_reply_to: str | None = Field(default=None, description="email: the Message-ID this one answers")
    references: list[str] | None = None
    # Email: the provider's thread (Gmail's threadId), so a reply is sent into it; internal.
    thread_id: str | None = Field(default=None, exclude=True)
    attachments: list[Attachment] | None = None
    body_truncated: bool | None = Field(
        default=None, description="text or HTML cut at 100 KB to fit the store; the raw mail is whole"
    )
    raw_key: str | None = Field(default=None, exclude=True)
    sent_by: str | None = None  # "auto_reply", a user id, or None (the contact)
    template_id: str | None = Field(default=None, description="the template the reply was written from")
    # WhatsApp: the approved template as the provider is sent it (with the values); internal.
    template: TemplateMessage | None = Field(default=None, exclude=True)
    status: MessageStatus
    error: ProviderError | None = None
    provider_message_id: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)


class ContactState(Model):
    """What the router knows of one contact on one account, in one read."""

    account_id: str
    address: str
    first_seen_at: datetime
    open_conversation_id: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    company_name: str | None = None
    last_assignee_id: str | None = None
    last_assigned_at: datetime | None = None
    last_auto_reply_at: datetime | None = None
    # The auto-replies of the last 24 hours (the daily cap's count; older ones are dropped).
    recent_auto_replies: list[datetime] = Field(default_factory=list)


def delivery_to_message_status(status: DeliveryStatus) -> MessageStatus:
    return MessageStatus(status.value)
