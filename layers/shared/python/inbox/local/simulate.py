"""`inbox webhook meta ...`: post a signed Meta webhook to a running local stack, as Meta would."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
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


def post_signed(url: str, payload: dict[str, Any], app_secret: str) -> httpx.Response:
    """POST the payload with `X-Hub-Signature-256` computed over the exact bytes sent."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(
        url,
        content=body,
        timeout=10,
        headers={"content-type": "application/json", "x-hub-signature-256": signature},
    )
