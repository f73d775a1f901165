"""Meta's Graph API as the embedded signup uses it: exchange the signup's code for a business
token, list a WhatsApp Business Account's phone numbers, subscribe our app to the account, and
register a number for the Cloud API.

Only the settings API imports this module (the webhook never does). Failures come back as domain
errors: `GraphRefused` (422) when Meta turns down what the caller gave (the code, the account, the
PIN), `ProviderUnavailable` (502) for everything else. Tokens, the code and the app secret never
appear in an error message or a log line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from inbox.errors import FieldProblem, Invalid
from inbox.observability import logger
from inbox.provider_errors import ProviderUnavailable
from inbox.settings import settings

if TYPE_CHECKING:
    import httpx

M = TypeVar("M", bound=BaseModel)

TIMEOUT_SECONDS = 10.0
# Graph error codes (error.code) this client tells apart.
INVALID_PARAMETER = 100  # includes an unknown, used or expired authorization code
INVALID_TOKEN = 190
PIN_MISMATCH = 133005  # register: the number has a two-step verification PIN, and this is not it
# A WABA holds a handful of numbers; a bound on pages keeps a misbehaving peer from looping us.
MAX_PAGES = 20

# httpx logs every request's URL at INFO, and the code exchange carries the app secret and the code
# in its query string: whatever level the service logs at, httpx never does that here.
logging.getLogger("httpx").setLevel(logging.WARNING)


class GraphRefused(Invalid):
    """Meta turned down something the caller gave; `details` name the request field to change."""


class GraphError(BaseModel):
    """`{"error": {...}}` of a Graph API failure."""

    model_config = ConfigDict(extra="ignore")

    message: str | None = None
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    fbtrace_id: str | None = None


class _GraphErrorBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    error: GraphError


class GraphPhoneNumber(BaseModel):
    """One number of a WhatsApp Business Account, as `GET /{waba_id}/phone_numbers` lists it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    display_phone_number: str
    verified_name: str | None = None


class _AccessToken(BaseModel):
    model_config = ConfigDict(extra="ignore")
    access_token: SecretStr


class _Cursors(BaseModel):
    model_config = ConfigDict(extra="ignore")
    after: str | None = None


