"""Sending a text message on WhatsApp, through Meta's Cloud API or Twilio.

One call, one provider request, and the outcome as a type: `SendResult` (the provider accepted
it: accepted, not yet delivered), or `SendRefused` (definitive: retrying changes nothing),
`CredentialsRejected` (the account's token or auth token is refused), `SendLater` (throttled,
provider down, no answer: try again). Tokens never appear in an error or a log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from inbox.accounts import Account, MetaCloudCredentials, Provider, TwilioCredentials
from inbox.observability import logger

if TYPE_CHECKING:
    import httpx

TIMEOUT_SECONDS = 10.0
# Meta: free text outside the 24-hour customer-service window.
META_WINDOW_CLOSED = 131047
# Twilio's counterpart: a freeform message outside the allowed window.
TWILIO_WINDOW_CLOSED = 63016
META_INVALID_TOKEN = 190
TWILIO_AUTHENTICATE = 20003
# Meta codes that mean "not now" whatever the HTTP status: rate limits and a temporary outage.
META_TRY_LATER = {2, 4, 80007, 130429, 131016, 131056}
TWILIO_TOO_MANY_REQUESTS = 20429
# HTTP statuses worth a retry (with any 5xx).
TRY_AGAIN_STATUSES = {408, 429}
UNAUTHORIZED = 401

# httpx logs every request's URL at INFO (Twilio's carries the account SID): never here.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message; its id is what its status reports will name."""

    provider_message_id: str


