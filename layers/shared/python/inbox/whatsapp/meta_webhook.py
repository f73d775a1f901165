"""Meta's WhatsApp webhook: the subscription handshake, the signature, and the events a POST holds.

The signature is an HMAC-SHA256 of the raw body bytes with the app secret: checked before the
body is even parsed (Meta escapes non-ASCII as \\uXXXX, so re-serialized JSON would not match).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inbox.accounts.models import Account
from inbox.routing.events import InboundMessage, StatusEvent, TemplateStatusEvent
from inbox.whatsapp import MalformedPayload, meta_payload

MAX_BODY_BYTES = 3 * 1024 * 1024  # Meta batches at most 3 MB of updates in one POST
SIGNATURE_HEADER = "x-hub-signature-256"


def subscription_challenge(query: Mapping[str, str], verify_token: str | None) -> str | None:
    """The challenge to echo when Meta's GET carries our verify token; None to refuse (403)."""
    offered = query.get("hub.verify_token", "")
    if query.get("hub.mode") != "subscribe" or not verify_token:
        return None
    if not hmac.compare_digest(offered.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge", "")


def signature_matches(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `X-Hub-Signature-256` is `sha256=` + the HMAC of exactly these bytes."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").strip().lower(), expected)


@dataclass
class MetaDelivery:
    """What one POST brought: the events to queue, in order, and what had no account."""

    events: list[InboundMessage | StatusEvent | TemplateStatusEvent] = field(default_factory=list)
    unknown_numbers: dict[str, int] = field(default_factory=dict)  # phone_number_id -> updates dropped
    account_errors: list[dict[str, Any]] = field(default_factory=list)


def read_delivery(
    raw_body: bytes, *, find_account: Callable[[str], Account | None], received_at: datetime
) -> MetaDelivery:
    """The events of a (verified) POST. Raises `MalformedPayload` for a body that is not a
    WhatsApp webhook; updates for a number no live account holds are counted, not queued."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedPayload(f"the body is not JSON: {error}") from error
    delivery = MetaDelivery()
    for change in meta_payload.changes(payload):
        template_event = meta_payload.template_status_of(change, received_at=received_at)
        if template_event is not None:
            delivery.events.append(template_event)
            continue
        delivery.account_errors += meta_payload.account_errors(change)
        phone_number_id = change.phone_number_id
        updates = len(change.value.get("messages") or []) + len(change.value.get("statuses") or [])
        if phone_number_id is None or updates == 0:
            continue
        account = find_account(phone_number_id)
        if account is None:
            delivery.unknown_numbers[phone_number_id] = (
                delivery.unknown_numbers.get(phone_number_id, 0) + updates
            )
            continue
        delivery.events += meta_payload.messages_of(change, account_id=account.id, received_at=received_at)
        delivery.events += meta_payload.statuses_of(change, account_id=account.id)
    return delivery
