"""`/webhooks/whatsapp/...`: what Meta and Twilio call. No JWT: the signature is the proof.

Every answer is fast and loses nothing: a POST is acknowledged (200) only once its events are on
the inbound queue; a forged or missing signature is refused before anything is parsed or queued;
updates for a number or account we do not (or no longer) hold are acknowledged, so the provider
stops retrying, and counted.

API Gateway has already matched the route (the event's `routeKey`), so the function dispatches on
it with no resolver of its own: Powertools' event handler would add ~22 ms to the cold start a
provider waits on (`benchmarks/cold_start.py`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.metrics import MetricUnit

from inbox.accounts.models import Account, Provider, TwilioCredentials
from inbox.api.error_body import error_body
from inbox.cache import TtlCache
from inbox.errors import NotFound
from inbox.meta_app import meta_app
from inbox.observability import logger, metrics
from inbox.routing.queue import Event, InboundQueue, QueueRefused
from inbox.settings import settings
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault, MissingCredentials
from inbox.whatsapp import MalformedPayload, meta_webhook, twilio_payload, twilio_webhook

# An answer in the shape Lambda hands back to API Gateway (payload 2.0).
Answer = dict[str, Any]


@dataclass(frozen=True)
class WebhookRequest:
    """What a provider sent, read off API Gateway's payload-2.0 event."""

    route: str  # the route key API Gateway matched, `POST /webhooks/whatsapp/meta`
    path_parameters: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names lower-cased, as API Gateway passes them
    raw_path: str
    raw_query: str
    body: bytes  # exactly as the provider sent it (API Gateway base64-encodes non-text bodies)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> WebhookRequest:
        body = event.get("body") or ""
        return cls(
            route=str(event.get("routeKey", "")),
            path_parameters=event.get("pathParameters") or {},
            query=event.get("queryStringParameters") or {},
            headers={name.lower(): value for name, value in (event.get("headers") or {}).items()},
            raw_path=str(event.get("rawPath", "")),
            raw_query=str(event.get("rawQueryString", "")),
            body=base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8"),
        )


def answer(status: HTTPStatus, body: str, content_type: str) -> Answer:
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_type},
        "body": body,
        "isBase64Encoded": False,
    }


def _error(status: HTTPStatus, code: str, message: str) -> Answer:
    return answer(status, error_body(code, message), "application/json")


ACCOUNT_CACHE_SECONDS = 60
TOKEN_CACHE_SECONDS = 300

_meta_accounts: TtlCache[str, Account | None] = TtlCache(ACCOUNT_CACHE_SECONDS)
_twilio_accounts: TtlCache[str, Account | None] = TtlCache(ACCOUNT_CACHE_SECONDS)
_twilio_tokens: TtlCache[str, str | None] = TtlCache(TOKEN_CACHE_SECONDS)


def clear_caches() -> None:
    """Forget cached accounts and tokens (tests; a container otherwise refreshes within a minute)."""
    for cache in (_meta_accounts, _twilio_accounts, _twilio_tokens):
        cache.clear()


def meta_subscription(request: WebhookRequest) -> Answer:
    query = request.query
    challenge = meta_webhook.subscription_challenge(query, meta_app().verify_token)
    if challenge is None:
        logger.warning("Meta subscription handshake refused", extra={"mode": query.get("hub.mode")})
        return _error(HTTPStatus.FORBIDDEN, "verification_failed", "The verify token does not match.")
    return answer(HTTPStatus.OK, challenge, "text/plain")


def meta_updates(request: WebhookRequest) -> Answer:
    raw = request.body
    if len(raw) > meta_webhook.MAX_BODY_BYTES:
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", "The body is over 3 MB.")
    secret = meta_app().app_secret
    if not secret:
        logger.error("No Meta app secret configured: webhooks cannot be verified")
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, "not_configured", "Webhooks are not configured yet.")
    if not meta_webhook.signature_matches(raw, request.headers.get(meta_webhook.SIGNATURE_HEADER), secret):
        metrics.add_metric(name="WebhookSignatureRejected", unit=MetricUnit.Count, value=1)
        return _error(
            HTTPStatus.UNAUTHORIZED, "invalid_signature", "The X-Hub-Signature-256 signature is not valid."
        )
    try:
        delivery = meta_webhook.read_delivery(raw, find_account=_meta_account, received_at=datetime.now(UTC))
    except MalformedPayload as error:
        return _error(HTTPStatus.BAD_REQUEST, "malformed_payload", str(error))
    for phone_number_id, dropped in delivery.unknown_numbers.items():
        logger.warning(
            "Updates for a number no account holds",
            extra={"phone_number_id": phone_number_id, "updates": dropped},
        )
        metrics.add_metric(name="WebhookUnknownNumber", unit=MetricUnit.Count, value=dropped)
    for account_error in delivery.account_errors:
        logger.warning("Meta reported an account error", extra={"meta_error": account_error})
    return _queue(
        delivery.events,
        answer(HTTPStatus.OK, json.dumps({"queued": len(delivery.events)}), "application/json"),
    )


