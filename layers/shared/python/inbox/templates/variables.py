"""The variables templates and auto-replies may use, what fills each, and the context a
conversation gives them: one catalogue for the API, the router and the sender."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from inbox.accounts.models import Account
from inbox.directory import Customer, User
from inbox.model import Model


class Variable(Model):
    name: str
    description: str
    filled_from: str
    contexts: list[str]  # where it exists: "conversation with a customer", "any conversation" ...


@functools.cache
def catalogue() -> tuple[Variable, ...]:
    """The catalogue, built on first ask: the router and the sender import this module for
    `conversation_context` alone, and building the models cost their cold start ~4 ms."""
    return (
        Variable(
            name="customer_name",
            description="The customer's name",
            filled_from="the linked customer's name, else the contact's profile name",
            contexts=["conversation with a known customer", "conversation whose contact gave a name"],
        ),
        Variable(
            name="company_name",
            description="The customer's company",
            filled_from="the linked customer",
            contexts=["conversation with a known customer who has a company"],
        ),
        Variable(
            name="contact_name",
            description="The name the contact goes by on the channel",
            filled_from="the WhatsApp profile name or the email display name",
            contexts=["any conversation"],
        ),
        Variable(
            name="user_name",
            description="The assigned team member's name",
            filled_from="the assignee",
            contexts=["assigned conversation"],
        ),
        Variable(
            name="account_name",
            description="The account's display name",
            filled_from="the account",
            contexts=["any conversation"],
        ),
        Variable(
            name="business_name",
            description="The business name of a WhatsApp account",
            filled_from="the account's business profile",
            contexts=["WhatsApp account with a business name"],
        ),
        Variable(
            name="sender_name",
            description="The account's sender name",
            filled_from="the account",
            contexts=["account with a sender name"],
        ),
        Variable(
            name="quote_number",
            description="The quote the conversation is about",
            filled_from="the conversation's context (set by the business suite)",
            contexts=["conversation linked to a quote"],
        ),
        Variable(
            name="order_number",
            description="The order the conversation is about",
            filled_from="the conversation's context",
            contexts=["conversation linked to an order"],
        ),
    )


def conversation_context(
    *,
    account: Account,
    contact_name: str | None,
    customer: Customer | None = None,
    customer_name: str | None = None,
    company_name: str | None = None,
    assignee: User | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str | None]:
    """What a conversation can say to a template's variables (missing ones are None)."""
    return {
        "customer_name": (customer.name if customer else customer_name) or contact_name,
        "company_name": customer.company_name if customer else company_name,
        "contact_name": contact_name,
        "user_name": assignee.name if assignee else None,
        "account_name": account.name,
        "business_name": account.business_name,
        "sender_name": account.sender_name,
        **(extra or {}),
    }
