"""Builders for what Meta and Twilio post to our WhatsApp webhooks, in their real shapes: Meta's
JSON envelope (entries, their changes, their messages and statuses) and Twilio's form parameters.

Every builder returns plain JSON-ready data (dicts, lists, strings) that a test can alter; ids
are unique per call unless given. `meta_body` and `twilio_form` give the bytes on the wire.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

JsonObject = dict[str, Any]
FormParams = dict[str, str]

# --- Meta WhatsApp Cloud API ---------------------------------------------------------------------

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
CUSTOMER_WA_ID = "33612345678"
CUSTOMER_NAME = "Chloé Martin"
TIMESTAMP = "1739321024"  # 2025-02-12 00:43:44 UTC, as Meta sends it: a string of Unix seconds
ENTRY_TIME = 1739321100  # entry[].time is an integer
MEDIA_SHA256 = "ZZ8ClXMCCnqsgXk5RLBs0q2ofQ/WmHvl0AMb0sf6X0Y="

_serial = itertools.count(1)


def wamid() -> str:
    """A fresh WhatsApp message id."""
    return f"wamid.HBgLMzM2MTIzNDU2NzgVAgASGBQzRUIwQzc2N0Y{next(_serial):06d}AA=="


def meta_envelope(entries: Iterable[JsonObject] = ()) -> JsonObject:
    """The POST body: `{"object": "whatsapp_business_account", "entry": [...]}`."""
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def meta_entry(*changes: JsonObject, waba_id: str = WABA_ID, time: int | None = None) -> JsonObject:
    entry: JsonObject = {"id": waba_id, "changes": list(changes)}
    if time is not None:
        entry["time"] = time
    return entry


def meta_change(
    phone_number_id: str = PHONE_NUMBER_ID,
    *,
    messages: Sequence[JsonObject] = (),
    statuses: Sequence[JsonObject] = (),
    contacts: Sequence[JsonObject] | None = None,
    errors: Sequence[JsonObject] = (),
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
) -> JsonObject:
    """A `messages` change for one business number. Without `contacts`, one contact per sender of
    `messages` (named CUSTOMER_NAME), as Meta does."""
    value: JsonObject = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
    }
    if contacts is None:
        senders = dict.fromkeys(m["from"] for m in messages if "from" in m)
        contacts = [meta_contact(sender) for sender in senders]
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    if errors:
        value["errors"] = list(errors)
    return {"field": "messages", "value": value}


def meta_payload(
    *,
    messages: Sequence[JsonObject] = (),
    statuses: Sequence[JsonObject] = (),
    contacts: Sequence[JsonObject] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    waba_id: str = WABA_ID,
) -> JsonObject:
    """The common case: one entry with one change."""
    change = meta_change(phone_number_id, messages=messages, statuses=statuses, contacts=contacts)
    return meta_envelope([meta_entry(change, waba_id=waba_id)])


def meta_body(payload: Any) -> bytes:
    """The bytes Meta posts: JSON with non-ASCII escaped as \\uXXXX (what the signature covers)."""
    return json.dumps(payload, ensure_ascii=True).encode()


def meta_contact(
    wa_id: str = CUSTOMER_WA_ID,
    name: str | None = CUSTOMER_NAME,
    *,
    user_id: str | None = None,
    username: str | None = None,
) -> JsonObject:
    """A `value.contacts[]` item: who wrote, by wa_id (and BSUID / username from 2026)."""
    profile: JsonObject = {}
    if name is not None:
        profile["name"] = name
    if username is not None:
        profile["username"] = username
    contact: JsonObject = {"profile": profile, "wa_id": wa_id}
    if user_id is not None:
        contact["user_id"] = user_id
    return contact


def meta_message(
    type_: str,
    content: Any = None,
    *,
    id: str | None = None,
    sender: str | None = CUSTOMER_WA_ID,
    timestamp: str | None = TIMESTAMP,
    context: JsonObject | None = None,
    **extra: Any,
) -> JsonObject:
    """A `value.messages[]` item of `type_`, its content under the key named after the type.
    `sender=None` leaves `from` out (a user known only by BSUID); `extra` adds any other field."""
    message: JsonObject = {}
    if sender is not None:
        message["from"] = sender
    message["id"] = id or wamid()
    if timestamp is not None:
        message["timestamp"] = timestamp
    message["type"] = type_
    if content is not None:
        message[type_] = content
    if context is not None:
        message["context"] = context
    message.update(extra)
    return message


def meta_text(body: str = "Bonjour, ma commande est-elle partie ?", **options: Any) -> JsonObject:
    return meta_message("text", {"body": body}, **options)


def meta_media(
    kind: str,
    *,
    media_id: str = "1003383421387256",
    mime_type: str = "image/jpeg",
    sha256: str = MEDIA_SHA256,
    caption: str | None = None,
    filename: str | None = None,
    voice: bool | None = None,
    url: str | None = None,
    **options: Any,
) -> JsonObject:
    """An image, document, audio, video or sticker message: a media id to download, not the bytes
    (recent payloads also carry a `url`, fetched with the access token)."""
    content: JsonObject = {"mime_type": mime_type, "sha256": sha256, "id": media_id}
    if url is not None:
        content["url"] = url
    if caption is not None:
        content["caption"] = caption
    if filename is not None:
        content["filename"] = filename
    if voice is not None:
        content["voice"] = voice
    return meta_message(kind, content, **options)


def meta_image(caption: str | None = "Le colis abîmé", **options: Any) -> JsonObject:
    return meta_media("image", caption=caption, **options)


def meta_document(filename: str = "facture-2025-014.pdf", **options: Any) -> JsonObject:
    options.setdefault("mime_type", "application/pdf")
    return meta_media("document", filename=filename, **options)


def meta_audio(voice: bool = True, **options: Any) -> JsonObject:
    options.setdefault("mime_type", "audio/ogg; codecs=opus")
    return meta_media("audio", voice=voice, **options)


def meta_video(**options: Any) -> JsonObject:
    options.setdefault("mime_type", "video/mp4")
    return meta_media("video", **options)


def meta_sticker(**options: Any) -> JsonObject:
    options.setdefault("mime_type", "image/webp")
    return meta_media("sticker", **options)


def meta_location(
    latitude: float = 48.8584,
    longitude: float = 2.2945,
    *,
    name: str | None = "Tour Eiffel",
    address: str | None = "Champ de Mars, 5 Av. Anatole France, 75007 Paris",
    **options: Any,
) -> JsonObject:
    content: JsonObject = {"latitude": latitude, "longitude": longitude}
    if name is not None:
        content["name"] = name
    if address is not None:
        content["address"] = address
    return meta_message("location", content, **options)


def meta_contact_card(formatted_name: str = "Jean Dupont", phone: str = "+33 6 98 76 54 32") -> JsonObject:
    return {
        "name": {"formatted_name": formatted_name, "first_name": formatted_name.split()[0]},
        "phones": [{"phone": phone, "wa_id": "".join(c for c in phone if c.isdigit()), "type": "CELL"}],
    }


def meta_contacts(cards: Sequence[JsonObject] | None = None, **options: Any) -> JsonObject:
    """Shared contact cards: the content is a list under `contacts`."""
    return meta_message("contacts", list(cards) if cards is not None else [meta_contact_card()], **options)


def meta_button_reply(
    reply_id: str = "confirm-delivery", title: str = "Oui, confirmer", **options: Any
) -> JsonObject:
    """A tap on one of our interactive reply buttons."""
    content = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
    return meta_message("interactive", content, **options)


def meta_list_reply(
    reply_id: str = "slot-tue-am",
    title: str = "Mardi matin",
    description: str | None = "Entre 8 h et 12 h",
    **options: Any,
) -> JsonObject:
    """A choice in one of our interactive lists."""
    row: JsonObject = {"id": reply_id, "title": title}
    if description is not None:
        row["description"] = description
    return meta_message("interactive", {"type": "list_reply", "list_reply": row}, **options)


def meta_template_button(
    payload: str = "STOP_PROMOS", text: str = "Stop promotions", **options: Any
) -> JsonObject:
    """A tap on a template's quick-reply button."""
    return meta_message("button", {"payload": payload, "text": text}, **options)


