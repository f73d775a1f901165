"""Meta's WhatsApp Cloud API webhook payloads, read into the normalized events of `inbox.routing.events`.

Pure functions, no I/O. The envelope must be a WhatsApp Business webhook (`MalformedPayload`
otherwise). Inside it Meta adds message types and fields without notice: a message of a type this
version does not know is kept as `MessageType.UNKNOWN` with its raw object, and a missing optional
field is None, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from inbox.accounts.models import Channel, Provider
from inbox.routing.events import (
    Contact,
    DeliveryStatus,
    InboundMessage,
    Location,
    Media,
    MessageType,
    ProviderError,
    Reaction,
    Reply,
    StatusEvent,
    TemplateStatusEvent,
)
from inbox.whatsapp import MalformedPayload

OBJECT = "whatsapp_business_account"
TEMPLATE_STATUS_FIELD = "message_template_status_update"

MEDIA_TYPES = {
    "image": MessageType.IMAGE,
    "document": MessageType.DOCUMENT,
    "audio": MessageType.AUDIO,
    "video": MessageType.VIDEO,
    "sticker": MessageType.STICKER,
}

# `played`: a voice message we sent was listened to, which says at least as much as `read`.
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class MetaChange:
    """One `entry[].changes[]` item, with what its entry says: the WABA id and, when given, the time."""

    waba_id: str
    field: str
    value: dict[str, Any]
    entry_time: datetime | None = None  # `entry[].time`; Meta sends it with template updates

    @property
    def phone_number_id(self) -> str | None:
        """The business number the change concerns (`value.metadata.phone_number_id`): the account key."""
        return _identifier(_object(self.value.get("metadata")).get("phone_number_id"))

    @property
    def display_phone_number(self) -> str | None:
        return _identifier(_object(self.value.get("metadata")).get("display_phone_number"))


def changes(payload: Any) -> list[MetaChange]:
    """Every change of every entry, in the order Meta sent them (one POST batches many).

    Raises `MalformedPayload` when the payload is not a WhatsApp Business webhook: another
    `object`, `entry` or `changes` not lists, an entry without id, a change without field or value.
    """
    if not isinstance(payload, dict):
        raise MalformedPayload("the payload is not a JSON object")
    if payload.get("object") != OBJECT:
        raise MalformedPayload(f"object is {payload.get('object')!r}, not {OBJECT!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload("entry is not a list")
    found: list[MetaChange] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise MalformedPayload(f"entry[{index}] is not an object")
        waba_id = _identifier(entry.get("id"))
        if waba_id is None:
            raise MalformedPayload(f"entry[{index}] has no id")
        entry_changes = entry.get("changes")
        if not isinstance(entry_changes, list):
            raise MalformedPayload(f"entry[{index}].changes is not a list")
        entry_time = _unix_time(entry.get("time"))
        for position, change in enumerate(entry_changes):
            where = f"entry[{index}].changes[{position}]"
            if not isinstance(change, dict):
                raise MalformedPayload(f"{where} is not an object")
            name = change.get("field")
            value = change.get("value")
            if not isinstance(name, str) or not name:
                raise MalformedPayload(f"{where} has no field")
            if not isinstance(value, dict):
                raise MalformedPayload(f"{where} has no value")
            found.append(MetaChange(waba_id=waba_id, field=name, value=value, entry_time=entry_time))
    return found


def messages_of(change: MetaChange, *, account_id: str, received_at: datetime) -> list[InboundMessage]:
    """The contacts' messages of the change (`value.messages[]`), in order.

    The sender is `+` and `from`; a user who hides their number behind a username (2026 onwards)
    has only a business-scoped user id (`from_user_id`), which then stands as the address. An
    item that is not an object, or has no id or no sender at all, cannot be deduplicated or routed:
    it is skipped. `sent_at` is the message's timestamp, or `received_at` when it has none.
    """
    contacts = _objects(_list_at(change.value, "contacts"))
    found: list[InboundMessage] = []
    for raw in _list_at(change.value, "messages"):
        if isinstance(raw, dict):
            message = _message(raw, contacts=contacts, account_id=account_id, received_at=received_at)
            if message is not None:
                found.append(message)
    return found


def statuses_of(change: MetaChange, *, account_id: str) -> list[StatusEvent]:
    """What Meta reports on the messages we sent (`value.statuses[]`), in order.

    `sent`, `delivered`, `read` and `failed` map to their `DeliveryStatus`; `played` (a voice
    message listened to) to `read`. Any other status (`deleted`, `warning`, or one Meta adds later)
    is skipped: nothing is returned for it. So is an item without id or timestamp.
    """
    found: list[StatusEvent] = []
    for raw in _list_at(change.value, "statuses"):
        if not isinstance(raw, dict):
            continue
        message_id = _identifier(raw.get("id"))
        status = STATUSES.get(str(raw.get("status")).lower())
        occurred_at = _unix_time(raw.get("timestamp"))
        if message_id is None or status is None or occurred_at is None:
            continue
        recipient_id = _identifier(raw.get("recipient_id"))
        found.append(
            StatusEvent(
                account_id=account_id,
                provider=Provider.META_CLOUD,
                provider_message_id=message_id,
                status=status,
                occurred_at=occurred_at,
                recipient=_e164(recipient_id) if recipient_id else _identifier(raw.get("recipient_user_id")),
                error=_provider_error(_objects(raw.get("errors"))),
                raw=raw,
            )
        )
    return found


def template_status_of(change: MetaChange, *, received_at: datetime) -> TemplateStatusEvent | None:
    """Meta's verdict on a message template, for a `message_template_status_update` change; None
    for any other change (or one without template id or event).

    The template id is an integer in the payload and a string here. `reason` is None when Meta
    says `NONE` or null; a rejection's explanation and recommendation, when given, make the text.
    Meta puts no time in the value: the entry's `time` is used, else `received_at`.
    """
    if change.field != TEMPLATE_STATUS_FIELD:
        return None
    value = change.value
    template_id = _identifier(value.get("message_template_id"))
    event = _string(value.get("event"))
    if template_id is None or event is None:
        return None
    return TemplateStatusEvent(
        provider=Provider.META_CLOUD,
        waba_id=change.waba_id,
        provider_template_id=template_id,
        name=_string(value.get("message_template_name")),
        language=_string(value.get("message_template_language")),
        event=event,
        reason=_template_reason(value),
        occurred_at=change.entry_time or received_at,
        raw=value,
    )


def account_errors(change: MetaChange) -> list[dict[str, Any]]:
    """App- or account-level errors Meta reports in the change (`value.errors[]`), for logging."""
    return _objects(change.value.get("errors"))


# --- One message ---------------------------------------------------------------------------------


@dataclass
class _Content:
    type: MessageType
    text: str | None = None
    media: list[Media] = field(default_factory=list)
    location: Location | None = None
    reply: Reply | None = None
    reaction: Reaction | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)


def _message(
    raw: dict[str, Any], *, contacts: list[dict[str, Any]], account_id: str, received_at: datetime
) -> InboundMessage | None:
    message_id = _identifier(raw.get("id"))
    wa_id = _identifier(raw.get("from"))
    user_id = _identifier(raw.get("from_user_id"))
    if message_id is None or (wa_id is None and user_id is None):
        return None
    profile = _sender_profile(contacts, wa_id=wa_id, user_id=user_id)
    content = _content(raw)
    return InboundMessage(
        account_id=account_id,
        channel=Channel.WHATSAPP,
        provider=Provider.META_CLOUD,
        provider_message_id=message_id,
        contact=Contact(
            address=_e164(wa_id) if wa_id else str(user_id),
            name=_string(_object(profile.get("profile")).get("name")),
            provider_id=_identifier(profile.get("wa_id")) or wa_id,
            user_id=user_id or _identifier(profile.get("user_id")),
            username=_string(_object(profile.get("profile")).get("username")),
        ),
        sent_at=_unix_time(raw.get("timestamp")) or received_at,
        received_at=received_at,
        type=content.type,
        text=content.text,
        media=content.media,
        location=content.location,
        reply=content.reply,
        reaction=content.reaction,
        contacts=content.contacts,
        reply_to_provider_id=_identifier(_object(raw.get("context")).get("id")),
        errors=_errors(raw),
        raw=raw,
    )


def _errors(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Why Meta could not pass the message on (`unsupported`, `unknown`): on the message or its content."""
    kind = raw.get("type")
    inner = _object(raw.get(kind)).get("errors") if isinstance(kind, str) else None
    return _objects(raw.get("errors")) or _objects(inner)


