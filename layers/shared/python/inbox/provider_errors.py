"""Failures of a provider the product talks to (Meta, Twilio, Google, Microsoft) that the caller
cannot fix by changing the request: the provider is down, slow, or refuses our app, or this
deployment lacks the provider's settings. Refusals of the caller's own input are `Invalid`."""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar

from inbox.errors import InboxError


class ProviderUnavailable(InboxError):
    """The step could not be done at the provider; `message` names the step, never a secret.

    `status` is what the API answers (the mapping itself lives in `inbox.api.errors`)."""

    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_GATEWAY
