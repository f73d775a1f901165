"""Delivering one outbound message: claimed, sent at most once, its outcome recorded on it.

The message item is the lock. `deliver` first claims it with one conditional write
(`queued` → `sending`, stamped `sending_since`); a redelivered request finds it `sent`, `failed` or
claimed and sends nothing. A claim is a lease: if its holder died between the provider's answer
and the record of it, the message may be claimed again once the lease is over (longer than the
function's timeout, so its holder is surely gone); only that crash can send a message twice, and
for email not even that: a claim taken over from a dead delivery first looks for the message's
Message-ID in the mailbox's Sent folder. Email is composed here from the stored message
(`inbox.email.outgoing`) and goes out through the account's transport.

Outcomes, each recorded on the message:
- accepted: `sent`, the provider's id and `sent_at`, and the lookup item its status reports use;
- refused by the provider: `failed` with the provider's code (`window_closed` for 131047);
- credentials refused: `failed`, and the account goes to `error` with the reason;
- account paused or in error: `failed` with `account_paused` / `account_error`. A message
  queued before the admin paused the account is not kept for later: an auto-reply sent on
  resume, hours late, would answer nothing. An agent can send again once it is active. The
  account is read (strongly consistent) for every message, after the claim: once a pause has
  returned, no message is sent (one whose provider call had already begun may still arrive);
- throttled or provider unavailable: back to `queued`, and `RetryLater` so the queue tries again
  after a backoff (then its dead-letter queue).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from inbox import channels
from inbox.accounts.lifecycle import record_credentials_rejected
from inbox.accounts.models import CREDENTIALS_MODEL, Account, AccountStatus, Channel
from inbox.cache import TtlCache
from inbox.delivery.outcomes import (
    CredentialsRejected,
    SendLater,
    SendRefused,
    SendResult,
)
from inbox.delivery.queue import NotPostponed, OutboundQueue, OutboundRequest
from inbox.errors import NotFound
from inbox.observability import logger
from inbox.routing.events import ProviderError
from inbox.store import dynamo
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault, MissingCredentials
from inbox.store.outbound_claims import SENDING, OutboundClaim, OutboundClaims
from inbox.whatsapp.template_message import TemplateMessage

LEASE = timedelta(minutes=5)
# Credentials are kept a while: a refused one is read again at once (`_send`).
CREDENTIALS_CACHE_SECONDS = 300
# Status reports name a message for days (Meta retries a webhook for 7): the lookup outlives that.
LOOKUP_DAYS = 30
# Backoff of a retried request: 30 s doubling with each receipt, at most 15 minutes (SQS allows 12 h).
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 900

_credentials: TtlCache[str, Any] = TtlCache(CREDENTIALS_CACHE_SECONDS)


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_HANDLED = "already_handled"  # sent, failed, or taken by an earlier delivery
    NOT_FOUND = "not_found"
    FAILED = "failed"
    ACCOUNT_PAUSED = "account_paused"
    ACCOUNT_ERROR = "account_error"
    CREDENTIALS_REJECTED = "credentials_rejected"


class RetryLater(Exception):
    """Nothing was sent; try again in `delay` seconds (None: the queue's backoff decides)."""

    def __init__(self, delay: float | None = None) -> None:
        super().__init__(delay)
        self.delay = delay


class Send(Protocol):
    def __call__(
        self,
        account: Account,
        credentials: Any,
        *,
        to: str,
        text: str,
        template: TemplateMessage | None = None,
    ) -> SendResult: ...


def deliver(
    request: OutboundRequest,
    *,
    table: Any | None = None,
    account_of: Callable[[str], Account] | None = None,
    vault: CredentialVault | None = None,
    send: Send | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Outcome:
    """Deliver the requested message once and record the outcome on it (see the module)."""
    table = table if table is not None else dynamo.table()
    clock = clock or _now
    claim = _Claim.take(table, request, clock())
    if not isinstance(claim, _Claim):
        return claim
    text = claim.item.get("text")
    account_id = request.account_id
    try:
        # As it is now, never a cached copy: "pause" means nothing is sent from now on.
        account = (account_of or AccountStore(table).get)(account_id)
    except NotFound:
        return claim.fail(ProviderError(code="account_not_found", message="The account was deleted."))
    if account.status is AccountStatus.PAUSED:
        claim.fail(ProviderError(code="account_paused", message="The account was paused: nothing is sent."))
        return Outcome.ACCOUNT_PAUSED
    if account.status is AccountStatus.ERROR:
        claim.fail(ProviderError(code="account_error", message=account.status_reason))
        return Outcome.ACCOUNT_ERROR
    if not text:
        return claim.fail(ProviderError(code="nothing_to_send", message="The message has no text."))
    if send is None and account.channel is Channel.EMAIL:
        from inbox.email.compose import NoRecipient
        from inbox.email.outgoing import email_sender

        try:
            send = email_sender(account, claim.item, request.to, table, check_sent=claim.held.recovered)
        except NoRecipient as refused:
            return claim.fail(ProviderError(code="no_recipient", message=str(refused)))

    # An approved WhatsApp template goes out as the provider's template message, `text` its rendering.
    template = TemplateMessage.model_validate(claim.item["template"]) if claim.item.get("template") else None
    try:
        result = _send(
            account, request.to, str(text), template, vault or CredentialVault(), send or channels.send
        )
    except MissingCredentials:
        return _credentials_rejected(claim, account, table, "The account has no stored credentials.", clock)
    except CredentialsRejected as rejected:
        return _credentials_rejected(claim, account, table, rejected.reason, clock)
    except SendRefused as refused:
        return claim.fail(
            ProviderError(
                code=refused.code,
                title=refused.title,
                message=refused.message,
                window_closed=True if refused.window_closed else None,
            )
        )
    except SendLater as later:
        claim.release()
        logger.info("Send postponed", extra={"account_id": account_id, "retry_after": later.retry_after})
        raise RetryLater(later.retry_after) from later
    return claim.sent(result, clock())


def deliver_from_queue(
    body: str, *, receipt_handle: str, receive_count: int, queue: OutboundQueue | None = None
) -> Outcome:
    """`deliver` for one outbound-queue message; a message to retry is hidden for its backoff
    (`RetryLater` is raised again, for the batch to report the message failed)."""
    try:
        return deliver(OutboundRequest.model_validate_json(body))
    except RetryLater as later:
        postpone(receipt_handle, backoff_seconds(receive_count, later.delay), queue=queue)
        raise


def backoff_seconds(receive_count: int, retry_after: float | None) -> int:
    """How long the queue hides a message before its next attempt: the provider's Retry-After
    when it gave one, else 30 s doubling with each receipt; never over 15 minutes."""
    if retry_after is not None:
        return min(MAX_BACKOFF_SECONDS, max(1, math.ceil(retry_after)))
    return min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * int(2 ** max(0, receive_count - 1)))


def postpone(receipt_handle: str, seconds: int, *, queue: OutboundQueue | None = None) -> None:
    queue = queue or OutboundQueue()
    try:
        queue.postpone(receipt_handle, seconds)
    except NotPostponed as error:
        # The message then comes back after the queue's own visibility timeout: later, not lost.
        logger.warning("Could not postpone the message", extra={"error": error.code})


class _Claim:
    """A message this delivery holds (`store.outbound_claims`), and what each outcome logs: every
    write after the claim is conditioned on still holding it."""

    def __init__(self, held: OutboundClaim, request: OutboundRequest) -> None:
        self.held = held
        self.request = request
        self.item = held.item

    @classmethod
    def take(cls, table: Any, request: OutboundRequest, now: datetime) -> _Claim | Outcome:
        """The claim, or why there is none to take (`RetryLater` while another delivery holds it)."""
        claims = OutboundClaims(table)
        held = claims.take(request.message_pk, request.message_sk, now=now, lease=LEASE)
        if held is None:
            return cls._not_taken(claims, request, now)
        return cls(held, request)

    @staticmethod
    def _not_taken(claims: OutboundClaims, request: OutboundRequest, now: datetime) -> Outcome:
        current = claims.message(request.message_pk, request.message_sk)
        where = {"account_id": request.account_id, "message_sk": request.message_sk}
        if current is None:
            logger.warning("No such message to send", extra=where)
            return Outcome.NOT_FOUND
        if current.get("status") == SENDING:
            # Another delivery is sending it now: come back when its lease ends, to see how it went.
            held_until = datetime.fromisoformat(str(current["sending_since"])) + LEASE
            raise RetryLater(max(1.0, (held_until - now).total_seconds()))
        logger.info("Message already handled", extra={**where, "status": current.get("status")})
        return Outcome.ALREADY_HANDLED

    def sent(self, result: SendResult, now: datetime) -> Outcome:
        provider_id = result.provider_message_id
        recorded = self.held.sent(
            account_id=self.request.account_id,
            conversation_id=self.request.conversation_id,
            provider_message_id=provider_id,
            now=now,
            keep=timedelta(days=LOOKUP_DAYS),
        )
        if not recorded:
            # Only after a lease outlived the function: the other holder records its own outcome.
            logger.error(
                "Sent, but the claim was lost before recording it", extra={"provider_id": provider_id}
            )
            return Outcome.ALREADY_HANDLED
        logger.info(
            "Message sent", extra={"account_id": self.request.account_id, "provider_message_id": provider_id}
        )
        return Outcome.SENT

    def fail(self, error: ProviderError) -> Outcome:
        """Record the message `failed` with `error`."""
        if not self.held.fail(error):
            self._lost()
        logger.info(
            "Message not sent", extra={"account_id": self.request.account_id, "error_code": error.code}
        )
        return Outcome.FAILED

    def release(self) -> None:
        """Back to `queued`, for a later delivery to claim."""
        if not self.held.release():
            self._lost()

    def _lost(self) -> None:
        logger.warning("The claim was lost before recording the outcome", extra={"key": self.held.key})


def _send(
    account: Account, to: str, text: str, template: TemplateMessage | None, vault: CredentialVault, send: Send
) -> SendResult:
    """Send with the account's cached credentials; when they are refused, once more with freshly
    read ones if those differ (an admin's new token must not be blamed for the old one's refusal)."""
    model = CREDENTIALS_MODEL[account.provider]

    def load(account_id: str) -> Any:
        return vault.load(account_id, model)

    used = _credentials.get(account.id, load)
    try:
        return send(account, used, to=to, text=text, template=template)
    except CredentialsRejected:
        _credentials.forget(account.id)
        fresh = _credentials.get(account.id, load)
        if fresh == used:
            raise
        return send(account, fresh, to=to, text=text, template=template)


def _credentials_rejected(
    claim: _Claim, account: Account, table: Any, reason: str, clock: Callable[[], datetime]
) -> Outcome:
    claim.fail(ProviderError(code="credentials_rejected", message=reason))
    record_credentials_rejected(account.id, reason, accounts=AccountStore(table), now=clock())
    _credentials.forget(account.id)
    logger.warning("Credentials rejected: account put in error", extra={"account_id": account.id})
    return Outcome.CREDENTIALS_REJECTED


def _now() -> datetime:
    return datetime.now(UTC)
