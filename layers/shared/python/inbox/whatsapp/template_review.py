"""WhatsApp message templates under review, at the provider: Meta's Graph API (`message_templates`)
and Twilio's Content API (a content, then its WhatsApp approval request).

One call, one provider request, and the outcome as a type: `Review` (what the provider says of the
template now), `CredentialsRejected` (the account's token is refused), `ReviewFailed` (anything
else: the provider refused the request, failed, or did not answer; its `reason` says which, for
the admin). Tokens never appear in an error or a log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from inbox.observability import logger
from inbox.whatsapp.sending import CredentialsRejected

if TYPE_CHECKING:
    import httpx

M = TypeVar("M", bound=BaseModel)

TIMEOUT_SECONDS = 10.0
UNAUTHORIZED = 401
META_INVALID_TOKEN = 190
TWILIO_AUTHENTICATE = 20003
# Meta codes that mean "not now" whatever the HTTP status: rate limits (creations are capped per
# hour per WABA) and a temporary outage.
META_TRY_LATER = {1, 2, 4, 17, 80008, 130429}
TWILIO_TOO_MANY_REQUESTS = 20429
TRY_AGAIN_STATUSES = {408, 429}
# Meta's rejected_reason when there is none.
NO_REASON = "NONE"

# httpx logs every request's URL at INFO (Twilio's carry the account SID): never here.
logging.getLogger("httpx").setLevel(logging.WARNING)

__all__ = ["CredentialsRejected", "MetaTemplates", "Review", "ReviewFailed", "TwilioContent"]


@dataclass(frozen=True)
class Review:
    """The provider's word on a template: its id there, its status as the provider spells it
    (`PENDING`, `APPROVED` … at Meta; `received`, `approved` … at Twilio) and why, if it says."""

    provider_template_id: str
    status: str
    reason: str | None = None


class ReviewFailed(Exception):
    """The request did not go through; `reason` is for the admin, `retryable` when trying the same
    request later may work (throttled, provider down, no answer)."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _MetaError(_Lenient):
    message: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    error_user_title: str | None = None
    error_user_msg: str | None = None
    fbtrace_id: str | None = None


class _MetaErrorBody(_Lenient):
    error: _MetaError


class _MetaCreated(_Lenient):
    id: str
    status: str = "PENDING"


class _MetaEdited(_Lenient):
    success: bool


class _MetaTemplate(_Lenient):
    id: str
    status: str
    rejected_reason: str | None = None


class _TwilioError(_Lenient):
    code: int | None = None
    message: str | None = None


class _TwilioContent(_Lenient):
    sid: str


class _TwilioApproval(_Lenient):
    status: str | None = None
    rejection_reason: str | None = None


class _TwilioApprovals(_Lenient):
    sid: str | None = None
    whatsapp: _TwilioApproval | None = None