class _Paging(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cursors: _Cursors | None = None
    next: str | None = None


class _PhoneNumbers(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[GraphPhoneNumber]
    paging: _Paging | None = None


class _Success(BaseModel):
    model_config = ConfigDict(extra="ignore")
    success: bool


class _Failed(Exception):
    """A Graph answer other than 2xx, before it is turned into a domain error."""

    def __init__(self, status: int, error: GraphError) -> None:
        super().__init__(status)
        self.status = status
        self.error = error


class MetaGraph:
    """A Graph API client for one request's work; each call opens and closes its connection."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or settings().meta_graph_url).rstrip("/")
        self.timeout = timeout
        self.transport = transport

    def exchange_code(self, code: SecretStr, *, app_id: str, app_secret: str) -> SecretStr:
        """The business token the embedded signup's code stands for (the code works once).

        `GraphRefused` (`meta_code_refused`, field `code`) when Meta does not accept the code."""
        step = "exchanging the signup code for a token"
        secrets = (code.get_secret_value(), app_secret)
        params = {"client_id": app_id, "client_secret": app_secret, "code": code.get_secret_value()}
        try:
            body = self._call(step, "GET", "/oauth/access_token", params=params, secrets=secrets)
        except _Failed as failed:
            if failed.status in (400, 401) and failed.error.code in (INVALID_PARAMETER, INVALID_TOKEN):
                raise GraphRefused(
                    "Meta did not accept the signup code (it works once and expires quickly): "
                    "run the embedded signup again.",
                    code="meta_code_refused",
                    details=[FieldProblem("code", "was refused by Meta")],
                ) from None
            raise _refused(step, failed, secrets) from None
        return _parse(_AccessToken, body, step).access_token

    def phone_numbers(self, waba_id: str, token: SecretStr) -> list[GraphPhoneNumber]:
        """Every phone number of the WhatsApp Business Account (all pages).

        `GraphRefused` (`unknown_waba`, field `waba_id`) when the token cannot see that account."""
        step = "reading the WhatsApp Business Account's phone numbers"
        secrets = (token.get_secret_value(),)
        numbers: list[GraphPhoneNumber] = []
        params = {"fields": "id,display_phone_number,verified_name"}
        for _ in range(MAX_PAGES):
            try:
                body = self._call(
                    step, "GET", f"/{waba_id}/phone_numbers", token=token, params=params, secrets=secrets
                )
            except _Failed as failed:
                if failed.status in (400, 403, 404) and failed.error.code == INVALID_PARAMETER:
                    raise GraphRefused(
                        f"Meta knows no WhatsApp Business Account {waba_id} this signup gave access to.",
                        code="unknown_waba",
                        details=[FieldProblem("waba_id", "is not an account this signup gave access to")],
                    ) from None
                raise _refused(step, failed, secrets) from None
            page = _parse(_PhoneNumbers, body, step)
            numbers.extend(page.data)
            after = page.paging.cursors.after if page.paging and page.paging.cursors else None
            if not (page.paging and page.paging.next and after):
                return numbers
            params = {**params, "after": after}
        return numbers

    def subscribe_app(self, waba_id: str, token: SecretStr) -> None:
        """Subscribe our app to the account's webhooks (its messages then reach our webhook)."""
        step = "subscribing the app to the WhatsApp Business Account"
        secrets = (token.get_secret_value(),)
        try:
            body = self._call(step, "POST", f"/{waba_id}/subscribed_apps", token=token, secrets=secrets)
        except _Failed as failed:
            raise _refused(step, failed, secrets) from None
        _expect_success(body, step)

    def register_number(self, phone_number_id: str, token: SecretStr, *, pin: SecretStr) -> None:
        """Register the number for the Cloud API with its two-step verification PIN.

        `GraphRefused` (`meta_pin_mismatch`, field `pin`) when the number has another PIN."""
        step = "registering the phone number"
        secrets = (token.get_secret_value(), pin.get_secret_value())
        payload = {"messaging_product": "whatsapp", "pin": pin.get_secret_value()}
        try:
            body = self._call(
                step, "POST", f"/{phone_number_id}/register", token=token, json=payload, secrets=secrets
            )
        except _Failed as failed:
            if failed.error.code == PIN_MISMATCH:
                raise GraphRefused(
                    "This number already has a two-step verification PIN: give it as `pin` "
                    "(or reset it in WhatsApp Manager), then run the embedded signup again.",
                    code="meta_pin_mismatch",
                    details=[FieldProblem("pin", "is not the number's two-step verification PIN")],
                ) from None
            raise _refused(step, failed, secrets) from None
        _expect_success(body, step)

    def _call(
        self,
        step: str,
        method: str,
        path: str,
        *,
        token: SecretStr | None = None,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> bytes:
        """The body of a 2xx answer; `_Failed` for a 4xx; `ProviderUnavailable` for the rest."""
        import httpx  # here: the settings API imports this module, and calls Meta only to sign up a number

        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token is not None else {}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.request(
                    method, f"{self.base_url}{path}", params=params, json=json, headers=headers
                )
        except httpx.TimeoutException:
            _log(step, "timeout")
            raise ProviderUnavailable(
                f"Meta did not answer within {self.timeout:g} seconds while {step}; try again.",
                code="meta_unavailable",
            ) from None
        except httpx.HTTPError as error:
            _log(step, type(error).__name__)
            raise ProviderUnavailable(
                f"Could not reach Meta's Graph API while {step}; try again.", code="meta_unavailable"
            ) from None
        if response.is_success:
            return response.content
        said = _graph_error(response.content)
        _log(step, "error answer", response.status_code, said)
        if 400 <= response.status_code < 500:
            raise _Failed(response.status_code, said)
        raise ProviderUnavailable(
            f"Meta's Graph API failed (HTTP {response.status_code}) while {step}; try again."
            + _said(said, secrets),
            code="meta_unavailable",
        )


def _refused(step: str, failed: _Failed, secrets: tuple[str, ...]) -> ProviderUnavailable:
    return ProviderUnavailable(
        f"Meta refused the request while {step} (HTTP {failed.status})." + _said(failed.error, secrets),
        code="meta_refused",
    )


def _said(error: GraphError, secrets: tuple[str, ...]) -> str:
    """Meta's own words and trace id, for the admin and for Meta's support; secrets masked."""
    if not error.message:
        return ""
    message = error.message
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[hidden]")
    trace = f" (fbtrace_id {error.fbtrace_id})" if error.fbtrace_id else ""
    return f" Meta said: {message}{trace}"


def _graph_error(content: bytes) -> GraphError:
    try:
        return _GraphErrorBody.model_validate_json(content).error
    except ValidationError:
        return GraphError()


def _parse(model: type[M], content: bytes, step: str) -> M:
    try:
        return model.model_validate_json(content)
    except ValidationError:
        _log(step, "unexpected answer")
        raise ProviderUnavailable(
            f"Meta's answer while {step} was not what the Graph API returns.", code="meta_unavailable"
        ) from None


def _expect_success(content: bytes, step: str) -> None:
    if not _parse(_Success, content, step).success:
        raise ProviderUnavailable(f"Meta did not confirm {step}.", code="meta_refused")


def _log(step: str, outcome: str, status: int | None = None, error: GraphError | None = None) -> None:
    # Structured and secret-free: the step, the HTTP status, Meta's codes and trace id.
    logger.warning(
        "Meta Graph API call failed",
        extra={
            "step": step,
            "outcome": outcome,
            "http_status": status,
            "graph_code": error.code if error else None,
            "graph_subcode": error.error_subcode if error else None,
            "fbtrace_id": error.fbtrace_id if error else None,
        },
    )
