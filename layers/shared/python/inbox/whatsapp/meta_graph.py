"""Meta's Graph API: the one client every caller uses (sending, template review, the connection
check, the embedded signup). Base URL from settings (`INBOX_META_GRAPH_URL`), the timeout of
`provider_http`, the Bearer token never logged, Meta's error body parsed once here.

Every call raises the vocabulary of `inbox.provider_errors` (`CredentialsRefused`, `Throttled`,
`Unavailable`, `Rejected`, `UnexpectedAnswer`), secrets masked; callers map it to their outcomes.
The embedded signup's steps are the exception: only the settings API calls them, and they raise the
API's own errors (`GraphRefused` 422 when Meta turns down what the caller gave: the code, the
account, the PIN; `ProviderUnavailable` 502 for everything else).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from inbox.errors import FieldProblem, Invalid
from inbox.model import Model
from inbox.provider_errors import (
    CredentialsRefused,
    ProviderFailure,
    ProviderUnavailable,
    Rejected,
    Throttled,
    Unavailable,
    UnexpectedAnswer,
)
from inbox.settings import settings
from inbox.whatsapp import provider_http

M = TypeVar("M", bound=BaseModel)

PROVIDER = "Meta"
TIMEOUT_SECONDS = provider_http.TIMEOUT_SECONDS

# Graph error codes (error.code), in one place.
INVALID_PARAMETER = 100  # includes an unknown, used or expired authorization code
INVALID_TOKEN = 190  # the access token is expired, revoked or not this app's
PIN_MISMATCH = 133005  # register: the number has a two-step verification PIN, and this is not it
WINDOW_CLOSED = 131047  # free text outside the 24-hour customer-service window
# "Retry later", whatever the HTTP status and whichever endpoint answers it (each code comes only
# from the endpoints it concerns, so one list serves sending and template review alike):
THROTTLED = {
    4,  # the app's call rate limit
    17,  # the user's call rate limit
    80007,  # the WhatsApp Business Account's rate limit (Cloud API)
    80008,  # the WhatsApp Business Management API's rate limit (templates: creations per hour per WABA)
    130429,  # the Cloud API's throughput limit for the number
    131056,  # too many messages from this number to that one (pair rate limit)
}
UNAVAILABLE = {
    1,  # "unknown error": Meta's documentation says possibly a temporary outage, retry
    2,  # the service is temporarily down
    131016,  # the Cloud API is temporarily down
}
UNAUTHORIZED = 401
TOO_MANY_REQUESTS = 429
REQUEST_TIMEOUT = 408
# A WABA holds a handful of numbers; a bound on pages keeps a misbehaving peer from looping us.
MAX_PAGES = 20


class GraphRefused(Invalid):
    """Meta turned down something the caller gave; `details` name the request field to change."""


class _Lenient(Model):
    model_config = ConfigDict(extra="ignore")


class GraphError(_Lenient):
    """`{"error": {...}}` of a Graph API failure."""

    message: str | None = None
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    error_user_title: str | None = None
    error_user_msg: str | None = None
    error_data: dict[str, Any] | None = None
    fbtrace_id: str | None = None


class _GraphErrorBody(_Lenient):
    error: GraphError


class GraphPhoneNumber(_Lenient):
    """One number of a WhatsApp Business Account, as `GET /{waba_id}/phone_numbers` lists it."""

    id: str
    display_phone_number: str
    verified_name: str | None = None


class TemplateStatus(_Lenient):
    """A message template as Meta describes it (`id`, `status`, `rejected_reason`)."""

    id: str
    status: str
    rejected_reason: str | None = None


class _Created(TemplateStatus):
    status: str = "PENDING"  # Meta's creation answer may leave it out


class _AccessToken(_Lenient):
    access_token: SecretStr


class _Cursors(_Lenient):
    after: str | None = None


class _Paging(_Lenient):
    cursors: _Cursors | None = None
    next: str | None = None


class _PhoneNumbers(_Lenient):
    data: list[GraphPhoneNumber]
    paging: _Paging | None = None


class _Success(_Lenient):
    success: bool


class _MessageId(_Lenient):
    id: str


class _Accepted(_Lenient):
    messages: list[_MessageId] = Field(min_length=1)


class _AnyObject(_Lenient):
    pass


class MetaGraph:
    """A Graph API client; each call opens and closes its connection."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: provider_http.Transport | None = None,
    ) -> None:
        self.base_url = (base_url or settings().meta_graph_url).rstrip("/")
        self.timeout = timeout
        self.transport = transport

    # --- The Cloud API and the templates -----------------------------------------------------

    def send_text(self, phone_number_id: str, token: SecretStr, *, to: str, text: str) -> str:
        """Send `text` to `to` (E.164) from the number; the message's id (`wamid.…`)."""
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": text},
        }
        step = "sending the message"
        sent = self.call(step, "POST", f"/{phone_number_id}/messages", _Accepted, token=token, json=payload)
        return sent.messages[0].id

    def send_template(
        self, phone_number_id: str, token: SecretStr, *, to: str, template: dict[str, Any]
    ) -> str:
        """Send an approved template (`template`: Meta's template object) to `to`; the message's id."""
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": template,
        }
        step = "sending the template message"
        sent = self.call(step, "POST", f"/{phone_number_id}/messages", _Accepted, token=token, json=payload)
        return sent.messages[0].id

    def phone_number(self, phone_number_id: str, token: SecretStr) -> None:
        """Read the number with the token (the connection check): returns if the token sees it."""
        fields = {"fields": "display_phone_number,verified_name"}
        self.call(
            "reading the phone number", "GET", f"/{phone_number_id}", _AnyObject, token=token, params=fields
        )

    def create_template(self, waba_id: str, token: SecretStr, template: dict[str, Any]) -> TemplateStatus:
        """Submit a new template (`POST /{waba_id}/message_templates`): its id and first status."""
        step = "submitting the template"
        return self.call(step, "POST", f"/{waba_id}/message_templates", _Created, token=token, json=template)

    def edit_template(self, template_id: str, token: SecretStr, changes: dict[str, Any]) -> bool:
        """Submit new components (and category) for a template (`POST /{id}`); Meta's `success`."""
        step = "submitting the edited template"
        return self.call(step, "POST", f"/{template_id}", _Success, token=token, json=changes).success

    def template(self, template_id: str, token: SecretStr) -> TemplateStatus:
        """The template's current status and rejection reason."""
        fields = {"fields": "status,rejected_reason"}
        step = "reading the template's review"
        return self.call(step, "GET", f"/{template_id}", TemplateStatus, token=token, params=fields)

    def call(
        self,
        step: str,
        method: str,
        path: str,
        model: type[M],
        *,
        token: SecretStr | None = None,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> M:
        """The 2xx answer read as `model`; the vocabulary of `inbox.provider_errors` otherwise."""
        hidden = (*secrets, token.get_secret_value()) if token is not None else secrets
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token is not None else {}
        answer = provider_http.exchange(
            PROVIDER,
            step,
            method,
            f"{self.base_url}{path}",
            timeout=self.timeout,
            transport=self.transport,
            params=params,
            json=json,
            headers=headers,
        )
        if not answer.ok:
            raise _failure(step, answer, hidden)
        try:
            return model.model_validate_json(answer.content)
        except ValidationError:
            provider_http.log(PROVIDER, step, "unexpected answer", answer.status)
            raise UnexpectedAnswer(PROVIDER, step, http_status=answer.status) from None

    # --- The embedded signup (API errors) ----------------------------------------------------

    def exchange_code(self, code: SecretStr, *, app_id: str, app_secret: str) -> SecretStr:
        """The business token the embedded signup's code stands for (the code works once).

        `GraphRefused` (`meta_code_refused`, field `code`) when Meta does not accept the code."""
        step = "exchanging the signup code for a token"
        params = {"client_id": app_id, "client_secret": app_secret, "code": code.get_secret_value()}
        try:
            return self.call(
                step,
                "GET",
                "/oauth/access_token",
                _AccessToken,
                params=params,
                secrets=(code.get_secret_value(), app_secret),
            ).access_token
        except ProviderFailure as failure:
            if failure.http_status in (400, 401) and failure.code in (INVALID_PARAMETER, INVALID_TOKEN):
                raise GraphRefused(
                    "Meta did not accept the signup code (it works once and expires quickly): "
                    "run the embedded signup again.",
                    code="meta_code_refused",
                    details=[FieldProblem("code", "was refused by Meta")],
                ) from None
            raise _signup_error(failure) from None

    def phone_numbers(self, waba_id: str, token: SecretStr) -> list[GraphPhoneNumber]:
        """Every phone number of the WhatsApp Business Account (all pages).

        `GraphRefused` (`unknown_waba`, field `waba_id`) when the token cannot see that account."""
        step = "reading the WhatsApp Business Account's phone numbers"
        numbers: list[GraphPhoneNumber] = []
        params = {"fields": "id,display_phone_number,verified_name"}
        for _ in range(MAX_PAGES):
            try:
                page = self.call(
                    step, "GET", f"/{waba_id}/phone_numbers", _PhoneNumbers, token=token, params=params
                )
            except ProviderFailure as failure:
                if failure.http_status in (400, 403, 404) and failure.code == INVALID_PARAMETER:
                    raise GraphRefused(
                        f"Meta knows no WhatsApp Business Account {waba_id} this signup gave access to.",
                        code="unknown_waba",
                        details=[FieldProblem("waba_id", "is not an account this signup gave access to")],
                    ) from None
                raise _signup_error(failure) from None
            numbers.extend(page.data)
            after = page.paging.cursors.after if page.paging and page.paging.cursors else None
            if not (page.paging and page.paging.next and after):
                return numbers
            params = {**params, "after": after}
        return numbers

    def subscribe_app(self, waba_id: str, token: SecretStr) -> None:
        """Subscribe our app to the account's webhooks (its messages then reach our webhook)."""
        step = "subscribing the app to the WhatsApp Business Account"
        try:
            done = self.call(step, "POST", f"/{waba_id}/subscribed_apps", _Success, token=token)
        except ProviderFailure as failure:
            raise _signup_error(failure) from None
        _confirmed(done, step)

    def register_number(self, phone_number_id: str, token: SecretStr, *, pin: SecretStr) -> None:
        """Register the number for the Cloud API with its two-step verification PIN.

        `GraphRefused` (`meta_pin_mismatch`, field `pin`) when the number has another PIN."""
        step = "registering the phone number"
        payload = {"messaging_product": "whatsapp", "pin": pin.get_secret_value()}
        try:
            done = self.call(
                step,
                "POST",
                f"/{phone_number_id}/register",
                _Success,
                token=token,
                json=payload,
                secrets=(pin.get_secret_value(),),
            )
        except ProviderFailure as failure:
            if failure.code == PIN_MISMATCH and _client_error(failure):
                raise GraphRefused(
                    "This number already has a two-step verification PIN: give it as `pin` "
                    "(or reset it in WhatsApp Manager), then run the embedded signup again.",
                    code="meta_pin_mismatch",
                    details=[FieldProblem("pin", "is not the number's two-step verification PIN")],
                ) from None
            raise _signup_error(failure) from None
        _confirmed(done, step)


def _failure(step: str, answer: provider_http.Answer, secrets: tuple[str, ...]) -> ProviderFailure:
    """Meta's error answer, parsed once, as the vocabulary (see the code lists above)."""
    try:
        error = _GraphErrorBody.model_validate_json(answer.content).error
    except ValidationError:
        error = GraphError()
    provider_http.log(
        PROVIDER, step, "error answer", answer.status, error.code, error.error_subcode, error.fbtrace_id
    )
    details = (error.error_data or {}).get("details")
    said: dict[str, Any] = {
        "http_status": answer.status,
        "code": error.code,
        "subcode": error.error_subcode,
        "message": provider_http.mask(error.message, secrets),
        "user_title": provider_http.mask(error.error_user_title, secrets),
        "user_message": provider_http.mask(error.error_user_msg, secrets),
        "details": provider_http.mask(str(details), secrets) if details else None,
        "trace": error.fbtrace_id,
    }
    if answer.status == UNAUTHORIZED or error.code == INVALID_TOKEN:
        return CredentialsRefused(PROVIDER, step, **said)
    if answer.status == TOO_MANY_REQUESTS or error.code in THROTTLED:
        return Throttled(PROVIDER, step, retry_after=answer.retry_after, **said)
    if answer.status == REQUEST_TIMEOUT or answer.status >= 500 or error.code in UNAVAILABLE:
        return Unavailable(PROVIDER, step, retry_after=answer.retry_after, **said)
    return Rejected(PROVIDER, step, **said)


def _client_error(failure: ProviderFailure) -> bool:
    return failure.http_status is not None and 400 <= failure.http_status < 500


def _signup_error(failure: ProviderFailure) -> ProviderUnavailable:
    """A signup step's failure as the API answers it (502): refused (4xx) or unavailable."""
    step = failure.step
    if isinstance(failure, Unavailable) and failure.http_status is None:
        if failure.timed_out:
            return ProviderUnavailable(
                f"Meta did not answer within {failure.timeout:g} seconds while {step}; try again.",
                code="meta_unavailable",
            )
        return ProviderUnavailable(
            f"Could not reach Meta's Graph API while {step}; try again.", code="meta_unavailable"
        )
    if isinstance(failure, UnexpectedAnswer):
        return ProviderUnavailable(
            f"Meta's answer while {step} was not what the Graph API returns.", code="meta_unavailable"
        )
    if _client_error(failure):
        return ProviderUnavailable(
            f"Meta refused the request while {step} (HTTP {failure.http_status})." + _said(failure),
            code="meta_refused",
        )
    return ProviderUnavailable(
        f"Meta's Graph API failed (HTTP {failure.http_status}) while {step}; try again." + _said(failure),
        code="meta_unavailable",
    )


def _said(failure: ProviderFailure) -> str:
    """Meta's own words and trace id, for the admin and for Meta's support (secrets masked)."""
    if not failure.message:
        return ""
    trace = f" (fbtrace_id {failure.trace})" if failure.trace else ""
    return f" Meta said: {failure.message}{trace}"


def _confirmed(done: _Success, step: str) -> None:
    if not done.success:
        raise ProviderUnavailable(f"Meta did not confirm {step}.", code="meta_refused")