class SendRefused(Exception):
    """The provider refused this message for good (closed window, invalid number …)."""

    def __init__(
        self, code: str, message: str, *, window_closed: bool = False, title: str | None = None
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.window_closed = window_closed
        self.title = title


class CredentialsRejected(Exception):
    """The provider refused the account's credentials; `reason` is for the admin (no secret in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendLater(Exception):
    """Not sent, and worth trying again: after `retry_after` seconds when the provider said so."""

    def __init__(self, retry_after: float | None = None, *, why: str = "") -> None:
        super().__init__(why or "try again later")
        self.retry_after = retry_after


class _MetaError(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    error_user_title: str | None = None
    error_data: dict[str, Any] | None = None
    fbtrace_id: str | None = None


class _MetaErrorBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    error: _MetaError


class _MetaMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _MetaAccepted(BaseModel):
    model_config = ConfigDict(extra="ignore")
    messages: list[_MetaMessage]


class _TwilioError(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: int | None = None
    message: str | None = None


class _TwilioAccepted(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sid: str


def twilio_status_callback(public_url: str, account_id: str) -> str:
    """Where Twilio reports the statuses of a message sent for this account (the webhook's route)."""
    return f"{public_url.rstrip('/')}/webhooks/whatsapp/twilio/{account_id}/status"


def send_whatsapp(
    account: Account,
    credentials: MetaCloudCredentials | TwilioCredentials,
    *,
    to: str,
    text: str,
    graph_url: str,
    twilio_api_url: str,
    timeout: float = TIMEOUT_SECONDS,
    status_callback: str | None = None,
) -> SendResult:
    """Send `text` to `to` (E.164) from the account's number; see the module for the outcomes.

    `status_callback` (Twilio only) is where Twilio posts this message's statuses."""
    import httpx

    if account.provider is Provider.META_CLOUD and isinstance(credentials, MetaCloudCredentials):
        token = credentials.access_token.get_secret_value()
        answer = _post(
            f"{graph_url.rstrip('/')}/{account.config['phone_number_id']}/messages",
            "meta",
            timeout,
            headers={"Authorization": f"Bearer {token}"},
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": {"body": text},
            },
        )
        return _meta_outcome(answer, token)
    if account.provider is Provider.TWILIO and isinstance(credentials, TwilioCredentials):
        account_sid = str(account.config["account_sid"])
        service = account.config.get("messaging_service_sid")
        form = {"MessagingServiceSid": str(service)} if service else {"From": f"whatsapp:{account.address}"}
        form |= {"To": f"whatsapp:{to}", "Body": text}
        if status_callback:
            form["StatusCallback"] = status_callback
        answer = _post(
            f"{twilio_api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json",
            "twilio",
            timeout,
            auth=httpx.BasicAuth(account_sid, credentials.auth_token.get_secret_value()),
            data=form,
        )
        return _twilio_outcome(answer)
    raise TypeError(f"{account.provider} accounts do not send on WhatsApp with these credentials")


def _post(url: str, provider: str, timeout: float, **request: Any) -> httpx.Response:
    """The provider's answer; `SendLater` when there is none (timeout, connection refused …)."""
    import httpx

    try:
        with httpx.Client(timeout=timeout) as client:
            return client.post(url, **request)
    except httpx.TimeoutException:
        _log(provider, "timeout")
        raise SendLater(why=f"{provider} did not answer within {timeout:g} seconds") from None
    except httpx.HTTPError as error:
        _log(provider, type(error).__name__)
        raise SendLater(why=f"could not reach {provider}") from None


def _meta_outcome(response: httpx.Response, token: str) -> SendResult:
    if response.is_success:
        try:
            return SendResult(_MetaAccepted.model_validate_json(response.content).messages[0].id)
        except (ValidationError, IndexError):
            _log("meta", "unreadable answer", response.status_code)
            raise _unreadable("Meta") from None
    error = _meta_error(response.content)
    _log("meta", "error answer", response.status_code, error.code, error.fbtrace_id)
    said = _hide(error.message or "", token)
    if response.status_code == UNAUTHORIZED or error.code == META_INVALID_TOKEN:
        raise CredentialsRejected(
            f"Meta refused the account's access token (HTTP {response.status_code}"
            + (f", error {error.code}" if error.code is not None else "")
            + "): connect the number again or give a new token."
            + (f" Meta said: {said}" if said else "")
        )
    if (
        response.status_code in TRY_AGAIN_STATUSES
        or response.status_code >= 500
        or error.code in META_TRY_LATER
    ):
        raise SendLater(_retry_after(response), why=f"Meta answered HTTP {response.status_code}")
    code = str(error.code) if error.code is not None else f"http_{response.status_code}"
    # Meta's `message` is a title ("(#131047) Re-engagement message"); `error_data.details` says more.
    details = (error.error_data or {}).get("details")
    raise SendRefused(
        code,
        _hide(str(details), token) if details else said or f"Meta refused it (HTTP {response.status_code})",
        title=error.error_user_title or said or None,
        window_closed=error.code == META_WINDOW_CLOSED,
    )


def _twilio_outcome(response: httpx.Response) -> SendResult:
    if response.is_success:
        try:
            return SendResult(_TwilioAccepted.model_validate_json(response.content).sid)
        except ValidationError:
            _log("twilio", "unreadable answer", response.status_code)
            raise _unreadable("Twilio") from None
    error = _twilio_error(response.content)
    _log("twilio", "error answer", response.status_code, error.code)
    if response.status_code == UNAUTHORIZED or error.code == TWILIO_AUTHENTICATE:
        raise CredentialsRejected(
            f"Twilio refused the account's auth token (HTTP {response.status_code}"
            + (f", error {error.code}" if error.code is not None else "")
            + "): update the account's credentials."
        )
    if (
        response.status_code in TRY_AGAIN_STATUSES
        or response.status_code >= 500
        or error.code == TWILIO_TOO_MANY_REQUESTS
    ):
        raise SendLater(_retry_after(response), why=f"Twilio answered HTTP {response.status_code}")
    code = str(error.code) if error.code is not None else f"http_{response.status_code}"
    raise SendRefused(
        code,
        error.message or f"Twilio refused it (HTTP {response.status_code})",
        window_closed=error.code == TWILIO_WINDOW_CLOSED,
    )


def _unreadable(provider: str) -> SendRefused:
    # A success we cannot read may still have gone out: sending again could send it twice.
    return SendRefused(
        "provider_answer_unreadable",
        f"{provider} accepted the request but its answer held no message id; it may have been sent.",
    )


def _meta_error(content: bytes) -> _MetaError:
    try:
        return _MetaErrorBody.model_validate_json(content).error
    except ValidationError:
        return _MetaError()


def _twilio_error(content: bytes) -> _TwilioError:
    try:
        return _TwilioError.model_validate_json(content)
    except ValidationError:
        return _TwilioError()


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (a number of seconds or an HTTP date), if the provider gave one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _hide(text: str, secret: str) -> str:
    return text.replace(secret, "[hidden]") if secret else text


def _log(
    provider: str, outcome: str, status: int | None = None, code: int | None = None, trace: str | None = None
) -> None:
    # Structured and secret-free: no token, no recipient, no message text.
    logger.warning(
        "WhatsApp send failed",
        extra={
            "provider": provider,
            "outcome": outcome,
            "http_status": status,
            "provider_code": code,
            "fbtrace_id": trace,
        },
    )
