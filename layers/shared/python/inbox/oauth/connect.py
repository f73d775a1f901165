"""Connecting a Gmail or Office 365 mailbox: the admin's click (`start`) and the provider's
callback (`finish`), CONTRACT.md "OAuth".

`start` checks the account to reconnect, asks the provider for its consent URL and keeps the flow
under a new state. `finish` takes the state (once: a replay finds nothing), exchanges the code,
learns the address and stores the credentials: a new `active` account, or the reconnected one
back to `active` (the mailbox connected before, without `account_id`, is reconnected too: one
account per mailbox). Nothing is created or changed when anything fails; every failure after the
state was taken carries the flow, so the answer can send the admin back to `redirect_to`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, ConfigDict, Field

from inbox.access import Caller
from inbox.accounts import lifecycle
from inbox.accounts.models import Account, Provider
from inbox.errors import BadRequest, Conflict, FieldProblem, InboxError, Invalid, NotFound
from inbox.model import Model
from inbox.oauth.grants import CodeRefused, Connected, ScopeMissing, TokenUnavailable
from inbox.oauth.states import VALID_FOR, PendingConnect, new_state
from inbox.oauth.tokens import oauth_app, oauth_provider
from inbox.observability import logger
from inbox.provider_errors import ProviderUnavailable
from inbox.settings import settings
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault
from inbox.store.oauth_states import OAuthStateStore

ProviderName = Literal["google", "microsoft"]
PROVIDERS: dict[str, Provider] = {"google": Provider.GMAIL, "microsoft": Provider.OFFICE365}
STATE_INVALID = "This sign-in link is invalid, expired or already used: start the connection again."


class OAuthStart(Model):
    model_config = ConfigDict(extra="forbid")

    account_id: str | None = Field(default=None, description="reconnect this account")
    redirect_to: Annotated[AnyHttpUrl, Field(description="where the callback sends the admin")] | None = None


class OAuthStarted(Model):
    authorization_url: str
    state: str


class ConnectResult(StrEnum):
    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    ERROR = "error"


class OAuthConnected(Model):
    account: Account
    result: ConnectResult


@dataclass(frozen=True)
class Finished:
    """A callback that connected: the answer, and where to send the admin (None: answer JSON)."""

    connected: OAuthConnected
    redirect_to: str | None


class ConnectFailed(Exception):
    """A callback that failed after its state was taken: `error` says why, `pending` where to go."""

    def __init__(self, error: InboxError, pending: PendingConnect) -> None:
        super().__init__(error.message)
        self.error = error
        self.pending = pending


@dataclass(frozen=True)
class Stores:
    accounts: AccountStore
    vault: CredentialVault
    states: OAuthStateStore


def callback_uri(name: ProviderName) -> str:
    """The redirect URI registered with the provider: `{INBOX_PUBLIC_URL}/v1/oauth/<name>/callback`."""
    return f"{settings().require('public_url').rstrip('/')}/v1/oauth/{name}/callback"


def start(
    name: ProviderName, caller: Caller, request: OAuthStart, *, stores: Stores, now: datetime | None = None
) -> OAuthStarted:
    provider = PROVIDERS[name]
    if request.account_id is not None:
        account = stores.accounts.get(request.account_id)
        if account.provider is not provider:
            message = f"account {account.id} is a {account.provider} account, not a {provider} one"
            raise Invalid(message, code="oauth_wrong_provider", details=[FieldProblem("account_id", message)])
    app = oauth_app(provider)
    state, redirect_uri = new_state(), callback_uri(name)
    client = oauth_provider(provider)
    try:
        # MSAL reads the tenant's OpenID configuration first: the login URL may be down.
        authorization = client.authorize(app, redirect_uri=redirect_uri, state=state)
    except TokenUnavailable as unavailable:
        raise _unreachable(client.label, "start the sign-in", unavailable) from None
    stamp = now or datetime.now(UTC)
    stores.states.put(
        state,
        PendingConnect(
            provider=provider,
            admin_id=caller.user_id,
            account_id=request.account_id,
            redirect_to=str(request.redirect_to) if request.redirect_to else None,
            redirect_uri=redirect_uri,
            flow=authorization.flow,
            created_at=stamp,
            valid_until=stamp + VALID_FOR,
        ),
    )
    return OAuthStarted(authorization_url=authorization.url, state=state)


def finish(
    name: ProviderName,
    *,
    state: str | None,
    code: str | None,
    denied: str | None = None,
    stores: Stores,
    now: datetime | None = None,
) -> Finished:
    """The callback. `BadRequest` (oauth_state_invalid) without a valid state; `ConnectFailed`
    for anything wrong after it."""
    provider = PROVIDERS[name]
    stamp = now or datetime.now(UTC)
    pending = stores.states.take(state) if state else None
    if pending is None or pending.provider is not provider or pending.expired(stamp):
        raise BadRequest(STATE_INVALID, code="oauth_state_invalid")
    try:
        connected = _exchange(name, pending, state or "", code, denied)
        return Finished(_store(provider, pending, connected, stores, stamp), pending.redirect_to)
    except InboxError as error:
        raise ConnectFailed(error, pending) from error


def _exchange(
    name: ProviderName, pending: PendingConnect, state: str, code: str | None, denied: str | None
) -> Connected:
    provider = oauth_provider(pending.provider)
    if denied:
        raise Invalid(
            f"The sign-in with {provider.label} was not completed ({denied}): nothing was connected.",
            code="oauth_consent_denied",
        )
    if not code:
        raise Invalid(f"{provider.label} sent no authorization code back.", code="oauth_code_refused")
    try:
        app = oauth_app(pending.provider)
        return provider.exchange(app, pending.flow, code=code, state=state, redirect_uri=pending.redirect_uri)
    except CodeRefused as refused:
        raise Invalid(
            f"{provider.label} refused the authorization code: {refused.message}", code="oauth_code_refused"
        ) from None
    except ScopeMissing as missing:
        scopes = ", ".join(missing.missing)
        raise Invalid(
            f"The consent did not grant access to the mail ({scopes}): connect again and allow "
            "reading and sending mail.",
            code="oauth_scope_missing",
            details=[FieldProblem("scope", f"not granted: {scopes}")],
        ) from None
    except TokenUnavailable as unavailable:
        raise _unreachable(provider.label, "finish the sign-in", unavailable) from None


def _unreachable(label: str, step: str, unavailable: TokenUnavailable) -> ProviderUnavailable:
    return ProviderUnavailable(
        f"{label} could not be reached to {step} ({unavailable.why}): try again.",
        code="oauth_provider_unavailable",
    )


def _store(
    provider: Provider, pending: PendingConnect, connected: Connected, stores: Stores, now: datetime
) -> OAuthConnected:
    account: Account | None
    if pending.account_id is not None:
        account = _reconnectable(pending.account_id, stores.accounts)
        if account.address.lower() != connected.address.lower():
            raise Conflict(
                f"You signed in as {connected.address}, but this account is {account.address}: "
                "sign in with that mailbox to reconnect it.",
                code="oauth_wrong_mailbox",
            )
    else:
        account = stores.accounts.by_address(provider, connected.address)
    if account is None:
        created = lifecycle.create_connected(
            provider,
            connected.address,
            connected.config,
            connected.credentials,
            accounts=stores.accounts,
            vault=stores.vault,
            now=now,
        )
        _log("OAuth mailbox connected", created, pending)
        return OAuthConnected(account=created, result=ConnectResult.CONNECTED)
    stores.vault.save(account.id, connected.credentials)
    reconnected = lifecycle.record_reconnected(
        account.id, accounts=stores.accounts, now=now, config={**account.config, **connected.config}
    )
    _log("OAuth mailbox reconnected", reconnected, pending)
    return OAuthConnected(account=reconnected, result=ConnectResult.RECONNECTED)


def _reconnectable(account_id: str, accounts: AccountStore) -> Account:
    try:
        return accounts.get(account_id)
    except NotFound:
        raise NotFound(
            f"The account {account_id} to reconnect no longer exists.", code="account_not_found"
        ) from None


def _log(message: str, account: Account, pending: PendingConnect) -> None:
    logger.info(message, extra={"account_id": account.id, "admin_id": pending.admin_id})
