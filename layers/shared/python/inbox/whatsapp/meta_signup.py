"""Meta embedded signup: the admin connected a WhatsApp number in Meta's pop-up, the front end got a
code; this turns the code into a `meta_cloud` account, or reconnects the account of that number.

The Graph steps come first (exchange the code, read the account's numbers, subscribe our app,
register the number) and the account is written last, so a failure at Meta leaves nothing behind:
no account, no secret. The code works once, so after a failure the admin runs the signup again.

The PIN: Meta's registration requires a 6-digit two-step verification PIN. A number that has none
(the usual case for a number just added in the signup) takes the given one as its PIN; a number
that has one must be given that one. So `pin` is optional: without it a new number is registered
with a random PIN kept nowhere (sending needs only the token; WhatsApp Manager resets a forgotten
PIN), and a number whose PIN differs is refused with `meta_pin_mismatch`, asking for it. A
reconnect registers only when a PIN is given: the number was registered when first connected,
under a PIN that may be that random one, and Meta allows 10 registrations per number in 72 hours.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, SecretStr, WithJsonSchema

from inbox.accounts import lifecycle
from inbox.accounts.models import (
    Account,
    AccountCreate,
    MetaCloudCredentials,
    MetaId,
    Provider,
    ShortText,
    parse_address,
)
from inbox.errors import FieldProblem, Invalid
from inbox.model import Model
from inbox.provider_errors import ProviderUnavailable
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault
from inbox.whatsapp.meta_graph import GraphPhoneNumber, MetaGraph

NOT_CONFIGURED = (
    "WhatsApp embedded signup is not configured on this deployment: "
    "INBOX_META_APP_ID and INBOX_META_APP_SECRET must be set."
)


def _six_digits(pin: SecretStr) -> SecretStr:
    value = pin.get_secret_value()
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise ValueError("must be 6 digits")
    return pin


Pin = Annotated[
    SecretStr,
    AfterValidator(_six_digits),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{6}$", "format": "password", "writeOnly": True}),
]


class MetaSignupRequest(Model):
    """What the front end sends once Meta's embedded signup pop-up closes."""

    model_config = ConfigDict(extra="forbid")

    code: SecretStr = Field(
        min_length=1, max_length=4096, description="the code the embedded signup returned (works once)"
    )
    waba_id: MetaId = Field(description="the WhatsApp Business Account the signup shared")
    phone_number_id: MetaId | None = Field(
        default=None, description="the number to connect; may be left out when the account has only one"
    )
    pin: Pin | None = Field(
        default=None,
        description="the number's two-step verification PIN, if it has one; "
        "otherwise this becomes its PIN (left out: a random one)",
    )
    name: ShortText | None = Field(
        default=None, description="the account's name (default: the business name)"
    )
    sender_name: ShortText | None = None


@dataclass(frozen=True)
class MetaConnection:
    account: Account
    created: bool  # False: the number's existing account was reconnected


def connect_meta_number(
    request: MetaSignupRequest,
    *,
    accounts: AccountStore,
    vault: CredentialVault,
    graph: MetaGraph,
    app_id: str | None,
    app_secret: str | None,
    now: datetime | None = None,
) -> MetaConnection:
    """The new `meta_cloud` account of the signed-up number, or its existing account reconnected
    (new token stored, `error` cleared)."""
    if not app_id or not app_secret:
        raise ProviderUnavailable(NOT_CONFIGURED, code="meta_not_configured")
    token = graph.exchange_code(request.code, app_id=app_id, app_secret=app_secret)
    number = choose_number(graph.phone_numbers(request.waba_id, token), request.phone_number_id)
    address = parse_address(Provider.META_CLOUD, _international(number.display_phone_number))
    existing = accounts.by_meta_phone_number_id(number.id)

    graph.subscribe_app(request.waba_id, token)
    if existing is None or request.pin is not None:
        graph.register_number(number.id, token, pin=request.pin or _random_pin())

    if existing is not None:
        vault.save(existing.id, MetaCloudCredentials(access_token=token))
        reconnected = lifecycle.record_reconnected(existing.id, accounts=accounts, now=now)
        return MetaConnection(reconnected, created=False)
    business_name = (number.verified_name or "").strip() or None
    create = AccountCreate(
        provider=Provider.META_CLOUD,
        name=request.name or business_name or address,
        address=address,
        sender_name=request.sender_name,
        config={"waba_id": request.waba_id, "phone_number_id": number.id, "business_name": business_name},
        credentials={"access_token": token},
    )
    account = lifecycle.create_account(create, accounts=accounts, vault=vault, now=now)
    return MetaConnection(account, created=True)


def choose_number(numbers: list[GraphPhoneNumber], phone_number_id: str | None) -> GraphPhoneNumber:
    """The requested number, or the account's only one; `Invalid` naming the field otherwise."""
    if not numbers:
        raise Invalid(
            "This WhatsApp Business Account has no phone number: add one in the embedded signup.",
            code="no_phone_numbers",
            details=[FieldProblem("waba_id", "has no phone number")],
        )
    if phone_number_id is not None:
        for number in numbers:
            if number.id == phone_number_id:
                return number
        raise Invalid(
            f"The phone number id {phone_number_id} is not one of this WhatsApp Business Account's "
            f"numbers ({_listed(numbers)}).",
            code="unknown_phone_number",
            details=[FieldProblem("phone_number_id", "is not a number of this WhatsApp Business Account")],
        )
    if len(numbers) > 1:
        raise Invalid(
            f"This WhatsApp Business Account has {len(numbers)} numbers ({_listed(numbers)}): "
            "give the one to connect as phone_number_id.",
            code="choose_phone_number",
            details=[FieldProblem("phone_number_id", "is required: the account has several numbers")],
        )
    return numbers[0]


def _listed(numbers: list[GraphPhoneNumber]) -> str:
    return ", ".join(f"{n.display_phone_number} (id {n.id})" for n in numbers)


def _international(display: str) -> str:
    # Meta shows numbers as "+1 555-010-0123", or bare digits ("15550100123") for test numbers.
    shown = display.strip()
    return shown if shown.startswith("+") else f"+{shown}"


def _random_pin() -> SecretStr:
    return SecretStr(f"{secrets.randbelow(10**6):06d}")
