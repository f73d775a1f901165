"""WhatsApp templates through the provider's review: submitted (Meta, or Twilio's Content API,
through the account's adapter in `inbox.channels`), then followed to `approved` or `rejected` by
Meta's review webhook (`apply_review`) and by a periodic sync of the pending ones (`sync_pending`).

A submission never raises for the provider's sake: it returns the template's new `Approval`, in
`error` with a reason for the admin when the provider refused, failed or was out of reach, so the
template is never lost between two states and can be submitted again.

What each provider is sent, and why it differs, is in `inbox.whatsapp.template_submission`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from inbox import channels
from inbox.accounts import lifecycle as account_lifecycle
from inbox.accounts.models import (
    CHANNEL_OF,
    Account,
    AccountStatus,
    Channel,
    Provider,
)
from inbox.errors import Conflict, InboxError, Invalid, NotFound
from inbox.model import Model
from inbox.observability import logger
from inbox.routing.events import TemplateStatusEvent
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault, MissingCredentials
from inbox.store.templates import TemplateStore
from inbox.templates.lint import example_for, lint, meta_name
from inbox.templates.models import Approval, ApprovalStatus, Template
from inbox.whatsapp.template_review import CredentialsRejected, Review, ReviewFailed
from inbox.whatsapp.template_submission import Submission

__all__ = [
    "SyncReport",
    "apply_review",
    "example_for",
    "lint",
    "meta_name",
    "needs_review",
    "submit",
    "sync_pending",
]

# The provider's status (Meta's events and fields, Twilio's approval status), any case, to ours.
# Others (FLAGGED, IN_APPEAL, unsubmitted …) leave the status as it is and only say why.
PROVIDER_STATUS = {
    "APPROVED": ApprovalStatus.APPROVED,
    "REJECTED": ApprovalStatus.REJECTED,
    "PENDING": ApprovalStatus.PENDING,
    "RECEIVED": ApprovalStatus.PENDING,  # Twilio: the request reached it, WhatsApp has not answered
    "PAUSED": ApprovalStatus.PAUSED,
    "DISABLED": ApprovalStatus.DISABLED,
}
NO_CREDENTIALS = "The account has no stored credentials: give them in the account's settings."
# A template is asked about at most this often (the sync runs every 15 minutes).
RECHECK_AFTER = timedelta(minutes=10)
# Meta's event time has a one-second grain and clocks differ: a review dated a little before our
# submission is still about it; one from well before is about an earlier submission.
CLOCK_TOLERANCE = timedelta(minutes=2)
SYNC_PAGE = 50
# A check takes at most the provider timeout; the run stops before one could outlast the function.
SECONDS_PER_CHECK = 15.0
# Pages of pending templates read by one run at most (they may all have been checked recently).
MAX_SYNC_PAGES = 20


def needs_review(provider: Provider) -> bool:
    """Whether the provider's templates must be approved before use (WhatsApp: Meta, Twilio)."""
    return CHANNEL_OF[provider] is Channel.WHATSAPP


def submit(
    template: Template, account: Account, *, vault: CredentialVault | None = None, now: datetime
) -> Approval:
    """Submit the template for review at the account's provider: its new approval (`pending`, or
    what the provider answered at once; `error` with the reason when the submission failed, the
    provider's ids kept). Credentials the provider refuses also put the account in `error`."""
    previous = template.approval
    if not needs_review(account.provider):
        return Approval(status=ApprovalStatus.NOT_REQUIRED, updated_at=now)
    try:
        lint(template, account.provider)
    except Invalid as invalid:
        return _failed(previous, invalid.message, now, attempted=False)
    vault = vault if vault is not None else CredentialVault()
    try:
        submission = channels.adapter(account.provider).submit_template(template, account, vault)
        return _submitted(previous, submission, now)
    except MissingCredentials:
        _credentials_rejected(account, NO_CREDENTIALS, AccountStore(), now)
        return _failed(previous, NO_CREDENTIALS, now, attempted=False)
    except CredentialsRejected as rejected:
        _credentials_rejected(account, rejected.reason, AccountStore(), now)
        return _failed(previous, rejected.reason, now, attempted=True)
    except ReviewFailed as failed:
        return _failed(previous, failed.reason, now, attempted=True)