def _sender_profile(
    contacts: list[dict[str, Any]], *, wa_id: str | None, user_id: str | None
) -> dict[str, Any]:
    """The `value.contacts[]` item of the sender: matched by wa_id (or BSUID), else the only one."""
    for contact in contacts:
        if wa_id is not None and _identifier(contact.get("wa_id")) == wa_id:
            return contact
        if user_id is not None and _identifier(contact.get("user_id")) == user_id:
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _content(raw: dict[str, Any]) -> _Content:
    kind = raw.get("type")
    if not isinstance(kind, str):
        return _Content(MessageType.UNKNOWN)
    body = _object(raw.get(kind))
    if kind == "text":
        return _Content(MessageType.TEXT, text=_string(body.get("body")))
    if kind in MEDIA_TYPES:
        media = _media(body)
        return _Content(MEDIA_TYPES[kind], text=media.caption, media=[media])
    if kind == "location":
        return _Content(MessageType.LOCATION, location=_location(body))
    if kind == "contacts":
        # The shared contact cards, as Meta gives them (a list, unlike the other types' objects).
        return _Content(MessageType.CONTACTS, contacts=_objects(raw.get("contacts")))
    if kind == "interactive":
        return _interactive(body)
    if kind == "button":
        title = _string(body.get("text"))
        return _Content(
            MessageType.BUTTON, text=title, reply=Reply(id=_string(body.get("payload")), title=title)
        )
    if kind == "reaction":
        return _Content(MessageType.REACTION, reaction=_reaction(body))
    if kind == "unsupported":
        return _Content(MessageType.UNSUPPORTED)
    return _Content(MessageType.UNKNOWN)


