"""The team and customer directory: who can be assigned conversations, and whom they talk to.

Users are the team (their `id` is the Cognito user's `sub`); customers are the business's
contacts, found by email address or phone number when a message arrives.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Protocol

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator

from inbox.accounts.models import EmailAddress, PhoneNumber
from inbox.errors import FieldProblem, Invalid
from inbox.model import Model
from inbox.records import Tombstoned

UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@:+-]{1,128}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Brand = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
CustomFieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
# DynamoDB's numbers (boto3 stores them through this context): 38 significant digits, a magnitude
# between 1e-130 and 9.99e125. A number beyond them is refused here, naming its field.
_STORABLE_NUMBERS = decimal.Context(
    prec=38,
    Emin=-128,
    Emax=126,
    traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded, decimal.Underflow],
)


def _storable(value: str | int | float | bool | None) -> str | int | float | bool | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            _STORABLE_NUMBERS.create_decimal(repr(value))
        except decimal.DecimalException:
            raise ValueError(
                "a number has at most 38 significant digits and a magnitude between 1e-130 and 9.99e125"
            ) from None
    return value


CustomFieldValue = Annotated[
    str | int | Annotated[float, Field(allow_inf_nan=False)] | bool | None, AfterValidator(_storable)
]
# A transaction holds 100 writes: a customer and its lookups must fit in one.
MAX_CONTACT_POINTS = 20


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class UserFields(Model):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: EmailAddress
    brands: list[Brand] = Field(default_factory=list, max_length=50)
    active: bool = Field(default=True, strict=True)  # `0` or `"yes"` is not a boolean

    _distinct_brands = field_validator("brands")(_distinct)


class UserCreate(UserFields):
    id: UserId | None = Field(default=None, description="The Cognito user's `sub`; generated when absent")


class User(UserFields, Tombstoned):
    id: str
    created_at: datetime
    updated_at: datetime


class CustomerFields(Model):
    model_config = ConfigDict(extra="forbid")

    name: Name
    company_name: Name | None = None
    sales_rep_id: UserId | None = None
    brand: Brand | None = None
    custom_fields: dict[CustomFieldName, CustomFieldValue] = Field(default_factory=dict, max_length=100)
    emails: list[EmailAddress] = Field(default_factory=list, max_length=MAX_CONTACT_POINTS)
    phones: list[PhoneNumber] = Field(default_factory=list, max_length=MAX_CONTACT_POINTS)

    @field_validator("emails")
    @classmethod
    def _distinct_emails(cls, emails: list[str]) -> list[str]:
        return _distinct([e.lower() for e in emails])

    _distinct_phones = field_validator("phones")(_distinct)


class Customer(CustomerFields):
    id: str
    created_at: datetime
    updated_at: datetime


class KnowsUsers(Protocol):
    def missing(self, user_ids: Iterable[str]) -> list[str]: ...


def require_users(directory: KnowsUsers, user_ids: Sequence[str], field: str) -> None:
    """422 naming `field` (or `field[i]`) for each id that is not a current user of the directory."""
    unknown = set(directory.missing(user_ids))
    if not unknown:
        return
    many = len(user_ids) > 1 or field.endswith("_ids")
    details = [
        FieldProblem(f"{field}[{i}]" if many else field, f"no user with id {user_id!r}")
        for i, user_id in enumerate(user_ids)
        if user_id in unknown
    ]
    raise Invalid("; ".join(f"{d.field}: {d.message}" for d in details), code="unknown_user", details=details)
