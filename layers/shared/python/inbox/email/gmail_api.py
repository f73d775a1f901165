"""The Gmail API as one poll calls it (`inbox.email.gmail_source`): `GET /gmail/v1/users/me/...`
with the account's access token, over the product's one HTTP exchange (`provider_http`).

The token comes from the account's `Tokens` (`inbox.oauth.tokens`) and is renewed once when Gmail
refuses it (a token revoked early); refused again, or the grant revoked, is the account's refusal
(`PeerError` `auth`). Quota (429, or 403 `rateLimitExceeded` / `userRateLimitExceeded`) is waited
out when Retry-After is short and the poll's deadline allows, a few times a poll; otherwise it is
`throttled`, never `auth`. 5xx and no answer are `connect` / `timeout` (`dns`, `tls` when the
network says so). The token never appears in an error or a log line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from inbox.accounts.check_report import PeerError, network_error, timed_out
from inbox.oauth.grants import GrantRevoked, TokenUnavailable
from inbox.provider_errors import Unavailable
from inbox.whatsapp import provider_http

if TYPE_CHECKING:
    from inbox.email.mailbox import Limits
    from inbox.oauth.tokens import Tokens
    from inbox.whatsapp.provider_http import Answer

TIMEOUT_SECONDS = 30.0
# Quota: a Retry-After up to this long is waited out in the poll, at most `QUOTA_WAITS` times.
SHORT_WAIT_SECONDS = 5.0
QUOTA_WAITS = 3
QUOTA_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")
GOOGLE = "Google"
REFUSED = "Google refused the account's access: reconnect the account."


class GmailMissing(PeerError):
    """Gmail answered 404: a history id it no longer keeps, a message deleted meanwhile."""


class GmailInvalid(PeerError):
    """Gmail answered 400 (a page token it no longer takes, among others)."""


class GmailApi:
    """The Gmail API calls of one poll, with the account's token: renewed once when refused."""

    def __init__(self, tokens: Tokens, api_url: str, timeout: float, limits: Limits) -> None:
        self._tokens, self._api_url, self._timeout, self._limits = tokens, api_url, timeout, limits
        self._token: str | None = None
        self._waits = 0

    def get(self, step: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer to `GET /gmail/v1/users/me/<path>`. Raises `PeerError` (`GmailMissing` for a
        404, `GmailInvalid` for a 400)."""
        renewed = False
        while True:
            token = self._token or self._obtain(self._tokens.get)
            self._token = token
            answer = self._exchange(step, path, params, token)
            if answer.ok:
                body = _json(answer.content)
                if body is None:
                    raise PeerError("protocol", f"Gmail's answer while {step} is not JSON.")
                return body
            if answer.status == 401 and not renewed:
                # A token revoked early, or expired: one renewal, then it is the account's refusal.
                self._token, renewed = self._obtain(partial(self._tokens.renew, token)), True
                continue
            if self._quota(answer) and self._may_wait(answer.retry_after):
                time.sleep(answer.retry_after or 0)
                continue
            raise self._failure(step, answer, token)

    def _exchange(self, step: str, path: str, params: dict[str, Any] | None, token: str) -> Answer:
        try:
            return provider_http.exchange(
                GOOGLE,
                step,
                "GET",
                f"{self._api_url}/gmail/v1/users/me/{path}",
                timeout=self._timeout,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        except Unavailable as unavailable:
            parts = urlsplit(self._api_url)
            host, port = parts.hostname or self._api_url, parts.port or 443
            found = (
                network_error(unavailable.network_cause, host, port, self._timeout)
                if unavailable.network_cause
                else None
            )
            if found is None:
                found = timed_out(host, port, self._timeout) if unavailable.timed_out else None
            message = found.message if found else f"Could not reach Gmail at {host}."
            raise PeerError(found.code if found else "connect", f"{message} ({step})") from None

    def _obtain(self, token: Callable[[], str]) -> str:
        try:
            return token()
        except GrantRevoked as revoked:
            raise PeerError("auth", revoked.reason) from None
        except TokenUnavailable as unavailable:
            message = f"No access token from Google for now: {unavailable.why}."
            if unavailable.retry_after is not None:
                raise PeerError("throttled", message, retry_after=unavailable.retry_after) from None
            raise PeerError("connect", message) from None

    def _quota(self, answer: Answer) -> bool:
        return answer.status == 429 or (answer.status == 403 and _reason(answer.content) in QUOTA_REASONS)

    def _may_wait(self, retry_after: float | None) -> bool:
        """Whether to wait out Retry-After here: short, within the poll's deadline, not too often."""
        if retry_after is None or retry_after > SHORT_WAIT_SECONDS or self._waits >= QUOTA_WAITS:
            return False
        if time.monotonic() + retry_after >= self._limits.deadline:
            return False
        self._waits += 1
        return True

    def _failure(self, step: str, answer: Answer, token: str) -> PeerError:
        status, reason = answer.status, _reason(answer.content)
        said = provider_http.mask(_message(answer.content), (token,)) or f"HTTP {status}"
        provider_http.log(GOOGLE, step, reason or "refused", status)
        if status == 401:
            return PeerError("auth", REFUSED)
        if self._quota(answer):
            wait = answer.retry_after
            later = f" for {wait:g} s" if wait is not None else " for now"
            return PeerError(
                "throttled", f"Gmail's quota for the mailbox is used up{later} ({step}).", retry_after=wait
            )
        if status == 403 and reason == "insufficientPermissions":
            return PeerError(
                "auth", "Google did not grant access to the mail: reconnect the account and allow it."
            )
        if status >= 500:
            return PeerError(
                "connect", f"Gmail answered {status} while {step}: {said}", retry_after=answer.retry_after
            )
        if status == 404:
            return GmailMissing("protocol", f"Gmail found nothing while {step} ({said}).")
        if status == 400:
            return GmailInvalid("protocol", f"Gmail refused the request while {step}: {said}")
        return PeerError("protocol", f"Gmail refused the request while {step} (HTTP {status}): {said}")


def _json(content: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _error(content: bytes) -> dict[str, Any]:
    error = (_json(content) or {}).get("error")
    return error if isinstance(error, dict) else {}


def _reason(content: bytes) -> str | None:
    """The first `errors[].reason` of a Google error answer."""
    errors = _error(content).get("errors")
    for entry in errors if isinstance(errors, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            return str(entry["reason"])
    return None


def _message(content: bytes) -> str | None:
    message = _error(content).get("message")
    return message if isinstance(message, str) and message else None
