"""Auto-reply of an account: what an admin configured, and whether a given message gets one.

`AutoReplySettings` says which triggers answer incoming messages, and with what. The decision for
one message is `decide_auto_reply`, a pure function (the router passes the clock, the contact's
history and the account's state in); its RFC 3834 loop protection, `automatic_message_reason`,
lives with the email channel (`inbox.email.automatic`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from inbox.accounts.models import AccountStatus
from inbox.business_hours import BusinessHours
from inbox.email.automatic import automatic_message_reason
from inbox.model import Model
from inbox.templates.rendering import render


class Trigger(StrEnum):
    OUTSIDE_BUSINESS_HOURS = "outside_business_hours"
    FIRST_CONTACT = "first_contact"
    ALWAYS = "always"


# Twice a WhatsApp text's limit is still a short email; longer is a mistake.
Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
MAX_COOLDOWN_MINUTES = 30 * 24 * 60


class AutoReplyRule(Model):
    model_config = ConfigDict(extra="forbid")

    trigger: Trigger
    message: Message


class AutoReplySettings(Model):
    """Rules are tried in order; at most one auto-reply per incoming message, and at most one per
    contact per `cooldown_minutes`."""

    model_config = ConfigDict(extra="forbid")

    # Strict: `0` or `"yes"` is not a boolean (the document says so).
    enabled: bool = Field(default=False, strict=True)
    # Declared after `enabled`, which its validator reads.
    rules: list[AutoReplyRule] = Field(default_factory=list, max_length=10, validate_default=True)
    cooldown_minutes: int = Field(default=24 * 60, ge=0, le=MAX_COOLDOWN_MINUTES, strict=True)

    @field_validator("rules")
    @classmethod
    def _usable(cls, rules: list[AutoReplyRule], info: ValidationInfo) -> list[AutoReplyRule]:
        triggers = [rule.trigger for rule in rules]
        if len(set(triggers)) != len(triggers):
            raise ValueError("each trigger may appear once")
        if info.data.get("enabled") and not rules:
            raise ValueError("an enabled auto-reply needs at least one rule")
        return rules


# A message this old when it reaches the router was held back (a provider retrying after an
# outage): answering "we are closed" hours later would be wrong, so it gets no auto-reply.
MAX_MESSAGE_AGE = timedelta(hours=3)
# At most this many auto-replies to one address in a day, whatever the cooldown (0 included) and
# however many conversations it opens: two auto-responders facing each other stop there.
MAX_AUTO_REPLIES_PER_DAY = 5
AUTO_REPLY_DAY = timedelta(hours=24)


class AutoReplyReason(StrEnum):
    SENT = "sent"
    DISABLED = "disabled"
    NO_RULES = "no_rules"
    ACCOUNT_PAUSED = "account_paused"
    ACCOUNT_ERROR = "account_error"
    STALE_MESSAGE = "stale_message"
    AUTOMATIC_MESSAGE = "automatic_message"
    COOLDOWN = "cooldown"
    DAILY_CAP = "daily_cap"
    NO_TRIGGER_MATCHED = "no_trigger_matched"
    MISSING_VARIABLES = "missing_variables"


class AutoReplyDecision(Model):
    """Whether to send an auto-reply, with which trigger and text; otherwise why not.

    `trigger` is the rule that fired (also set for `missing_variables`: the rule whose message could
    not be filled); `text` only when `send`. `detail` explains `automatic_message` (the RFC 3834
    reason), `missing_variables` (the names, comma-separated) and `stale_message` / `cooldown`.
    """

    send: bool
    trigger: Trigger | None = None
    text: str | None = None
    reason: AutoReplyReason
    detail: str | None = None


def _trigger_holds(trigger: Trigger, *, hours: BusinessHours, sent_at: datetime, first_contact: bool) -> bool:
    if trigger is Trigger.OUTSIDE_BUSINESS_HOURS:
        return not hours.is_open(sent_at)
    if trigger is Trigger.FIRST_CONTACT:
        return first_contact
    return True


def decide_auto_reply(
    settings: AutoReplySettings,
    *,
    account_status: AccountStatus,
    hours: BusinessHours,
    sent_at: datetime,
    now: datetime,
    first_contact: bool,
    last_auto_reply_at: datetime | None,
    headers: Mapping[str, str],
    sender: str | None,
    context: Mapping[str, str | None],
    own_domains: Collection[str] = (),
    recent_auto_replies: Collection[datetime] = (),
) -> AutoReplyDecision:
    """The auto-reply for one incoming message: at most one, or the first reason there is none.

    Checked in this order: disabled (or enabled with no rules) → account paused or in error (it
    cannot send) → stale (`now - sent_at` over `MAX_MESSAGE_AGE`; exactly at it is still answered)
    → automatic message (`automatic_message_reason`) → cooldown (the contact's last auto-reply
    less than `cooldown_minutes` before `now`; exactly that long ago is answered again; 0: no
    cooldown) → the daily cap (`MAX_AUTO_REPLIES_PER_DAY` of `recent_auto_replies`, the contact's
    auto-replies, within 24 h of `now`) → the rules in the account's order, the first whose
    trigger holds wins:
    `outside_business_hours` when the hours are closed at `sent_at` (when the contact wrote, not
    when we process it), `first_contact` when `first_contact`, `always` always.

    The winning rule's message is rendered with `context`. If a variable cannot be filled, no
    auto-reply is sent (reason `missing_variables`), and no later rule is tried: the admin chose
    that message for this situation, and it is broken; sending another rule's message instead (an
    "always" text to someone writing at night) would surprise both the admin and the contact.
    All datetimes are timezone-aware.
    """

    def no(
        reason: AutoReplyReason, detail: str | None = None, trigger: Trigger | None = None
    ) -> AutoReplyDecision:
        return AutoReplyDecision(send=False, reason=reason, detail=detail, trigger=trigger)

    if not settings.enabled:
        return no(AutoReplyReason.DISABLED)
    if not settings.rules:
        return no(AutoReplyReason.NO_RULES)
    if account_status is AccountStatus.PAUSED:
        return no(AutoReplyReason.ACCOUNT_PAUSED)
    if account_status is AccountStatus.ERROR:
        return no(AutoReplyReason.ACCOUNT_ERROR)
    age = now - sent_at
    if age > MAX_MESSAGE_AGE:
        return no(AutoReplyReason.STALE_MESSAGE, f"sent {age} before it was routed")
    if automatic := automatic_message_reason(headers, sender, own_domains=own_domains):
        return no(AutoReplyReason.AUTOMATIC_MESSAGE, automatic)
    cooldown = timedelta(minutes=settings.cooldown_minutes)
    # A last reply in the future (clock skew between routers) counts as within the cooldown.
    if cooldown and last_auto_reply_at is not None and now - last_auto_reply_at < cooldown:
        return no(AutoReplyReason.COOLDOWN, f"last auto-reply at {last_auto_reply_at.isoformat()}")
    today = [at for at in recent_auto_replies if now - at < AUTO_REPLY_DAY]
    if len(today) >= MAX_AUTO_REPLIES_PER_DAY:
        return no(AutoReplyReason.DAILY_CAP, f"{len(today)} auto-replies to this address in 24 hours")
    for rule in settings.rules:
        if not _trigger_holds(rule.trigger, hours=hours, sent_at=sent_at, first_contact=first_contact):
            continue
        rendered = render(rule.message, context)
        if rendered.missing:
            return no(AutoReplyReason.MISSING_VARIABLES, ", ".join(rendered.missing), rule.trigger)
        return AutoReplyDecision(
            send=True, trigger=rule.trigger, text=rendered.text, reason=AutoReplyReason.SENT
        )
    return no(AutoReplyReason.NO_TRIGGER_MATCHED)
