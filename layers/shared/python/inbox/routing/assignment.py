"""Assigning a new conversation: `decide_assignment` applies the account's assignment rules
(`inbox.routing.assignment_rules`) to one conversation. A pure function (the router passes the
directory, the workload, the clock and the random source in) whose answer records every rule
tried and why it failed.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from inbox.directory import Customer
from inbox.model import Model
from inbox.routing.assignment_rules import (
    AssignmentRule,
    AssignmentRules,
    CustomerCustomFieldParams,
    FallbackAction,
    LastAssignedUserParams,
    RuleType,
    TeamBrandParams,
)


class Candidate(Model):
    """A directory user with their current workload: open conversations assigned to them on the
    account, and when they were last assigned one."""

    user_id: str
    active: bool = True
    brands: list[str] = []
    open_assigned: int = 0
    last_assigned_at: datetime | None = None


class Outcome(StrEnum):
    MATCHED = "matched"
    NO_CUSTOMER = "no_customer"  # the conversation has no customer record
    NO_VALUE = "no_value"  # the customer has no sales rep / nothing usable in the custom field
    UNKNOWN_USER = "unknown_user"  # the named user is not in the directory
    INACTIVE = "inactive"
    NOT_AUTHORIZED = "not_authorized"  # not an authorized user of the account
    NO_CANDIDATE = "no_candidate"  # no valid recipient at all
    NO_BRAND = "no_brand"  # neither the customer nor the rule names a brand
    NO_HISTORY = "no_history"  # nobody handled this contact before
    HISTORY_TOO_OLD = "history_too_old"
    INVALID_PARAMS = "invalid_params"  # stored params no longer valid for the rule (checked at save)


class RuleTrial(Model):
    """One rule tried: its outcome, the user it named or chose, and the fallback taken after it
    failed (None when it matched)."""

    rule: RuleType
    params: dict[str, Any]
    outcome: Outcome
    user_id: str | None = None
    detail: str | None = None
    fallback: FallbackAction | None = None


class AssignmentReason(StrEnum):
    RULE_MATCHED = "rule_matched"
    FALLBACK_ASSIGN_USER = "fallback_assign_user"
    FALLBACK_UNASSIGNED = "fallback_unassigned"
    NO_RULE_MATCHED = "no_rule_matched"
    NO_RULES = "no_rules"


class AssignmentDecision(Model):
    """Who gets the conversation (None: unassigned), every rule tried in order, and why."""

    # Defaulted like every optional field of a stored model: items leave nulls out.
    assignee_id: str | None = None
    trials: list[RuleTrial]
    fallback_user_id: str | None = None
    reason: AssignmentReason


@dataclass(frozen=True)
class _Pick:
    outcome: Outcome
    user_id: str | None = None
    detail: str | None = None


class _Recipients:
    """Who may receive the account's conversations: in the directory, active, authorized."""

    def __init__(self, users: Mapping[str, Candidate], authorized: Collection[str]) -> None:
        self.users = users
        self.authorized = set(authorized)

    def why_not(self, user_id: str) -> Outcome | None:
        """None when `user_id` is a valid recipient; else the first reason it is not."""
        user = self.users.get(user_id)
        if user is None:
            return Outcome.UNKNOWN_USER
        if not user.active:
            return Outcome.INACTIVE
        if user_id not in self.authorized:
            return Outcome.NOT_AUTHORIZED
        return None

    def named(self, user_id: str) -> _Pick:
        problem = self.why_not(user_id)
        return _Pick(outcome=problem or Outcome.MATCHED, user_id=user_id)

    def valid(self) -> list[Candidate]:
        return [user for user_id, user in self.users.items() if self.why_not(user_id) is None]