def _media(body: dict[str, Any]) -> Media:
    voice = body.get("voice")
    return Media(
        provider_media_id=_identifier(body.get("id")),
        url=_string(body.get("url")),
        mime_type=_string(body.get("mime_type")),
        sha256=_string(body.get("sha256")),
        caption=_string(body.get("caption")),
        filename=_string(body.get("filename")),
        voice=voice if isinstance(voice, bool) else None,
    )


def _location(body: dict[str, Any]) -> Location | None:
    latitude, longitude = _number(body.get("latitude")), _number(body.get("longitude"))
    if latitude is None or longitude is None:
        return None
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=_string(body.get("name")),
        address=_string(body.get("address")),
    )


def _interactive(body: dict[str, Any]) -> _Content:
    """A reply to our buttons (`button_reply`) or list (`list_reply`); other kinds, such as a Flow's
    `nfm_reply`, stay interactive with their raw object and no reply."""
    for kind in ("button_reply", "list_reply"):
        choice = body.get(kind)
        if isinstance(choice, dict):
            reply = Reply(
                id=_identifier(choice.get("id")),
                title=_string(choice.get("title")),
                description=_string(choice.get("description")),
            )
            return _Content(MessageType.INTERACTIVE, text=reply.title, reply=reply)
    return _Content(MessageType.INTERACTIVE, text=_string(_object(body.get("nfm_reply")).get("body")))


def _reaction(body: dict[str, Any]) -> Reaction | None:
    message_id = _identifier(body.get("message_id"))
    if message_id is None:
        return None
    return Reaction(message_id=message_id, emoji=_string(body.get("emoji")))  # no emoji: removed


# --- Statuses and templates ----------------------------------------------------------------------


def _provider_error(errors: list[dict[str, Any]]) -> ProviderError | None:
    """The first error. Meta's `message` often only repeats the title: the details say more."""
    if not errors:
        return None
    error = errors[0]
    code = error.get("code")
    title = _string(error.get("title"))
    message = _string(error.get("message"))
    details = _string(_object(error.get("error_data")).get("details"))
    if details and (message is None or message == title):
        message = details
    return ProviderError(code="unknown" if code is None else str(code), title=title, message=message)


def _template_reason(value: Mapping[str, Any]) -> str | None:
    code = _string(value.get("reason"))
    if code is not None and code.upper() == "NONE":
        code = None
    rejection = _object(value.get("rejection_info"))
    # A pause or lock says why in `other_info` when its reason is NONE.
    reason = (
        _string(rejection.get("reason"))
        or code
        or _string(_object(value.get("other_info")).get("description"))
    )
    recommendation = _string(rejection.get("recommendation"))
    if recommendation is None:
        return reason
    return f"{reason.rstrip('. ')}. {recommendation}" if reason else recommendation


# --- Reading JSON values defensively -------------------------------------------------------------


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _list_at(value: Mapping[str, Any], key: str) -> list[Any]:
    """`value[key]` as a list: absent or null is empty; anything else is not a webhook we know."""
    found = value.get(key)
    if found is None:
        return []
    if not isinstance(found, list):
        raise MalformedPayload(f"value.{key} is not a list")
    return found


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _identifier(value: Any) -> str | None:
    """An id Meta sends as a string, or sometimes as a number (template ids, test payloads)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _unix_time(value: Any) -> datetime | None:
    """Unix seconds, as Meta's string (`"1739321024"`) or an integer (entry times), in UTC."""
    seconds = _identifier(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _e164(digits: str) -> str:
    """Meta's `from` and `recipient_id` are digits without the `+`."""
    return "+" + digits.removeprefix("+")
