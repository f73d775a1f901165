"""Twilio's APIs for one account: the REST API (`INBOX_TWILIO_API_URL`: Messages, Accounts) and the
Content API (`INBOX_TWILIO_CONTENT_URL`: WhatsApp templates). The one Twilio client every caller
uses (sending, template review, the connection check): Basic auth with the account SID and auth
token (never logged), the timeout of `provider_http`, Twilio's error body parsed once here.

Every call raises the vocabulary of `inbox.provider_errors` (`CredentialsRefused`, `Throttled`,
`Unavailable`, `Rejected`, `UnexpectedAnswer`); callers map it to their outcomes.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from inbox.model import Model
from inbox.provider_errors import (
    CredentialsRefused,
    ProviderFailure,
    Rejected,
    Throttled,
    Unavailable,
    UnexpectedAnswer,
)
from inbox.settings import settings
from inbox.whatsapp import provider_http

M = TypeVar("M", bound=BaseModel)

PROVIDER = "Twilio"
TIMEOUT_SECONDS = provider_http.TIMEOUT_SECONDS

# Twilio error codes (`code`), in one place.
AUTHENTICATE = 20003  # the account SID or auth token is wrong
WINDOW_CLOSED = 63016  # a freeform message outside the 24-hour window
# "Retry later": HTTP 429 and 408 and any 5xx, and this code whatever the status (Twilio's other
# codes describe the request, which the same request again would not change).
TOO_MANY_REQUESTS = 20429
UNAUTHORIZED = 401
REQUEST_TIMEOUT = 408
HTTP_TOO_MANY_REQUESTS = 429


class _Lenient(Model):
    model_config = ConfigDict(extra="ignore")


class _TwilioError(_Lenient):
    code: int | None = None
    message: str | None = None


class _Sid(_Lenient):
    sid: str


class _Account(_Lenient):
    status: str


class Approval(_Lenient):
    """WhatsApp's approval of a content, as Twilio reports it."""

    status: str | None = None
    rejection_reason: str | None = None


class _Approvals(_Lenient):
    sid: str | None = None
    whatsapp: Approval | None = None


class TwilioApi:
    """Twilio's REST and Content APIs for one account; each call opens and closes its connection."""

    def __init__(
        self,
        account_sid: str,
        auth_token: SecretStr,
        *,
        api_url: str | None = None,
        content_url: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
        transport: provider_http.Transport | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_url = (api_url or settings().twilio_api_url).rstrip("/")
        self.content_url = (content_url or settings().twilio_content_url).rstrip("/")
        self.timeout = timeout
        self.transport = transport

    # --- REST API ----------------------------------------------------------------------------

    def send_message(self, form: dict[str, str]) -> str:
        """Create a message (`POST /2010-04-01/Accounts/{sid}/Messages.json`); its SID (SM…)."""
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return self._call("sending the message", "POST", url, _Sid, data=form).sid

    def account_status(self) -> str:
        """The account's status (`active`, `suspended`, `closed`), read with its own credentials."""
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}.json"
        return self._call("reading the account", "GET", url, _Account).status

    # --- Content API -------------------------------------------------------------------------

    def create_content(self, content: dict[str, Any]) -> str:
        """Create a content template (`POST /v1/Content`); its SID (HX…)."""
        url = f"{self.content_url}/v1/Content"
        return self._call("creating the content template", "POST", url, _Sid, json=content).sid

    def request_whatsapp_approval(self, content_sid: str, *, name: str, category: str) -> Approval:
        """Ask for WhatsApp's approval of a content (`POST /v1/Content/{sid}/ApprovalRequests/whatsapp`)."""
        url = f"{self.content_url}/v1/Content/{content_sid}/ApprovalRequests/whatsapp"
        payload = {"name": name, "category": category}
        return self._call("requesting WhatsApp approval", "POST", url, Approval, json=payload)

    def whatsapp_approval(self, content_sid: str) -> Approval:
        """The WhatsApp approval of a content (`GET /v1/Content/{sid}/ApprovalRequests`)."""
        url = f"{self.content_url}/v1/Content/{content_sid}/ApprovalRequests"
        return self._call("reading the WhatsApp approval", "GET", url, _Approvals).whatsapp or Approval()

    def _call(self, step: str, method: str, url: str, model: type[M], **request: Any) -> M:
        secret = self.auth_token.get_secret_value()
        answer = provider_http.exchange(
            PROVIDER,
            step,
            method,
            url,
            timeout=self.timeout,
            transport=self.transport,
            auth=(self.account_sid, secret),
            **request,
        )
        if not answer.ok:
            raise _failure(step, answer, (secret,))
        try:
            return model.model_validate_json(answer.content)
        except ValidationError:
            provider_http.log(PROVIDER, step, "unexpected answer", answer.status)
            raise UnexpectedAnswer(PROVIDER, step, http_status=answer.status) from None


def _failure(step: str, answer: provider_http.Answer, secrets: tuple[str, ...]) -> ProviderFailure:
    """Twilio's error answer, parsed once, as the vocabulary (see the codes above)."""
    try:
        error = _TwilioError.model_validate_json(answer.content)
    except ValidationError:
        error = _TwilioError()
    provider_http.log(PROVIDER, step, "error answer", answer.status, error.code)
    said: dict[str, Any] = {
        "http_status": answer.status,
        "code": error.code,
        "message": provider_http.mask(error.message, secrets),
    }
    if answer.status == UNAUTHORIZED or error.code == AUTHENTICATE:
        return CredentialsRefused(PROVIDER, step, **said)
    if answer.status == HTTP_TOO_MANY_REQUESTS or error.code == TOO_MANY_REQUESTS:
        return Throttled(PROVIDER, step, retry_after=answer.retry_after, **said)
    if answer.status == REQUEST_TIMEOUT or answer.status >= 500:
        return Unavailable(PROVIDER, step, retry_after=answer.retry_after, **said)
    return Rejected(PROVIDER, step, **said)
