"""What the channels put on the inbound queue for the router: one normalized model for every
provider (Meta, Twilio, and email later), so the router never looks at a provider's payload.

Four kinds of events travel the queue:
- `message`: a contact wrote to one of our accounts (WhatsApp);
- `mail`: the email poller fetched a message: a reference to its raw bytes in the mail bucket
  (SQS's 256 KiB would not hold a mail with attachments); the router parses it
  (`inbox.email.inbound`) into a `message`, or quarantines it;
- `status`: a provider reports on a message we sent (sent, delivered, read, failed);
- `template_status`: Meta reviewed a message template (approved, rejected ...).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from inbox.accounts.models import Channel, Provider
from inbox.model import Model


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    DOCUMENT = "document"
    AUDIO = "audio"
    VIDEO = "video"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"  # a reply to our buttons or list
    BUTTON = "button"  # a template quick-reply button
    REACTION = "reaction"
    EMAIL = "email"
    UNSUPPORTED = "unsupported"  # the provider could not deliver it to us (e.g. a poll)
    UNKNOWN = "unknown"  # a type this version does not know: kept raw, never dropped


class Contact(Model):
    """Who wrote: an E.164 number (WhatsApp) or an email address, with the name they go by."""

    address: str
    name: str | None = None
    provider_id: str | None = None  # Meta's wa_id, Twilio's WaId
    # Meta's business-scoped user id (BSUID, "US.1349…") and WhatsApp username (2026 onwards): a user
    # with a username may hide their number, and the BSUID is then the only stable key.
    user_id: str | None = None
    username: str | None = None


class Media(Model):
    """An attachment; Meta gives a media id to download, Twilio a URL."""

    provider_media_id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None


class Location(Model):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class Reply(Model):
    """The button or list row a contact chose (`interactive`), or a template button (`button`)."""

    id: str | None = None
    title: str | None = None
    description: str | None = None  # a list row's description


class Reaction(Model):
    message_id: str
    emoji: str | None = None  # None: the reaction was removed


class EmailAddress(Model):
    address: str
    name: str | None = None


class Attachment(Model):
    """An email attachment (or inline image) kept in the mail bucket at `key`."""

    id: str
    filename: str | None = None
    content_type: str
    size: int
    content_id: str | None = Field(default=None, description="for inline images (cid:)")
    inline: bool = False
    key: str = Field(exclude=True)


class EmailDetails(Model):
    """What an email message has beyond its text: its headers' meaning, its HTML, its files."""

    subject: str | None = None
    sender: EmailAddress | None = None
    to: list[EmailAddress] = Field(default_factory=list)
    cc: list[EmailAddress] = Field(default_factory=list)
    message_id: str | None = None
    in_reply_to: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    html: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    raw_key: str
    body_truncated: bool = False
    thread_id: str | None = None  # the provider's thread (Gmail's threadId): replies go into it

    def reply_fields(self, account_address: str, *, automatic: bool) -> dict[str, Any]:
        """What a reply to this email records before it is sent: its own Message-ID (chosen now,
        so a retry sends the same), its subject, and what it answers (In-Reply-To, References)."""
        from inbox.email.compose import new_message_id, reply_subject

        domain = account_address.rsplit("@", 1)[-1]
        return {
            "message_id": new_message_id(domain),
            "subject": reply_subject(self.subject, automatic=automatic),
            "in_reply_to": self.message_id,
            "references": [*self.references, *([self.message_id] if self.message_id else [])] or None,
            "thread_id": self.thread_id,
        }

    def message_fields(self) -> dict[str, Any]:
        """What the stored message (`inbox.conversations.Message`) keeps of it."""
        return {
            "subject": self.subject,
            "from_": self.sender,
            "to": self.to,
            "cc": self.cc,
            "message_id": self.message_id,
            # What it answers: an agent's reply to it carries them on (RFC 5322 §3.6.4).
            "in_reply_to": self.in_reply_to[0] if self.in_reply_to else None,
            "references": self.references or None,
            "html": self.html,
            "attachments": self.attachments,
            "raw_key": self.raw_key,
            "body_truncated": self.body_truncated or None,
            "thread_id": self.thread_id,
        }