def meta_reaction(message_id: str, emoji: str | None = "👍", **options: Any) -> JsonObject:
    """A reaction to `message_id`; `emoji=None` is a removed reaction (Meta leaves the emoji out)."""
    content: JsonObject = {"message_id": message_id}
    if emoji is not None:
        content["emoji"] = emoji
    return meta_message("reaction", content, **options)


def meta_unsupported(
    kind: str = "poll", *, code: int = 131051, title: str = "Message type unknown", **options: Any
) -> JsonObject:
    """A message WhatsApp could not pass on to the API (a poll, a view-once photo ...)."""
    error = meta_error(code, title, details="Message type is currently not supported.")
    return meta_message("unsupported", {"type": kind}, errors=[error], **options)


def meta_error(
    code: int = 131047,
    title: str = "Re-engagement message",
    *,
    message: str | None = None,
    details: str | None = "Message failed to send because more than 24 hours have passed since the "
    "customer last replied to this number.",
) -> JsonObject:
    error: JsonObject = {"code": code, "title": title, "message": message or title}
    if details is not None:
        error["error_data"] = {"details": details}
    error["href"] = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
    return error


def meta_status(
    message_id: str,
    status: str = "delivered",
    *,
    recipient_id: str | None = CUSTOMER_WA_ID,
    timestamp: str | None = TIMESTAMP,
    errors: Sequence[JsonObject] = (),
    **extra: Any,
) -> JsonObject:
    """A `value.statuses[]` item about a message we sent."""
    item: JsonObject = {"id": message_id, "status": status}
    if timestamp is not None:
        item["timestamp"] = timestamp
    if recipient_id is not None:
        item["recipient_id"] = recipient_id
    if status != "failed":
        item["conversation"] = {"id": "a75d17ad06104c51166f948319b03c6a", "origin": {"type": "service"}}
        item["pricing"] = {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    if errors:
        item["errors"] = list(errors)
    item.update(extra)
    return item


def meta_template_status(
    event: str = "APPROVED",
    *,
    template_id: int = 1689556908129832,
    name: str = "order_confirmation",
    language: str = "fr",
    reason: str | None = "NONE",
    category: str = "UTILITY",
    rejection_info: JsonObject | None = None,
    **extra: Any,
) -> JsonObject:
    """A `message_template_status_update` change (no metadata: it concerns the WABA). The template
    id is an integer, as Meta sends it."""
    value: JsonObject = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason,
        "message_template_category": category,
    }
    if rejection_info is not None:
        value["rejection_info"] = rejection_info
    value.update(extra)
    return {"field": "message_template_status_update", "value": value}


