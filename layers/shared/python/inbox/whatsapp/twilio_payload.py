"""Twilio's WhatsApp webhook parameters (form fields), read into the normalized events of
`inbox.routing.events`: an inbound message (`message_of`) or a status callback on a message we sent
(`status_of`).

Pure functions, no I/O. Twilio adds parameters without notice: unknown ones are ignored here and
kept in `raw`. Numbers come as `whatsapp:+E164`; the events carry the bare E.164 number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from inbox.accounts.models import Channel, Provider
from inbox.routing.events import (
    Contact,
    DeliveryStatus,
    InboundMessage,
    Location,
    Media,
    MessageType,
    ProviderError,
    Reply,
    StatusEvent,
)
from inbox.whatsapp import MalformedPayload

ADDRESS_PREFIX = "whatsapp:"
MAX_MEDIA = 10  # Twilio's NumMedia never exceeds 10; a larger value is not trusted

STATUSES = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def sender_number(params: Mapping[str, str]) -> str:
    """Who sent the message (`From`), as E.164: the contact for an inbound message, our own number
    in a status callback. Raises `MalformedPayload` when From is missing."""
    return _number_at(params, "From")


def business_number(params: Mapping[str, str]) -> str:
    """Where the message went (`To`), as E.164: our number for an inbound message, the contact in a
    status callback. Raises `MalformedPayload` when To is missing."""
    return _number_at(params, "To")


def is_status_callback(params: Mapping[str, str]) -> bool:
    """Whether the request reports on a message we sent. Inbound messages carry
    `SmsStatus=received` and no `MessageStatus`; status callbacks carry `MessageStatus`."""
    status = (params.get("MessageStatus") or "").strip().lower()
    return status not in ("", "received", "receiving")


def message_of(params: Mapping[str, str], *, account_id: str, received_at: datetime) -> InboundMessage:
    """The contact's message. Twilio sends no sender timestamp: `sent_at` is `received_at`.

    The type follows what the parameters hold, in this order: a button (`ButtonPayload`,
    `ButtonText`: a template or quick-reply button), a list choice (`ListId`, `ListTitle`), a
    location (`Latitude`, `Longitude`), media (`MediaUrl0` to `MediaUrl{NumMedia-1}`, typed by the first
    one's content type; `Body` is the caption), text (`Body`); anything else is `UNKNOWN`.
    Raises `MalformedPayload` when MessageSid or From is missing.
    """
    message_id = _value(params, "MessageSid")
    if message_id is None:
        raise MalformedPayload("the request has no MessageSid")
    body = params.get("Body") or None
    media = _media(params)
    message_type, text = MessageType.UNKNOWN, body
    reply: Reply | None = None
    location: Location | None = None
    if _value(params, "ButtonPayload") or _value(params, "ButtonText"):
        reply = Reply(id=_value(params, "ButtonPayload"), title=_value(params, "ButtonText"))
        message_type, text = MessageType.BUTTON, reply.title or body
    elif _value(params, "ListId") or _value(params, "ListTitle"):
        reply = Reply(id=_value(params, "ListId"), title=_value(params, "ListTitle"))
        message_type, text = MessageType.INTERACTIVE, reply.title or body
    elif (location := _location(params)) is not None:
        message_type = MessageType.LOCATION
    elif media:
        message_type = _media_type(media[0].mime_type)
    elif body is not None:
        message_type = MessageType.TEXT
    return InboundMessage(
        account_id=account_id,
        channel=Channel.WHATSAPP,
        provider=Provider.TWILIO,
        provider_message_id=message_id,
        contact=Contact(
            address=sender_number(params),
            name=_value(params, "ProfileName"),
            provider_id=_value(params, "WaId"),
        ),
        sent_at=received_at,
        received_at=received_at,
        type=message_type,
        text=text,
        media=media,
        location=location,
        reply=reply,
        reply_to_provider_id=_value(params, "OriginalRepliedMessageSid"),
        raw=dict(params),
    )


def status_of(params: Mapping[str, str], *, account_id: str, occurred_at: datetime) -> StatusEvent | None:
    """What Twilio reports on a message we sent; None for a status we do not track (such as
    `received`, or one Twilio adds later). `queued`, `accepted`, `scheduled` and `sending` are
    `QUEUED`; `failed`, `undelivered` and `canceled` are `FAILED`, with `ErrorCode` (and
    `ErrorMessage` when given) as the error. Raises `MalformedPayload` without MessageSid."""
    message_id = _value(params, "MessageSid")
    if message_id is None:
        raise MalformedPayload("the request has no MessageSid")
    status = STATUSES.get((params.get("MessageStatus") or "").strip().lower())
    if status is None:
        return None
    code = _value(params, "ErrorCode")
    return StatusEvent(
        account_id=account_id,
        provider=Provider.TWILIO,
        provider_message_id=message_id,
        status=status,
        occurred_at=occurred_at,
        recipient=business_number(params) if _value(params, "To") else None,
        error=ProviderError(code=code, message=_value(params, "ErrorMessage")) if code else None,
        raw=dict(params),
    )


def _value(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    return (value.strip() or None) if isinstance(value, str) else None


def _number_at(params: Mapping[str, str], name: str) -> str:
    value = _value(params, name)
    if value is None:
        raise MalformedPayload(f"the request has no {name}")
    number = value.removeprefix(ADDRESS_PREFIX).strip()
    # A `+` decoded as a space by a careless form parser leaves bare digits.
    return "+" + number if number.isdigit() else number


def _media(params: Mapping[str, str]) -> list[Media]:
    try:
        count = min(int(params.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    found = []
    for index in range(count):
        url = _value(params, f"MediaUrl{index}")
        if url is not None:
            found.append(Media(url=url, mime_type=_value(params, f"MediaContentType{index}")))
    return found


def _media_type(mime_type: str | None) -> MessageType:
    family = (mime_type or "").split("/", 1)[0].lower()
    return {"image": MessageType.IMAGE, "video": MessageType.VIDEO, "audio": MessageType.AUDIO}.get(
        family, MessageType.DOCUMENT
    )


def _location(params: Mapping[str, str]) -> Location | None:
    try:
        latitude, longitude = float(params["Latitude"]), float(params["Longitude"])
    except (KeyError, ValueError):
        return None
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=_value(params, "Label"),
        address=_value(params, "Address"),
    )