class MetaTemplates:
    """Meta's message-template endpoints, for one account's token."""

    def __init__(self, graph_url: str, token: SecretStr, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = graph_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def create(self, waba_id: str, template: dict[str, Any]) -> Review:
        """Submit a new template (`POST /{waba_id}/message_templates`): Meta's id and first status."""
        step = "submitting the template"
        created = self._call(step, "POST", f"/{waba_id}/message_templates", _MetaCreated, json=template)
        return Review(created.id, created.status)

    def edit(self, template_id: str, changes: dict[str, Any]) -> Review:
        """Submit new components (and category) for a template Meta already has (`POST /{id}`);
        the edit goes back to review."""
        step = "submitting the edited template"
        edited = self._call(step, "POST", f"/{template_id}", _MetaEdited, json=changes)
        if not edited.success:
            raise ReviewFailed(f"Meta did not confirm {step}; submit it again.", retryable=True)
        return Review(template_id, "PENDING")

    def review(self, template_id: str) -> Review:
        """The template's current status and rejection reason."""
        step = "reading the template's review"
        found = self._call(
            step, "GET", f"/{template_id}", _MetaTemplate, params={"fields": "status,rejected_reason"}
        )
        reason = found.rejected_reason if found.rejected_reason not in (None, "", NO_REASON) else None
        return Review(found.id, found.status, reason)

    def _call(self, step: str, method: str, path: str, model: type[M], **request: Any) -> M:
        secret = self.token.get_secret_value()
        response = _request(
            "Meta",
            step,
            method,
            f"{self.base_url}{path}",
            self.timeout,
            headers={"Authorization": f"Bearer {secret}"},
            **request,
        )
        if response.is_success:
            return _parse(model, response, "Meta", step)
        raise _meta_failure(step, response, secret)


class TwilioContent:
    """Twilio's Content API, for one account (Basic auth: account SID and auth token)."""

    def __init__(
        self, content_url: str, account_sid: str, auth_token: SecretStr, *, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.base_url = content_url.rstrip("/")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.timeout = timeout

    def create(self, content: dict[str, Any]) -> str:
        """Create a content template (`POST /v1/Content`); its SID (HX…)."""
        return self._call(
            "creating the content template", "POST", "/v1/Content", _TwilioContent, json=content
        ).sid

    def request_whatsapp_approval(self, content_sid: str, *, name: str, category: str) -> Review:
        """Ask for WhatsApp's approval of a content (`POST /v1/Content/{sid}/ApprovalRequests/whatsapp`)."""
        approval = self._call(
            "requesting WhatsApp approval",
            "POST",
            f"/v1/Content/{content_sid}/ApprovalRequests/whatsapp",
            _TwilioApproval,
            json={"name": name, "category": category},
        )
        return Review(content_sid, approval.status or "received", approval.rejection_reason or None)

    def review(self, content_sid: str) -> Review:
        """The WhatsApp approval status of a content (`GET /v1/Content/{sid}/ApprovalRequests`)."""
        found = self._call(
            "reading the WhatsApp approval",
            "GET",
            f"/v1/Content/{content_sid}/ApprovalRequests",
            _TwilioApprovals,
        )
        whatsapp = found.whatsapp or _TwilioApproval()
        return Review(content_sid, whatsapp.status or "unsubmitted", whatsapp.rejection_reason or None)

    def _call(self, step: str, method: str, path: str, model: type[M], **request: Any) -> M:
        import httpx

        response = _request(
            "Twilio",
            step,
            method,
            f"{self.base_url}{path}",
            self.timeout,
            auth=httpx.BasicAuth(self.account_sid, self.auth_token.get_secret_value()),
            **request,
        )
        if response.is_success:
            return _parse(model, response, "Twilio", step)
        raise _twilio_failure(step, response)


def _request(
    provider: str, step: str, method: str, url: str, timeout: float, **request: Any
) -> httpx.Response:
    """The provider's answer; `ReviewFailed` (retryable) when there is none."""
    import httpx

    try:
        with httpx.Client(timeout=timeout) as client:
            return client.request(method, url, **request)
    except httpx.TimeoutException:
        _log(provider, step, "timeout")
        raise ReviewFailed(
            f"{provider} did not answer within {timeout:g} seconds while {step}; try again later.",
            retryable=True,
        ) from None
    except httpx.HTTPError as error:
        _log(provider, step, type(error).__name__)
        raise ReviewFailed(
            f"Could not reach {provider} while {step}; try again later.", retryable=True
        ) from None


def _meta_failure(step: str, response: httpx.Response, token: str) -> Exception:
    error = _lenient(_MetaErrorBody, response.content)
    said = error.error if error else _MetaError()
    _log("Meta", step, "error answer", response.status_code, said.code, said.error_subcode, said.fbtrace_id)
    codes = "".join(
        [
            f", error {said.code}" if said.code is not None else "",
            f"/{said.error_subcode}" if said.error_subcode is not None else "",
        ]
    )
    words = _meta_words(said, token)
    if response.status_code == UNAUTHORIZED or said.code == META_INVALID_TOKEN:
        return CredentialsRejected(
            f"Meta refused the account's access token (HTTP {response.status_code}{codes}) while {step}: "
            "connect the number again or give a new token." + words
        )
    if _try_later(response.status_code) or said.code in META_TRY_LATER:
        return ReviewFailed(
            f"Meta could not take the request now (HTTP {response.status_code}{codes}) while {step}; "
            "try again later." + words,
            retryable=True,
        )
    return ReviewFailed(
        f"Meta refused the template (HTTP {response.status_code}{codes}) while {step}." + words,
        retryable=False,
    )


def _meta_words(error: _MetaError, token: str) -> str:
    """Meta's own words (the user-facing ones first) and trace id; the token masked."""
    parts = [p for p in (error.error_user_title, error.error_user_msg) if p] or [error.message or ""]
    text = ": ".join(p.strip().rstrip(".") for p in parts if p.strip())
    if not text:
        return ""
    if token:
        text = text.replace(token, "[hidden]")
    trace = f" (fbtrace_id {error.fbtrace_id})" if error.fbtrace_id else ""
    return f" Meta said: {text}.{trace}"


def _twilio_failure(step: str, response: httpx.Response) -> Exception:
    error = _lenient(_TwilioError, response.content) or _TwilioError()
    _log("Twilio", step, "error answer", response.status_code, error.code)
    codes = f", error {error.code}" if error.code is not None else ""
    words = f" Twilio said: {error.message.strip()}" if error.message and error.message.strip() else ""
    if response.status_code == UNAUTHORIZED or error.code == TWILIO_AUTHENTICATE:
        return CredentialsRejected(
            f"Twilio refused the account's auth token (HTTP {response.status_code}{codes}) while {step}: "
            "update the account's credentials." + words
        )
    if _try_later(response.status_code) or error.code == TWILIO_TOO_MANY_REQUESTS:
        return ReviewFailed(
            f"Twilio could not take the request now (HTTP {response.status_code}{codes}) while {step}; "
            "try again later." + words,
            retryable=True,
        )
    return ReviewFailed(
        f"Twilio refused the template (HTTP {response.status_code}{codes}) while {step}." + words,
        retryable=False,
    )


def _try_later(status: int) -> bool:
    return status in TRY_AGAIN_STATUSES or status >= 500


def _parse(model: type[M], response: httpx.Response, provider: str, step: str) -> M:
    parsed = _lenient(model, response.content)
    if parsed is None:
        _log(provider, step, "unreadable answer", response.status_code)
        raise ReviewFailed(
            f"{provider}'s answer while {step} was not what its API returns; try again later.", retryable=True
        )
    return parsed


def _lenient(model: type[M], content: bytes) -> M | None:
    try:
        return model.model_validate_json(content)
    except ValidationError:
        return None


def _log(
    provider: str,
    step: str,
    outcome: str,
    status: int | None = None,
    code: int | None = None,
    subcode: int | None = None,
    trace: str | None = None,
) -> None:
    # Structured and secret-free: no token, no account SID, no template text.
    logger.warning(
        "WhatsApp template request failed",
        extra={
            "provider": provider,
            "step": step,
            "outcome": outcome,
            "http_status": status,
            "provider_code": code,
            "provider_subcode": subcode,
            "fbtrace_id": trace,
        },
    )
