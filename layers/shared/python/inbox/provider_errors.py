"""Failures of a provider the product talks to (Meta, Twilio, Google, Microsoft).

Two layers of words:
- The one vocabulary the provider clients (`inbox.whatsapp.meta_graph`, `inbox.whatsapp.twilio_api`)
  raise, whatever the call: `CredentialsRefused`, `Throttled` (with retry-after), `Unavailable`
  (5xx, timeout, no connection), `Rejected` (the provider's code and text), `UnexpectedAnswer` (a
  success we cannot read). Each caller maps them to its own outcome (the sender: failed, retry,
  account in error; the template review: error or retry; the connection check: its error code).
  Every text in them has the request's secrets masked.
- `ProviderUnavailable`: what the API answers (502) when a step could not be done at the provider
  and the caller cannot fix it by changing the request. Refusals of the caller's input are `Invalid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import ClassVar

from inbox.errors import InboxError


class ProviderUnavailable(InboxError):
    """The step could not be done at the provider; `message` names the step, never a secret.

    `status` is what the API answers (the mapping itself lives in `inbox.api.errors`)."""

    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_GATEWAY


@dataclass(eq=False)
class ProviderFailure(Exception):
    """A provider call that did not do what was asked. `provider` is its name for people ("Meta",
    "Twilio"), `step` what we were doing ("reading the template's review"); the rest is what the
    provider answered, if it answered: the HTTP status, its error code and subcode, its own words
    (`message`; Meta also has user-facing `user_title`/`user_message` and `details`) and Meta's
    trace id. No field holds a secret."""

    provider: str
    step: str
    http_status: int | None = None
    code: int | None = None
    subcode: int | None = None
    message: str | None = None
    user_title: str | None = None
    user_message: str | None = None
    details: str | None = None
    trace: str | None = None

    def __str__(self) -> str:
        return f"{self.provider} while {self.step}: HTTP {self.http_status}, code {self.code}"


class CredentialsRefused(ProviderFailure):
    """The provider refused the account's token (Meta) or auth token (Twilio)."""


@dataclass(eq=False)
class Transient(ProviderFailure):
    """Worth the same request again later: after `retry_after` seconds when the provider said so."""

    retry_after: float | None = None


class Throttled(Transient):
    """A rate limit: the provider will take the request again after a while."""


@dataclass(eq=False)
class Unavailable(Transient):
    """The provider failed (5xx, a temporary outage code) or did not answer (`http_status` None):
    `timed_out` (nothing within `timeout` seconds), `connect_failed`, and `network_cause` (the
    socket-level error behind it, for words such as "not a known host name")."""

    timed_out: bool = False
    timeout: float | None = None
    connect_failed: bool = False
    network_cause: OSError | None = None


class Rejected(ProviderFailure):
    """The provider refused this request for good: the same request again changes nothing."""


class UnexpectedAnswer(ProviderFailure):
    """A success answer that is not what the provider's API returns (it may still have acted)."""
