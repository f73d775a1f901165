"""What happens to an account: created, changed, paused and resumed, put in `error` when its
provider refuses the credentials, back to `active` when reconnected, deleted.

Deleting an account keeps its record and its conversations (history stays readable and its name
stays shown) and schedules its secret for deletion with Secrets Manager's 30-day recovery window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from inbox.accounts.models import (
    CHANNEL_OF,
    Account,
    AccountCreate,
    AccountCredentials,
    AccountStatus,
    AccountUpdate,
    Provider,
    parse_address,
    parse_config,
    parse_credentials,
)
from inbox.errors import Conflict, FieldProblem, Invalid
from inbox.ids import new_id
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault

# Providers whose credentials come from an OAuth flow, not from the admin's form.
OAUTH_PROVIDERS = {Provider.GMAIL, Provider.OFFICE365}
NOT_CONNECTED = "Not connected yet: complete the provider's sign-in to connect this mailbox."
CONCURRENT_RETRIES = 3
# Given the account as it is, the status (and reason) it should have.
Decision = Callable[[Account], tuple[AccountStatus, str | None]]


def reveal(credentials: dict[str, SecretStr]) -> dict[str, Any]:
    return {name: value.get_secret_value() for name, value in credentials.items()}


def create_account(
    data: AccountCreate, *, accounts: AccountStore, vault: CredentialVault, now: datetime | None = None
) -> Account:
    provider = data.provider
    if data.channel is not None and data.channel != CHANNEL_OF[provider]:
        raise _invalid("channel", f"a {provider} account is on the {CHANNEL_OF[provider]} channel")
    config = parse_config(provider, data.config)
    address = parse_address(provider, data.address)
    credentials = (
        parse_credentials(provider, reveal(data.credentials)) if data.credentials is not None else None
    )
    if credentials is None and provider not in OAUTH_PROVIDERS:
        raise _invalid("credentials", "is required")
    return _create(
        data.name,
        provider,
        address,
        config.model_dump(mode="json", exclude_none=True),
        credentials,
        sender_name=data.sender_name,
        accounts=accounts,
        vault=vault,
        now=now,
    )


def create_connected(
    provider: Provider,
    address: str,
    config: dict[str, Any],
    credentials: AccountCredentials,
    *,
    accounts: AccountStore,
    vault: CredentialVault,
    now: datetime | None = None,
) -> Account:
    """For the connect flows (OAuth): a new `active` account for the mailbox the provider named,
    with the credentials the flow gave (named after its address; the admin renames it at will)."""
    settings = parse_config(provider, config).model_dump(mode="json", exclude_none=True)
    address = parse_address(provider, address)
    return _create(address, provider, address, settings, credentials, accounts=accounts, vault=vault, now=now)


def _create(
    name: str,
    provider: Provider,
    address: str,
    config: dict[str, Any],
    credentials: AccountCredentials | None,
    *,
    accounts: AccountStore,
    vault: CredentialVault,
    now: datetime | None,
    sender_name: str | None = None,
) -> Account:
    stamp = now or datetime.now(UTC)
    connected = credentials is not None
    account = Account(
        id=new_id("acc"),
        channel=CHANNEL_OF[provider],
        provider=provider,
        name=name,
        address=address,
        sender_name=sender_name,
        config=config,
        status=AccountStatus.ACTIVE if connected else AccountStatus.ERROR,
        status_reason=None if connected else NOT_CONNECTED,
        status_changed_at=stamp,
        has_credentials=connected,
        created_at=stamp,
        updated_at=stamp,
    )
    if credentials is not None:
        vault.save(account.id, credentials)
    try:
        return accounts.create(account)
    except Conflict:
        if credentials is not None:
            vault.discard(account.id)
        raise


def update_account(
    account_id: str,
    changes: AccountUpdate,
    *,
    accounts: AccountStore,
    vault: CredentialVault,
    now: datetime | None = None,
) -> Account:
    for required in ("name", "address", "config"):
        if required in changes.model_fields_set and getattr(changes, required) is None:
            raise _invalid(required, "cannot be null")
    current, version = accounts.read(account_id)
    stamp = now or datetime.now(UTC)
    update: dict[str, Any] = {"updated_at": stamp}
    for field in ("name", "sender_name"):
        if field in changes.model_fields_set:
            update[field] = getattr(changes, field)
    if changes.address is not None:
        update["address"] = parse_address(current.provider, changes.address)
    if changes.config is not None:
        merged = {**current.config, **changes.config}
        update["config"] = parse_config(current.provider, merged).model_dump(mode="json", exclude_none=True)
    if changes.credentials is not None:
        vault.save(account_id, parse_credentials(current.provider, reveal(changes.credentials)))
        update["has_credentials"] = True
        if current.status is AccountStatus.ERROR:
            # New credentials are the admin's answer to an error: try them.
            update.update(status=AccountStatus.ACTIVE, status_reason=None, status_changed_at=stamp)
    return accounts.replace(current, current.model_copy(update=update), version=version)


def delete_account(account_id: str, *, accounts: AccountStore, vault: CredentialVault) -> None:
    accounts.delete(account_id)
    vault.retire(account_id)


def pause(account_id: str, *, accounts: AccountStore, now: datetime | None = None) -> Account:
    """Nothing is polled or sent for a paused account until it is resumed."""
    return _set_status(account_id, accounts, lambda _: (AccountStatus.PAUSED, None), now)


def resume(account_id: str, *, accounts: AccountStore, now: datetime | None = None) -> Account:
    def resumed(account: Account) -> tuple[AccountStatus, str | None]:
        if account.status is not AccountStatus.PAUSED:
            return account.status, account.status_reason
        if not account.has_credentials:
            return AccountStatus.ERROR, NOT_CONNECTED
        return AccountStatus.ACTIVE, None

    return _set_status(account_id, accounts, resumed, now)


def record_credentials_rejected(
    account_id: str, reason: str, *, accounts: AccountStore, now: datetime | None = None
) -> Account:
    """For pollers and senders: the provider refused the account's credentials (revoked grant,
    wrong password, invalid token). The account shows `error` and why, until reconnected; a paused
    account stays paused (the admin's choice) and is checked again when resumed."""

    def rejected(account: Account) -> tuple[AccountStatus, str | None]:
        if account.status is AccountStatus.PAUSED:
            return account.status, account.status_reason
        return AccountStatus.ERROR, reason

    return _set_status(account_id, accounts, rejected, now)


def record_reconnected(
    account_id: str,
    *,
    accounts: AccountStore,
    now: datetime | None = None,
    config: dict[str, Any] | None = None,
) -> Account:
    """For the connect flows (OAuth, embedded signup): new credentials were stored; an account in
    `error` is `active` again. `config`: provider settings the flow learnt (merged into the
    account's)."""

    def reconnected(account: Account) -> tuple[AccountStatus, str | None]:
        if account.status is AccountStatus.ERROR:
            return AccountStatus.ACTIVE, None
        return account.status, account.status_reason

    def merged(account: Account) -> dict[str, Any]:
        if not config:
            return {}
        settings = parse_config(account.provider, {**account.config, **config})
        return {"config": settings.model_dump(mode="json", exclude_none=True)}

    return _set_status(account_id, accounts, reconnected, now, changes=merged, has_credentials=True)


def _set_status(
    account_id: str,
    accounts: AccountStore,
    decide: Decision,
    now: datetime | None,
    *,
    changes: Callable[[Account], dict[str, Any]] | None = None,
    **also: Any,
) -> Account:
    for attempt in range(CONCURRENT_RETRIES):
        current, version = accounts.read(account_id)
        status, reason = decide(current)
        extra = {**also, **(changes(current) if changes else {})}
        if (status, reason) == (current.status, current.status_reason) and not extra:
            return current
        stamp = now or datetime.now(UTC)
        changed = status != current.status
        after = current.model_copy(
            update={
                "status": status,
                "status_reason": reason,
                "updated_at": stamp,
                "status_changed_at": stamp if changed else current.status_changed_at,
                **extra,
            }
        )
        try:
            return accounts.replace(current, after, version=version)
        except Conflict:
            if attempt == CONCURRENT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", code="validation_error", details=[FieldProblem(field, message)])
