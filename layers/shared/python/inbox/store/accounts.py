"""Accounts in the table.

- `pk = ACCOUNT#<id>`: the account's partition, so everything about one account (the account,
  its authorized users, business hours, auto-reply, assignment rules, signatures) is one query;
  `sk = ACCOUNT` is the account itself (listed through `gsi1`: `ACCOUNTS` / id).
- Claims (see `Registry`): `ACCOUNT_ADDRESS#<provider>#<address>` (one account per mailbox or
  number and provider) and, for Meta, `META_PHONE_NUMBER#<phone_number_id>`, which is also how a
  webhook finds its account.
A deleted account keeps its record (its conversations still name it) and frees its claims.
"""

from __future__ import annotations

from typing import Any

from inbox.accounts.models import Account, Provider
from inbox.errors import Conflict, FieldProblem
from inbox.store import dynamo, items
from inbox.store.pagination import DEFAULT_LIMIT, Page
from inbox.store.registry import Claim, Layout, Registry

LIST_INDEX = "gsi1"
LIST_PARTITION = "ACCOUNTS"


def account_key(account_id: str) -> dict[str, str]:
    return items.key(f"ACCOUNT#{account_id}", "ACCOUNT")


def address_key(provider: Provider, address: str) -> dict[str, str]:
    return items.key(f"ACCOUNT_ADDRESS#{provider}#{address.lower()}", "CLAIM")


def meta_phone_number_key(phone_number_id: str) -> dict[str, str]:
    return items.key(f"META_PHONE_NUMBER#{phone_number_id}", "CLAIM")


def _claims(account: Account) -> list[Claim]:
    claims = [
        Claim(
            address_key(account.provider, account.address),
            Conflict(
                f"A {account.provider} account for {account.address} already exists.",
                code="account_exists",
                details=[FieldProblem("address", "already connected as another account")],
            ),
        )
    ]
    if account.provider == Provider.META_CLOUD:
        phone_number_id = account.meta_config().phone_number_id
        claims.append(
            Claim(
                meta_phone_number_key(phone_number_id),
                Conflict(
                    f"The Meta phone number id {phone_number_id} belongs to another account.",
                    code="account_exists",
                    details=[FieldProblem("config.phone_number_id", "already used by another account")],
                ),
            )
        )
    return claims


LAYOUT: Layout[Account] = Layout(
    kind="account",
    item_key=account_key,
    claims=_claims,
    list_partition=LIST_PARTITION,
    list_prefix="",
    list_index=LIST_INDEX,
    index_keys=lambda account: {"gsi1pk": LIST_PARTITION, "gsi1sk": account.id},
)


class AccountStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()
        self.accounts = Registry(self.table, Account, LAYOUT)

    def create(self, account: Account) -> Account:
        return self.accounts.create(account)

    def read(self, account_id: str) -> tuple[Account, int]:
        return self.accounts.read(account_id)

    def get(self, account_id: str, *, include_deleted: bool = False) -> Account:
        return self.accounts.get(account_id, include_deleted=include_deleted)

    def page(self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Account]:
        return self.accounts.page(cursor=cursor, limit=limit)

    def replace(self, before: Account, after: Account, *, version: int) -> Account:
        return self.accounts.replace(before, after, version=version)

    def delete(self, account_id: str) -> Account:
        return self.accounts.delete(account_id)

    def by_address(self, provider: Provider, address: str) -> Account | None:
        """The live account of that provider for the address (two key reads, no scan)."""
        owner = self.accounts.owner(address_key(provider, address))
        return None if owner is None else self.get(owner)

    def by_meta_phone_number_id(self, phone_number_id: str) -> Account | None:
        """The live account of a Meta phone number id (two key reads, no scan)."""
        owner = self.accounts.owner(meta_phone_number_key(phone_number_id))
        return None if owner is None else self.get(owner)