def apply_review(template: Template, event: TemplateStatusEvent, *, now: datetime) -> Approval | None:
    """The approval after Meta's review event; None when it changes nothing (a redelivery, a
    review of an earlier submission)."""
    current = template.approval
    if current.submitted_at and _aware(event.occurred_at) < _aware(current.submitted_at) - CLOCK_TOLERANCE:
        return None
    return _reviewed(
        current, Review(current.provider_template_id or "", event.event, event.reason), "Meta", now
    )


class SyncReport(Model):
    """One run of the sync: templates asked about, whose status moved, whose check failed, and
    left for a later run (checked recently, account unusable, changed meanwhile)."""

    checked: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0


def sync_pending(
    *,
    store: TemplateStore,
    accounts: AccountStore,
    vault: CredentialVault,
    now: datetime,
    limit: int = 50,
    recheck_after: timedelta = RECHECK_AFTER,
    seconds_left: Callable[[], float] | None = None,
) -> SyncReport:
    """Ask the providers about pending templates (at most `limit` per run), account by account,
    and store what moved. Each check is recorded on its template (`checked_at`, and the reason when
    it failed); an account whose credentials are refused is recorded once and left alone for the
    rest of the run, and later runs skip it until it is reconnected. An account whose provider
    fails or does not answer is left for the next run too. `seconds_left` (the function's
    remaining time) stops the run before a check could outlast it."""
    run = _SyncRun(store, accounts, vault, now, recheck_after, seconds_left or (lambda: float("inf")))
    by_account: dict[str, list[Template]] = {}
    for template in _due(run, limit):
        by_account.setdefault(template.account_id, []).append(template)
    for account_id, templates in by_account.items():
        _sync_account(run, account_id, templates)
    return run.report


# --- Submission ----------------------------------------------------------------------------------


def _submitted(previous: Approval, submission: Submission, now: datetime) -> Approval:
    review = submission.review
    approval = Approval(
        status=_status(review.status) or ApprovalStatus.PENDING,
        reason=review.reason,
        provider_template_id=review.provider_template_id,
        provider_name=submission.name,
        submitted_at=now,
        updated_at=now,
        attempts=previous.attempts + 1,
    )
    if submission.variable_order is None:
        return approval
    return approval.model_copy(update={"variable_order": submission.variable_order})


def _failed(previous: Approval, reason: str, now: datetime, *, attempted: bool) -> Approval:
    """`error`, with why; the provider's ids kept (the template may exist there already)."""
    return previous.model_copy(
        update={
            "status": ApprovalStatus.ERROR,
            "reason": reason,
            "updated_at": now,
            "attempts": previous.attempts + (1 if attempted else 0),
        }
    )


def _credentials_rejected(account: Account, reason: str, accounts: AccountStore, now: datetime) -> None:
    try:
        account_lifecycle.record_credentials_rejected(account.id, reason, accounts=accounts, now=now)
    except InboxError as error:
        # The account was deleted or kept changing meanwhile: the template's state says it anyway.
        logger.warning(
            "Could not put the account in error", extra={"account_id": account.id, "code": error.code}
        )


# --- Reviews -------------------------------------------------------------------------------------


def _status(provider_status: str) -> ApprovalStatus | None:
    return PROVIDER_STATUS.get(provider_status.strip().upper())


def _reviewed(current: Approval, review: Review, provider: str, now: datetime) -> Approval | None:
    """The approval after the provider's word on it; None when nothing changes."""
    status = _status(review.status)
    if status is None:
        status, reason = current.status, review.reason or f"{provider} reports the template {review.status}."
    elif status is ApprovalStatus.REJECTED:
        reason = review.reason or f"{provider} rejected the template without giving a reason."
    elif status in (ApprovalStatus.PAUSED, ApprovalStatus.DISABLED):
        reason = review.reason or f"{provider} {status.value} the template."
    else:
        reason = None
    if (status, reason) == (current.status, current.reason):
        return None
    return current.model_copy(update={"status": status, "reason": reason, "updated_at": now})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- Sync ----------------------------------------------------------------------------------------