# --- Twilio WhatsApp -----------------------------------------------------------------------------

TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TWILIO_NUMBER = "+14155238886"
CUSTOMER_NUMBER = "+33612345678"


def twilio_sid(prefix: str = "SM") -> str:
    """A fresh 34-character Twilio SID."""
    return f"{prefix}{next(_serial):032x}"


def twilio_inbound(**overrides: str | None) -> FormParams:
    """The form parameters of an inbound WhatsApp text; an override of None removes a parameter."""
    sid = twilio_sid()
    params: FormParams = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": CUSTOMER_NAME,
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": CUSTOMER_NUMBER.removeprefix("+"),
        "SmsStatus": "received",
        "Body": "Bonjour, ma commande est-elle partie ?",
        "To": f"whatsapp:{TWILIO_NUMBER}",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": TWILIO_ACCOUNT_SID,
        "From": f"whatsapp:{CUSTOMER_NUMBER}",
        "ApiVersion": "2010-04-01",
    }
    return _apply(params, overrides)


def twilio_media(*items: tuple[str, str]) -> FormParams:
    """The media parameters for `(url, content type)` items, to pass to `twilio_inbound(**...)`."""
    params: FormParams = {"NumMedia": str(len(items)), "MessageType": _twilio_media_kind(items)}
    for index, (url, content_type) in enumerate(items):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    return params


def twilio_media_url() -> str:
    """Where Twilio keeps an inbound media item (fetched with the account's credentials)."""
    message, media = twilio_sid("MM"), twilio_sid("ME")
    return f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{message}/Media/{media}"


def twilio_location(
    latitude: str = "48.8584",
    longitude: str = "2.2945",
    *,
    address: str | None = "Champ de Mars, 5 Av. Anatole France, 75007 Paris",
    label: str | None = "Tour Eiffel",
) -> FormParams:
    """The location parameters, to pass to `twilio_inbound(**...)` (the Body is then empty)."""
    params: FormParams = {"Latitude": latitude, "Longitude": longitude, "MessageType": "location", "Body": ""}
    if address is not None:
        params["Address"] = address
    if label is not None:
        params["Label"] = label
    return params


def twilio_button(payload: str = "confirm-delivery", text: str = "Oui, confirmer") -> FormParams:
    """A tap on a quick-reply button (Body repeats the button text)."""
    return {"ButtonPayload": payload, "ButtonText": text, "Body": text, "MessageType": "button"}


def twilio_status(
    status: str = "delivered", *, message_sid: str | None = None, **overrides: str | None
) -> FormParams:
    """The form parameters of a status callback on a message we sent to CUSTOMER_NUMBER."""
    sid = message_sid or twilio_sid()
    params: FormParams = {
        "ChannelPrefix": "whatsapp",
        "ApiVersion": "2010-04-01",
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "ChannelInstallSid": "XE" + "0" * 32,
        "To": f"whatsapp:{CUSTOMER_NUMBER}",
        "From": f"whatsapp:{TWILIO_NUMBER}",
        "MessageSid": sid,
        "AccountSid": TWILIO_ACCOUNT_SID,
        "ChannelToAddress": CUSTOMER_NUMBER,
    }
    return _apply(params, overrides)


def twilio_form(params: FormParams) -> bytes:
    """The form-encoded body Twilio posts (`+` as %2B)."""
    return urlencode(params).encode()


def _apply(params: FormParams, overrides: dict[str, str | None]) -> FormParams:
    for name, value in overrides.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def _twilio_media_kind(items: Sequence[tuple[str, str]]) -> str:
    family = items[0][1].split("/")[0] if items else ""
    return family if family in ("image", "video", "audio") else "document"
