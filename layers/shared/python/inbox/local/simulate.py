"""`inbox webhook meta|twilio ...`: post a signed inbound webhook to a running local stack, as Meta
or Twilio would. The signatures here are also what the provider sandbox signs its callbacks with."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import httpx


def meta_text_payload(
    *,
    phone_number_id: str,
    waba_id: str,
    sender: str,
    name: str,
    text: str,
    display_number: str = "33180000000",
) -> dict[str, Any]:
    wa_id = sender.lstrip("+")
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_number,
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.{secrets.token_hex(16)}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def meta_signature(body: bytes, app_secret: str) -> str:
    """`X-Hub-Signature-256`: `sha256=` + the HMAC-SHA256 of exactly these bytes."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """`X-Twilio-Signature` of a POST of `params` to `url` (the full URL Twilio calls)."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def post_signed(url: str, payload: dict[str, Any], app_secret: str) -> httpx.Response:
    """POST the payload with `X-Hub-Signature-256` computed over the exact bytes sent."""
    body = json.dumps(payload).encode()
    return httpx.post(
        url,
        content=body,
        timeout=10,
        headers={"content-type": "application/json", "x-hub-signature-256": meta_signature(body, app_secret)},
    )


def twilio_text_params(*, account_sid: str, to: str, sender: str, name: str, text: str) -> dict[str, str]:
    """The form Twilio posts for a contact's WhatsApp text message (`To` is our number)."""
    message_sid = "SM" + secrets.token_hex(16)
    return {
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ProfileName": name,
        "MessageType": "text",
        "SmsSid": message_sid,
        "WaId": sender.lstrip("+"),
        "SmsStatus": "received",
        "Body": text,
        "To": f"whatsapp:{to}",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": f"whatsapp:{sender}",
        "ApiVersion": "2010-04-01",
    }


def post_twilio_signed(
    url: str, params: Mapping[str, str], auth_token: str, *, signed_url: str | None = None
) -> httpx.Response:
    """POST the form with `X-Twilio-Signature` over `signed_url` (the public URL the stack
    checks against; default `url`)."""
    return httpx.post(
        url,
        data=dict(params),
        timeout=10,
        headers={"x-twilio-signature": twilio_signature(signed_url or url, params, auth_token)},
    )


def twilio_account_id(base_url: str, account_sid: str) -> str | None:
    """The id of the live Twilio account with this SID on the local stack (read with an admin
    token minted locally), or None."""
    from inbox.local import tokens

    headers = {"Authorization": f"Bearer {tokens.mint('inbox-cli', admin=True, lifetime_seconds=60)}"}
    cursor: str | None = None
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        while True:
            answer = client.get(
                "/v1/accounts", params={"limit": 100, **({"cursor": cursor} if cursor else {})}
            )
            answer.raise_for_status()
            page = answer.json()
            for account in page["items"]:
                if account["provider"] == "twilio" and account["config"].get("account_sid") == account_sid:
                    return str(account["id"])
            cursor = page.get("next_cursor")
            if not cursor:
                return None
