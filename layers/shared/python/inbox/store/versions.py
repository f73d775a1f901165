"""The versions that tell a warm container whether its copy of the settings is current.

- the account item's `version`: moved by every change of the account (its registry's writes) and
  of its settings documents (`AccountSettingsStore.write`), so it versions the account's snapshot;
- the team's version (`store.users.TEAM_VERSION_KEY`): moved by every change of a user.

`routing_reads` reads both with the contact's state, in the one strongly consistent request the
router makes first for every message anyway: being current costs no request of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inbox.accounts.models import Account
from inbox.conversations import ContactState
from inbox.errors import NotFound
from inbox.store import items
from inbox.store.accounts import account_key
from inbox.store.conversations import contact_key
from inbox.store.users import TEAM_VERSION_KEY


@dataclass(frozen=True)
class RoutingReads:
    """The contact's state, the account as it is now, and the versions of its snapshot and of the
    team (None: the team was never changed since versions exist)."""

    contact: ContactState | None
    account: Account
    account_version: int
    team_version: str | None


def routing_reads(table: Any, account_id: str, address: str) -> RoutingReads:
    """What the router reads first for a message, in one request; `NotFound` when the account is
    gone (deleted, or never was)."""
    contact, account, team = items.get_many(
        table, [contact_key(account_id, address), account_key(account_id), TEAM_VERSION_KEY]
    )
    if account is None or account.get("deleted_at"):
        raise NotFound(f"No account with id {account_id!r}.", code="account_not_found")
    return RoutingReads(
        contact=None if contact is None else items.from_item(ContactState, contact),
        account=items.from_item(Account, account),
        account_version=int(account.get("version", 0)),
        team_version=None if team is None else str(team["version"]),
    )