def _least_loaded(candidates: list[Candidate]) -> Candidate:
    # Fewest open conversations; then the one assigned longest ago (never assigned first); then by
    # id, so that the same workload always gives the same answer.
    def key(c: Candidate) -> tuple[int, bool, float, str]:
        at = c.last_assigned_at
        return (c.open_assigned, at is not None, at.timestamp() if at else 0.0, c.user_id)

    return min(candidates, key=key)


def _customer_sales_rep(customer: Customer | None, recipients: _Recipients) -> _Pick:
    if customer is None:
        return _Pick(outcome=Outcome.NO_CUSTOMER)
    if not customer.sales_rep_id:
        return _Pick(outcome=Outcome.NO_VALUE, detail="the customer has no sales rep")
    return recipients.named(customer.sales_rep_id)


def _customer_custom_field(
    params: CustomerCustomFieldParams, customer: Customer | None, recipients: _Recipients
) -> _Pick:
    if customer is None:
        return _Pick(outcome=Outcome.NO_CUSTOMER)
    value = customer.custom_fields.get(params.field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return _Pick(outcome=Outcome.NO_VALUE, detail=f"the customer has no {params.field!r}")
    if not isinstance(value, str):
        return _Pick(outcome=Outcome.NO_VALUE, detail=f"{params.field!r} holds {value!r}, not a user id")
    return recipients.named(value.strip())


def _last_assigned_user(
    params: LastAssignedUserParams,
    last_assignee: tuple[str, datetime] | None,
    now: datetime,
    recipients: _Recipients,
) -> _Pick:
    if last_assignee is None:
        return _Pick(outcome=Outcome.NO_HISTORY)
    user_id, assigned_at = last_assignee
    if params.within_days is not None and now - assigned_at > timedelta(days=params.within_days):
        return _Pick(
            outcome=Outcome.HISTORY_TOO_OLD,
            user_id=user_id,
            detail=f"last assigned {assigned_at.isoformat()}, over {params.within_days} days ago",
        )
    return recipients.named(user_id)


def _team_brand(params: TeamBrandParams, customer: Customer | None, recipients: _Recipients) -> _Pick:
    brand = (customer.brand if customer else None) or params.brand
    if not brand:
        return _Pick(outcome=Outcome.NO_BRAND)
    wanted = brand.strip().casefold()
    members = [c for c in recipients.valid() if any(b.strip().casefold() == wanted for b in c.brands)]
    if not members:
        return _Pick(outcome=Outcome.NO_CANDIDATE, detail=f"no valid recipient of brand {brand!r}")
    return _Pick(outcome=Outcome.MATCHED, user_id=_least_loaded(members).user_id, detail=f"brand {brand!r}")


def _load_balanced(recipients: _Recipients) -> _Pick:
    valid = recipients.valid()
    if not valid:
        return _Pick(outcome=Outcome.NO_CANDIDATE)
    return _Pick(outcome=Outcome.MATCHED, user_id=_least_loaded(valid).user_id)


def _random(recipients: _Recipients, rng: random.Random) -> _Pick:
    # Sorted so that a seeded rng gives the same draw whatever the directory's order.
    valid = sorted(c.user_id for c in recipients.valid())
    if not valid:
        return _Pick(outcome=Outcome.NO_CANDIDATE)
    return _Pick(outcome=Outcome.MATCHED, user_id=rng.choice(valid))


def _try(
    rule: AssignmentRule,
    *,
    recipients: _Recipients,
    customer: Customer | None,
    last_assignee: tuple[str, datetime] | None,
    now: datetime,
    rng: random.Random,
) -> _Pick:
    try:
        params = rule.typed_params()
    except ValidationError as error:
        return _Pick(outcome=Outcome.INVALID_PARAMS, detail=str(error.errors()[0]["msg"]))
    if isinstance(params, CustomerCustomFieldParams):
        return _customer_custom_field(params, customer, recipients)
    if isinstance(params, LastAssignedUserParams):
        return _last_assigned_user(params, last_assignee, now, recipients)
    if isinstance(params, TeamBrandParams):
        return _team_brand(params, customer, recipients)
    if rule.type is RuleType.CUSTOMER_SALES_REP:
        return _customer_sales_rep(customer, recipients)
    if rule.type is RuleType.LOAD_BALANCED:
        return _load_balanced(recipients)
    return _random(recipients, rng)


def decide_assignment(
    rules: AssignmentRules,
    *,
    authorized: Collection[str],
    users: Mapping[str, Candidate],
    customer: Customer | None,
    last_assignee: tuple[str, datetime] | None,
    now: datetime,
    rng: random.Random,
) -> AssignmentDecision:
    """Who gets a new conversation, by the account's rules in order; every rule tried is recorded.

    A valid recipient is in `users` (keyed by user id), active, and in `authorized` (the account's
    authorized users). The rules:

    - `customer_sales_rep`: the customer's `sales_rep_id`.
    - `customer_custom_field`: the user id (a string) in the customer's custom field `params.field`.
    - `last_assigned_user`: `last_assignee` (user id, when assigned), if at most `within_days` ago.
    - `team_brand`: the customer's brand, else `params.brand` (the customer's wins even when it has
      no valid member); the valid users with that brand (case-insensitive), least loaded first.
    - `load_balanced`: all valid users, least loaded first. Least loaded: fewest `open_assigned`,
      then least recently assigned (never assigned first), then by user id.
    - `random`: uniform over the valid users (`rng.choice` on their sorted ids).

    A rule naming one user fails with why that user is not valid: `unknown_user`, `inactive`,
    `not_authorized` (checked in that order). A failed rule's fallback: `next_rule` goes on;
    `unassigned` stops with no assignee; `assign_user` assigns the fallback user if valid. If the
    fallback user is not valid either, the trial's `detail` says so, its `fallback` reads
    `next_rule`, and the next rule is tried: a fallback user who left or lost access should not
    leave conversations unassigned while later rules could still place them.

    `load_balanced` and `team_brand` read the workload given; with several routers at once the
    caller keeps it correct (atomic counters) and passes the current numbers.
    """
    if not rules.rules:
        return AssignmentDecision(assignee_id=None, trials=[], reason=AssignmentReason.NO_RULES)
    recipients = _Recipients(users, authorized)
    trials: list[RuleTrial] = []
    for rule in rules.rules:
        pick = _try(
            rule, recipients=recipients, customer=customer, last_assignee=last_assignee, now=now, rng=rng
        )
        trial = RuleTrial(
            rule=rule.type, params=rule.params, outcome=pick.outcome, user_id=pick.user_id, detail=pick.detail
        )
        trials.append(trial)
        if pick.outcome is Outcome.MATCHED:
            return AssignmentDecision(
                assignee_id=pick.user_id, trials=trials, reason=AssignmentReason.RULE_MATCHED
            )
        action, fallback_user = rule.fallback.action, rule.fallback.user_id
        if action is FallbackAction.UNASSIGNED:
            trial.fallback = FallbackAction.UNASSIGNED
            return AssignmentDecision(
                assignee_id=None, trials=trials, reason=AssignmentReason.FALLBACK_UNASSIGNED
            )
        if action is FallbackAction.ASSIGN_USER and fallback_user:
            problem = recipients.why_not(fallback_user)
            if problem is None:
                trial.fallback = FallbackAction.ASSIGN_USER
                return AssignmentDecision(
                    assignee_id=fallback_user,
                    trials=trials,
                    fallback_user_id=fallback_user,
                    reason=AssignmentReason.FALLBACK_ASSIGN_USER,
                )
            skipped = f"fallback user {fallback_user} not assigned: {problem}"
            trial.detail = f"{trial.detail}; {skipped}" if trial.detail else skipped
        trial.fallback = FallbackAction.NEXT_RULE
    return AssignmentDecision(assignee_id=None, trials=trials, reason=AssignmentReason.NO_RULE_MATCHED)
