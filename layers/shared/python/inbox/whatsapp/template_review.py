"""WhatsApp message templates under review, at the provider: Meta's Graph API (`message_templates`)
and Twilio's Content API (a content, then its WhatsApp approval request).

One call, one provider request, and the outcome as a type: `Review` (what the provider says of the
template now), `CredentialsRejected` (the account's token is refused), `ReviewFailed` (anything
else: the provider refused the request, failed, or did not answer; its `reason` says which, for
the admin). Tokens never appear in an error or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from inbox.delivery.outcomes import CredentialsRejected
from inbox.provider_errors import (
    CredentialsRefused,
    ProviderFailure,
    Transient,
    Unavailable,
    UnexpectedAnswer,
)
from inbox.whatsapp import meta_graph
from inbox.whatsapp.meta_graph import MetaGraph
from inbox.whatsapp.twilio_api import TwilioApi

TIMEOUT_SECONDS = meta_graph.TIMEOUT_SECONDS
# Meta's rejected_reason when there is none.
NO_REASON = "NONE"

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


class MetaTemplates:
    """Meta's message-template endpoints, for one account's token."""

    def __init__(self, graph_url: str, token: SecretStr, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.graph = MetaGraph(graph_url, timeout=timeout)
        self.token = token

    def create(self, waba_id: str, template: dict[str, Any]) -> Review:
        """Submit a new template (`POST /{waba_id}/message_templates`): Meta's id and first status."""
        try:
            created = self.graph.create_template(waba_id, self.token, template)
        except ProviderFailure as failure:
            raise _outcome(failure) from None
        return Review(created.id, created.status)

    def edit(self, template_id: str, changes: dict[str, Any]) -> Review:
        """Submit new components (and category) for a template Meta already has (`POST /{id}`);
        the edit goes back to review."""
        try:
            success = self.graph.edit_template(template_id, self.token, changes)
        except ProviderFailure as failure:
            raise _outcome(failure) from None
        if not success:
            raise ReviewFailed(
                "Meta did not confirm submitting the edited template; submit it again.", retryable=True
            )
        return Review(template_id, "PENDING")

    def review(self, template_id: str) -> Review:
        """The template's current status and rejection reason."""
        try:
            found = self.graph.template(template_id, self.token)
        except ProviderFailure as failure:
            raise _outcome(failure) from None
        reason = found.rejected_reason if found.rejected_reason not in (None, "", NO_REASON) else None
        return Review(found.id, found.status, reason)


class TwilioContent:
    """Twilio's Content API, for one account (Basic auth: account SID and auth token)."""

    def __init__(
        self, content_url: str, account_sid: str, auth_token: SecretStr, *, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.twilio = TwilioApi(account_sid, auth_token, content_url=content_url, timeout=timeout)

    def create(self, content: dict[str, Any]) -> str:
        """Create a content template (`POST /v1/Content`); its SID (HX…)."""
        try:
            return self.twilio.create_content(content)
        except ProviderFailure as failure:
            raise _outcome(failure) from None

    def request_whatsapp_approval(self, content_sid: str, *, name: str, category: str) -> Review:
        """Ask for WhatsApp's approval of a content (`POST /v1/Content/{sid}/ApprovalRequests/whatsapp`)."""
        try:
            approval = self.twilio.request_whatsapp_approval(content_sid, name=name, category=category)
        except ProviderFailure as failure:
            raise _outcome(failure) from None
        return Review(content_sid, approval.status or "received", approval.rejection_reason or None)

    def review(self, content_sid: str) -> Review:
        """The WhatsApp approval status of a content (`GET /v1/Content/{sid}/ApprovalRequests`)."""
        try:
            approval = self.twilio.whatsapp_approval(content_sid)
        except ProviderFailure as failure:
            raise _outcome(failure) from None
        return Review(content_sid, approval.status or "unsubmitted", approval.rejection_reason or None)


def _outcome(failure: ProviderFailure) -> Exception:
    """The review's outcome for a provider failure: credentials refused, or failed (retryable or not)."""
    provider, step, status = failure.provider, failure.step, failure.http_status
    if isinstance(failure, Unavailable) and status is None:
        if failure.timed_out:
            seconds = f"{failure.timeout:g} seconds"
            return ReviewFailed(
                f"{provider} did not answer within {seconds} while {step}; try again later.", retryable=True
            )
        return ReviewFailed(f"Could not reach {provider} while {step}; try again later.", retryable=True)
    if isinstance(failure, UnexpectedAnswer):
        return ReviewFailed(
            f"{provider}'s answer while {step} was not what its API returns; try again later.", retryable=True
        )
    codes = (f", error {failure.code}" if failure.code is not None else "") + (
        f"/{failure.subcode}" if failure.subcode is not None else ""
    )
    words = _words(failure)
    if isinstance(failure, CredentialsRefused):
        fix = (
            "connect the number again or give a new token"
            if provider == meta_graph.PROVIDER
            else ("update the account's credentials")
        )
        token = "access token" if provider == meta_graph.PROVIDER else "auth token"
        return CredentialsRejected(
            f"{provider} refused the account's {token} (HTTP {status}{codes}) while {step}: {fix}." + words
        )
    if isinstance(failure, Transient):
        return ReviewFailed(
            f"{provider} could not take the request now (HTTP {status}{codes}) while {step}; try again later."
            + words,
            retryable=True,
        )
    return ReviewFailed(
        f"{provider} refused the template (HTTP {status}{codes}) while {step}." + words, retryable=False
    )


def _words(failure: ProviderFailure) -> str:
    """The provider's own words (Meta's user-facing ones first) and Meta's trace id."""
    if failure.provider != meta_graph.PROVIDER:
        message = (failure.message or "").strip()
        return f" Twilio said: {message}" if message else ""
    parts = [p for p in (failure.user_title, failure.user_message) if p] or [failure.message or ""]
    text = ": ".join(p.strip().rstrip(".") for p in parts if p.strip())
    if not text:
        return ""
    trace = f" (fbtrace_id {failure.trace})" if failure.trace else ""
    return f" Meta said: {text}.{trace}"
