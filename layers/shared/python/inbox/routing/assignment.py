"""Assignment rules of an account: how a new conversation finds its person.

Rules are tried in order; the first that finds a valid recipient (an active team member
authorized for the account) wins. Each rule has its parameters and a fallback for when it finds
no one: go on to the next rule (default), leave the conversation unassigned, or assign a given
user. This module says exactly what was configured, and `decide_assignment` applies it to one
conversation: a pure function (the router passes the directory, the workload, the clock and the
random source in) whose answer records every rule tried and why it failed.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from inbox.directory import Customer, CustomFieldName, KnowsUsers, UserId, require_users
from inbox.errors import FieldProblem, Invalid


class RuleType(StrEnum):
    CUSTOMER_SALES_REP = "customer_sales_rep"
    CUSTOMER_CUSTOM_FIELD = "customer_custom_field"
    LAST_ASSIGNED_USER = "last_assigned_user"
    TEAM_BRAND = "team_brand"
    LOAD_BALANCED = "load_balanced"
    RANDOM = "random"


class FallbackAction(StrEnum):
    NEXT_RULE = "next_rule"
    UNASSIGNED = "unassigned"
    ASSIGN_USER = "assign_user"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerSalesRepParams(_Params):
    """The sales rep of the customer record."""


class CustomerCustomFieldParams(_Params):
    """The user whose id is in this custom field of the customer."""

    field: CustomFieldName


class LastAssignedUserParams(_Params):
    """The last person who handled this contact, if within `within_days` (any time when null)."""

    within_days: int | None = Field(default=None, ge=1, le=3650)


class TeamBrandParams(_Params):
    """Team members whose brands include the conversation's brand (the customer's, else the
    account's `brand` here), least loaded first."""

    brand: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = (
        None
    )


class LoadBalancedParams(_Params):
    """The authorized member with the fewest open assigned conversations (ties: least recently
    assigned)."""


class RandomParams(_Params):
    """A member drawn uniformly among the authorized ones."""


PARAMS_MODEL: dict[RuleType, type[_Params]] = {
    RuleType.CUSTOMER_SALES_REP: CustomerSalesRepParams,
    RuleType.CUSTOMER_CUSTOM_FIELD: CustomerCustomFieldParams,
    RuleType.LAST_ASSIGNED_USER: LastAssignedUserParams,
    RuleType.TEAM_BRAND: TeamBrandParams,
    RuleType.LOAD_BALANCED: LoadBalancedParams,
    RuleType.RANDOM: RandomParams,
}


class Fallback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: FallbackAction = FallbackAction.NEXT_RULE
    user_id: UserId | None = None

    @model_validator(mode="after")
    def _user_only_for_assign_user(self) -> Fallback:
        if self.action is FallbackAction.ASSIGN_USER and not self.user_id:
            raise ValueError("user_id is required when the action is assign_user")
        if self.action is not FallbackAction.ASSIGN_USER and self.user_id:
            raise ValueError("user_id is only for the action assign_user")
        return self


class AssignmentRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: RuleType
    params: dict[str, Any] = Field(default_factory=dict, description="per type; see the *Params schemas")
    fallback: Fallback = Field(default_factory=Fallback)

    def typed_params(self) -> _Params:
        return PARAMS_MODEL[self.type].model_validate(self.params)


class AssignmentRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[AssignmentRule] = Field(default_factory=list, max_length=20)


def check_assignment_rules(settings: AssignmentRules, directory: KnowsUsers) -> AssignmentRules:
    """Each rule's params valid for its type (normalized), and every fallback user in the
    directory; otherwise 422 naming `rules[i].params.<field>` or `rules[i].fallback.user_id`."""
    problems: list[FieldProblem] = []
    checked = []
    for index, rule in enumerate(settings.rules):
        try:
            params = rule.typed_params()
        except ValidationError as error:
            problems += [
                FieldProblem(
                    ".".join([f"rules[{index}].params", *(str(p) for p in e["loc"])]),
                    "is not a parameter of this rule"
                    if e["type"] == "extra_forbidden"
                    else "is required"
                    if e["type"] == "missing"
                    else e["msg"],
                )
                for e in error.errors()
            ]
            continue
        checked.append(rule.model_copy(update={"params": params.model_dump(exclude_none=True)}))
    if problems:
        raise Invalid(
            "; ".join(f"{p.field}: {p.message}" for p in problems), code="validation_error", details=problems
        )
    for index, rule in enumerate(settings.rules):
        if rule.fallback.user_id:
            require_users(directory, [rule.fallback.user_id], f"rules[{index}].fallback.user_id")
    return AssignmentRules(rules=checked)


# --- Deciding ------------------------------------------------------------------------------------


class Candidate(BaseModel):
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


class RuleTrial(BaseModel):
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


class AssignmentDecision(BaseModel):
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
