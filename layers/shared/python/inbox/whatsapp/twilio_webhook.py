"""Twilio's WhatsApp webhooks (inbound messages and status callbacks): the signature, checked
with Twilio's own validator against the public URL Twilio called, and the events they hold."""

from __future__ import annotations

from collections.abc import Mapping

from inbox.accounts.models import Account, Provider

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
SIGNATURE_HEADER = "x-twilio-signature"


def public_url(base_url: str | None, path: str, query: str, headers: Mapping[str, str]) -> str:
    """The URL Twilio signed: the configured public base URL (behind API Gateway the internal one
    differs), else the Host and X-Forwarded-Proto the request came with, plus path and query."""
    if base_url:
        root = base_url.rstrip("/")
    else:
        scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
        root = f"{scheme}://{headers.get('host', '')}"
    return f"{root}{path}" + (f"?{query}" if query else "")


def signature_matches(url: str, params: Mapping[str, str], signature: str | None, auth_token: str) -> bool:
    if not signature:
        return False
    from twilio.request_validator import RequestValidator

    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def belongs_to(params: Mapping[str, str], account: Account) -> bool:
    """The request names the account's own Twilio account SID (a valid signature from another
    Twilio account we also hold must not post into this one)."""
    if account.provider is not Provider.TWILIO:
        return False
    return params.get("AccountSid") == account.twilio_config().account_sid