class InboundMessage(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["message"] = "message"
    account_id: str
    channel: Channel
    provider: Provider
    provider_message_id: str = Field(description="the router's durable dedupe key, with account_id")
    contact: Contact
    sent_at: datetime = Field(description="when the contact sent it, by the provider's clock")
    received_at: datetime = Field(description="when our webhook or poller received it")
    type: MessageType
    text: str | None = None
    media: list[Media] = Field(default_factory=list)
    location: Location | None = None
    reply: Reply | None = None
    reaction: Reaction | None = None
    contacts: list[dict[str, Any]] = Field(default_factory=list)
    reply_to_provider_id: str | None = None  # the message this one answers (WhatsApp context)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict, description="email headers (RFC 3834 checks)")
    email: EmailDetails | None = None
    raw: dict[str, Any] = Field(default_factory=dict, description="the provider's own object")


class InboundMail(Model):
    """A fetched email, kept raw in the mail bucket at `raw_key`; `identity` is its identity in the
    account (`inbox.email.parsing.message_identity`), the router's dedupe key."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["mail"] = "mail"
    account_id: str
    provider: Provider
    identity: str
    raw_key: str
    size: int
    arrived_at: datetime = Field(description="when it arrived in the mailbox (IMAP INTERNALDATE)")
    received_at: datetime = Field(description="when the poller fetched it")
    folder: str
    thread_id: str | None = Field(default=None, description="the provider's thread (Gmail's threadId)")


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


# A status never moves backwards: a later event of lower rank is ignored (read implies delivered).
STATUS_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}


def advance(current: DeliveryStatus | None, reported: DeliveryStatus) -> DeliveryStatus:
    """The status a sent message has once a provider reports `reported`: reports arrive out of
    order, so a status never moves backwards (a late `delivered` after `read` changes nothing)."""
    if current is None or STATUS_RANK[reported] > STATUS_RANK[current]:
        return reported
    return current


class ProviderError(Model):
    code: str
    title: str | None = None
    message: str | None = None
    # True when the provider refused free text because the 24-hour window is closed (Meta 131047,
    # Twilio 63016): the agent can answer with an approved template instead.
    window_closed: bool | None = None


class StatusEvent(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["status"] = "status"
    account_id: str
    provider: Provider
    provider_message_id: str
    status: DeliveryStatus
    occurred_at: datetime
    recipient: str | None = None
    error: ProviderError | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class TemplateStatusEvent(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["template_status"] = "template_status"
    provider: Provider
    waba_id: str
    provider_template_id: str
    name: str | None = None
    language: str | None = None
    event: str  # APPROVED, REJECTED, PENDING, PAUSED, DISABLED ...
    reason: str | None = None
    occurred_at: datetime
    raw: dict[str, Any] = Field(default_factory=dict)


InboundEvent = Annotated[
    InboundMessage | InboundMail | StatusEvent | TemplateStatusEvent, Field(discriminator="kind")
]
AnyEvent = InboundMessage | InboundMail | StatusEvent | TemplateStatusEvent


class QueuedEvent(Model):
    """The body of an inbound-queue message."""

    event: InboundEvent


def group_id(event: AnyEvent) -> str:
    """The FIFO group: one contact's events on one account are routed in order, one at a time;
    an email account's mail in order, one at a time (a reply, whoever sends it, must find the
    conversation its parent opened)."""
    if isinstance(event, InboundMail):
        return _short(f"mail|{event.account_id}")
    if isinstance(event, InboundMessage):
        return _short(f"{event.account_id}|{event.contact.address}")
    if isinstance(event, StatusEvent):
        return _short(f"{event.account_id}|{event.recipient or event.provider_message_id}")
    return _short(f"templates|{event.waba_id}")


def deduplication_id(event: AnyEvent) -> str:
    """Same provider event, same id: SQS drops repeats within its 5-minute window (the router keeps
    a durable record for later repeats)."""
    if isinstance(event, InboundMail):
        return _short(f"mail|{event.account_id}|{event.identity}")
    if isinstance(event, InboundMessage):
        return _short(f"message|{event.account_id}|{event.provider_message_id}")
    if isinstance(event, StatusEvent):
        return _short(f"status|{event.account_id}|{event.provider_message_id}|{event.status}")
    return _short(f"template|{event.provider_template_id}|{event.event}|{event.occurred_at.isoformat()}")


def _short(value: str) -> str:
    # SQS limits group and deduplication ids to 128 characters of a restricted alphabet.
    return hashlib.sha256(value.encode()).hexdigest()