def twilio_message(request: WebhookRequest) -> Answer:
    return _twilio(request, status_callback=False)


def twilio_status(request: WebhookRequest) -> Answer:
    return _twilio(request, status_callback=True)


def _twilio(request: WebhookRequest, *, status_callback: bool) -> Answer:
    account_id = request.path_parameters.get("account_id", "")
    raw = request.body
    if len(raw) > meta_webhook.MAX_BODY_BYTES:
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", "The body is over 3 MB.")
    account = _twilio_accounts.get(account_id, _live_twilio_account)
    if account is None:
        logger.warning("Twilio webhook for no live Twilio account", extra={"account_id": account_id})
        metrics.add_metric(name="WebhookUnknownAccount", unit=MetricUnit.Count, value=1)
        return _twiml()
    try:
        params = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return _error(HTTPStatus.BAD_REQUEST, "malformed_payload", "The body is not form-encoded UTF-8.")
    url = twilio_webhook.public_url(
        settings().public_url, request.raw_path, request.raw_query, request.headers
    )
    signature = request.headers.get(twilio_webhook.SIGNATURE_HEADER)
    if not _twilio_signed(account_id, url, params, signature) or not twilio_webhook.belongs_to(
        params, account
    ):
        metrics.add_metric(name="WebhookSignatureRejected", unit=MetricUnit.Count, value=1)
        return _error(
            HTTPStatus.FORBIDDEN, "invalid_signature", "The X-Twilio-Signature signature is not valid."
        )
    now = datetime.now(UTC)
    events: list[Event]
    try:
        if status_callback:
            status = twilio_payload.status_of(params, account_id=account.id, occurred_at=now)
            events = [] if status is None else [status]
        else:
            events = [twilio_payload.message_of(params, account_id=account.id, received_at=now)]
    except MalformedPayload as error:
        return _error(HTTPStatus.BAD_REQUEST, "malformed_payload", str(error))
    return _queue(events, _twiml())


def _twilio_signed(account_id: str, url: str, params: dict[str, str], signature: str | None) -> bool:
    token = _twilio_tokens.get(account_id, _twilio_token)
    if token and twilio_webhook.signature_matches(url, params, signature, token):
        return True
    # The token may have been replaced since it was cached: check once more with the stored one.
    _twilio_tokens.forget(account_id)
    fresh = _twilio_tokens.get(account_id, _twilio_token)
    return bool(fresh and fresh != token and twilio_webhook.signature_matches(url, params, signature, fresh))


def _queue(events: Sequence[Event], acknowledgement: Answer) -> Answer:
    if not events:
        return acknowledgement
    try:
        InboundQueue().publish(events)
    except QueueRefused:
        logger.exception("Inbound events could not be queued; the provider will retry")
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, "queue_unavailable", "Try again later.")
    metrics.add_metric(name="WebhookEventsQueued", unit=MetricUnit.Count, value=len(events))
    return acknowledgement


def _meta_account(phone_number_id: str) -> Account | None:
    return _meta_accounts.get(phone_number_id, AccountStore().by_meta_phone_number_id)


def _live_twilio_account(account_id: str) -> Account | None:
    try:
        account = AccountStore().get(account_id)
    except NotFound:
        return None
    return account if account.provider == Provider.TWILIO else None


def _twilio_token(account_id: str) -> str | None:
    try:
        return CredentialVault().load(account_id, TwilioCredentials).auth_token.get_secret_value()
    except MissingCredentials:
        return None


def _twiml() -> Answer:
    return answer(HTTPStatus.OK, twilio_webhook.EMPTY_TWIML, "text/xml")


ROUTES: dict[str, Callable[[WebhookRequest], Answer]] = {
    "GET /webhooks/whatsapp/meta": meta_subscription,
    "POST /webhooks/whatsapp/meta": meta_updates,
    "POST /webhooks/whatsapp/twilio/{account_id}": twilio_message,
    "POST /webhooks/whatsapp/twilio/{account_id}/status": twilio_status,
}


def resolve(event: Mapping[str, Any]) -> Answer:
    """The answer to one call of a webhook route (the stack's routes are exactly `ROUTES`)."""
    request = WebhookRequest.from_event(event)
    route = ROUTES.get(request.route)
    if route is None:
        return _error(HTTPStatus.NOT_FOUND, "not_found", "No such webhook.")
    return route(request)
