"""The one HTTP exchange under the provider clients (`meta_graph`, `twilio_api`): one timeout
policy, no answer turned into `Unavailable`, Retry-After read, failures logged without secrets.

httpx is imported inside `exchange`: most functions that import a client never call a provider.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from inbox.accounts.check_report import hide
from inbox.observability import logger
from inbox.provider_errors import Unavailable

if TYPE_CHECKING:
    import httpx

# What tests may plug in instead of the network (an httpx transport), without importing httpx.
Transport: TypeAlias = "httpx.BaseTransport"

# Every provider call gets this long for the whole exchange (connect, send, answer).
TIMEOUT_SECONDS = 10.0

# httpx logs every request's URL at INFO (Twilio's carry the account SID, Meta's code exchange the
# app secret and the code): whatever level the service logs at, httpx never does that here.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Answer:
    """What the provider answered: the HTTP status, the body, and Retry-After in seconds if given."""

    status: int
    content: bytes
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def exchange(
    provider: str,
    step: str,
    method: str,
    url: str,
    *,
    timeout: float = TIMEOUT_SECONDS,
    transport: Transport | None = None,
    **request: Any,
) -> Answer:
    """The provider's answer to one request (`request`: httpx's `params`, `json`, `data`, `headers`,
    `auth`); `Unavailable` when there is none (timeout, refused connection, not HTTP)."""
    import httpx

    from inbox.trust import client_context

    try:
        with httpx.Client(timeout=timeout, transport=transport, verify=client_context()) as client:
            response = client.request(method, url, **request)
    except httpx.TimeoutException:
        log(provider, step, "timeout")
        raise Unavailable(provider, step, timed_out=True, timeout=timeout) from None
    except httpx.HTTPError as error:
        log(provider, step, type(error).__name__)
        raise Unavailable(
            provider,
            step,
            timeout=timeout,
            connect_failed=isinstance(error, httpx.ConnectError),
            network_cause=_socket_error(error),
        ) from None
    return Answer(response.status_code, response.content, retry_after(response.headers.get("retry-after")))


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (a number of seconds or an HTTP date), if the provider gave one."""
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


def mask(text: str | None, secrets: tuple[str, ...]) -> str | None:
    """`text` with every secret replaced (a provider may echo a token back in its error)."""
    if text is None:
        return None
    for secret in secrets:
        text = hide(text, secret)
    return text


def log(
    provider: str,
    step: str,
    outcome: str,
    status: int | None = None,
    code: int | None = None,
    subcode: int | None = None,
    trace: str | None = None,
) -> None:
    # Structured and secret-free: no token, no recipient, no message or template text.
    logger.warning(
        "Provider call failed",
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


def _socket_error(error: BaseException) -> OSError | None:
    # httpx wraps the socket's error: the first plain OSError in the chain says what happened.
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    return cause
