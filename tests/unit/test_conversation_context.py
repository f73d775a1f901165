"""What a conversation tells a template: the account's business name comes from its typed config."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inbox.accounts.models import Account, Channel, Provider
from inbox.templates.variables import conversation_context

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CONFIGS: dict[Provider, dict[str, Any]] = {
    Provider.META_CLOUD: {"waba_id": "200000000000001", "phone_number_id": "100000000000001"},
    Provider.TWILIO: {"account_sid": "AC" + "0" * 32},
}


def account(provider: Provider, **config: Any) -> Account:
    channel = Channel.EMAIL if provider in (Provider.IMAP, Provider.GMAIL) else Channel.WHATSAPP
    return Account(
        id="acc_1",
        channel=channel,
        provider=provider,
        name="Ventes",
        address="+33180000000" if channel is Channel.WHATSAPP else "ventes@garage.example",
        config={**CONFIGS.get(provider, {}), **config},
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize("provider", [Provider.META_CLOUD, Provider.TWILIO])
def test_a_whatsapp_account_names_its_business(provider: Provider) -> None:
    context = conversation_context(account=account(provider, business_name="Demo Parts"), contact_name="Jean")

    assert context["business_name"] == "Demo Parts"
    assert context["account_name"] == "Ventes"


@pytest.mark.parametrize(
    "made",
    [account(Provider.META_CLOUD), account(Provider.IMAP, imap_host="mail.garage.example")],
    ids=["whatsapp without one", "email"],
)
def test_without_a_business_name_the_variable_is_missing(made: Account) -> None:
    assert conversation_context(account=made, contact_name="Jean")["business_name"] is None
