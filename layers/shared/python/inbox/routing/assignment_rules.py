"""Assignment rules of an account, as saved: how a new conversation finds its person.

Rules are tried in order; the first that finds a valid recipient (an active team member
authorized for the account) wins. Each rule has its parameters and a fallback for when it finds
no one: go on to the next rule (default), leave the conversation unassigned, or assign a given
user. This module says exactly what was configured and checks it when it is saved
(`check_assignment_rules`); `inbox.routing.assignment` applies it to one conversation.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, ValidationError, model_validator

from inbox.directory import CustomFieldName, KnowsUsers, UserId, require_users
from inbox.errors import FieldProblem, Invalid
from inbox.model import Model


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


class _Params(Model):
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


class Fallback(Model):
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


class AssignmentRule(Model):
    model_config = ConfigDict(extra="forbid")

    type: RuleType
    params: dict[str, Any] = Field(default_factory=dict, description="per type; see the *Params schemas")
    fallback: Fallback = Field(default_factory=Fallback)

    def typed_params(self) -> _Params:
        return PARAMS_MODEL[self.type].model_validate(self.params)


class AssignmentRules(Model):
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