@dataclass
class _SyncRun:
    store: TemplateStore
    accounts: AccountStore
    vault: CredentialVault
    now: datetime
    recheck_after: timedelta
    seconds_left: Callable[[], float]
    report: SyncReport = field(default_factory=SyncReport)


def _due(run: _SyncRun, limit: int) -> list[Template]:
    """Up to `limit` pending templates not asked about within `recheck_after`."""
    due: list[Template] = []
    cursor = None
    for _ in range(MAX_SYNC_PAGES):
        page = run.store.pending(cursor=cursor, limit=SYNC_PAGE)
        for template in page.items:
            if len(due) >= limit:
                return due
            if _recent(template.approval, run.now, run.recheck_after):
                run.report.skipped += 1
            else:
                due.append(template)
        cursor = page.next_cursor
        if not cursor:
            break
    return due


def _recent(approval: Approval, now: datetime, recheck_after: timedelta) -> bool:
    last = approval.checked_at or approval.submitted_at
    return last is not None and _aware(now) - _aware(last) < recheck_after


def _sync_account(run: _SyncRun, account_id: str, templates: list[Template]) -> None:
    report = run.report
    try:
        account = run.accounts.get(account_id)
    except NotFound:
        report.skipped += len(templates)
        return
    if account.status is not AccountStatus.ACTIVE or not needs_review(account.provider):
        # Paused by the admin, or in error until reconnected: asking again would only fail again.
        report.skipped += len(templates)
        return
    channel = channels.adapter(account.provider)
    try:
        ask = channel.template_reviewer(account, run.vault)
    except MissingCredentials:
        _credentials_rejected(account, NO_CREDENTIALS, run.accounts, run.now)
        report.skipped += len(templates)
        return
    provider = channel.label
    for index, listed in enumerate(templates):
        if run.seconds_left() < SECONDS_PER_CHECK:
            report.skipped += len(templates) - index
            return
        stop = _check(run, listed, ask, provider)
        if stop is not None:
            if isinstance(stop, CredentialsRejected):
                _credentials_rejected(account, stop.reason, run.accounts, run.now)
            report.skipped += len(templates) - index - 1
            return


def _check(
    run: _SyncRun, listed: Template, ask: Callable[[str], Review], provider: str
) -> CredentialsRejected | ReviewFailed | None:
    """Ask about one template and store the answer (or the failed check); the failure that should
    stop the account's checks for this run, if any."""
    report = run.report
    try:
        template, version = run.store.read(listed.id)
    except NotFound:
        report.skipped += 1
        return None
    provider_id = template.approval.provider_template_id
    if (
        template.approval.status is not ApprovalStatus.PENDING
        or not provider_id
        or _recent(template.approval, run.now, run.recheck_after)
    ):
        report.skipped += 1  # moved, or checked, since it was listed
        return None
    report.checked += 1
    stop: CredentialsRejected | ReviewFailed | None = None
    try:
        review = ask(provider_id)
    except (CredentialsRejected, ReviewFailed) as failed:
        report.failed += 1
        after = _check_failed(template.approval, failed.reason, run.now)
        # Refused credentials, or a provider down or silent: its other templates would fare no better.
        if isinstance(failed, CredentialsRejected) or failed.retryable:
            stop = failed
    else:
        moved = _reviewed(template.approval, review, provider, run.now) or template.approval
        after = moved.model_copy(update={"checked_at": run.now})
    try:
        run.store.replace(template, template.model_copy(update={"approval": after}), version=version)
    except Conflict:
        report.skipped += 1  # changed meanwhile (an edit, a webhook): the next run looks again
    else:
        report.changed += after.status is not template.approval.status
    return stop


def _check_failed(approval: Approval, reason: str, now: datetime) -> Approval:
    """Still pending (the review goes on at the provider); the failed check recorded."""
    return approval.model_copy(update={"checked_at": now, "reason": f"Could not check the review: {reason}"})
