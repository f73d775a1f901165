"""An OAuth account's access token, refreshed at most once at a time.

`AccountTokens(account).get()` answers the stored access token while more than five minutes are
left (no network, no lock). Otherwise it takes the account's token lease (`sk = TOKEN_LEASE` in
the account's partition), reads the credentials again (another poll or send may just have
refreshed them) and only then refreshes; the new credentials (a rotated refresh token, the new
access token, MSAL's updated cache) are saved to Secrets Manager *before* the token is used. A
caller that finds the lease taken waits for the holder's token instead of refreshing too.

A refresh refused for good (`GrantRevoked`) counts only when the refused credentials are still the
stored ones: a rotation saved meanwhile by another caller is tried instead, so a lost race never
disconnects an account. If saving a rotated token fails, the token is not used (`TokenUnavailable`):
the stored refresh token stays the one that works (both providers keep an old refresh token valid
after a rotation).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from inbox.accounts.models import CREDENTIALS_MODEL, Account, Provider
from inbox.ids import new_id
from inbox.oauth.grants import GrantRevoked, OAuthProvider, Refreshed, TokenUnavailable
from inbox.observability import logger
from inbox.store import items, leases
from inbox.store.credentials import CredentialVault, MissingCredentials

if TYPE_CHECKING:
    from inbox.oauth.apps import OAuthApp

# Longer than a refresh can take (the token call's timeouts), so a live refresh keeps its lease.
LEASE_SECONDS = 45
# How long a caller waits for another caller's refresh before giving up for now.
WAIT_SECONDS = 30
POLL_SECONDS = 0.2


class Tokens(Protocol):
    """What the Gmail and Graph clients need: a token to use, and a new one when it is refused."""

    def get(self) -> str: ...

    def renew(self, refused: str) -> str: ...


def token_lease_key(account_id: str) -> dict[str, str]:
    return items.key(f"ACCOUNT#{account_id}", "TOKEN_LEASE")


def oauth_provider(provider: Provider) -> OAuthProvider:
    """Google's or Microsoft's flow, for a `gmail` or `office365` account."""
    if provider is Provider.GMAIL:
        from inbox.oauth.google import Google

        return Google()
    if provider is Provider.OFFICE365:
        from inbox.oauth.microsoft import Microsoft

        return Microsoft()
    raise ValueError(f"{provider} accounts do not connect with OAuth")


def oauth_app(provider: Provider) -> OAuthApp:
    from inbox.oauth.apps import google_app, microsoft_app

    return google_app() if provider is Provider.GMAIL else microsoft_app()


class AccountTokens:
    """The access tokens of one `gmail` or `office365` account (one object per poll or send)."""

    def __init__(
        self,
        account: Account,
        *,
        vault: CredentialVault | None = None,
        table: Any | None = None,
        provider: OAuthProvider | None = None,
        app: Callable[[], OAuthApp] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from inbox.store import dynamo

        self.account = account
        self.vault = vault or CredentialVault()
        self.table = table if table is not None else dynamo.table()
        self.provider = provider or oauth_provider(account.provider)
        self._app = app or (lambda: oauth_app(account.provider))
        self.clock = clock
        self._model = CREDENTIALS_MODEL[account.provider]

    def get(self) -> str:
        """A token with more than five minutes left. Raises `GrantRevoked`, `TokenUnavailable`."""
        credentials = self._load()
        cached = self.provider.cached(credentials, now=self.clock())
        if cached is not None:
            return cached.token.get_secret_value()
        return self._refresh(refused=None)

    def renew(self, refused: str) -> str:
        """The provider refused `refused` (401): a newer token, refreshed unless another caller
        already did. Raises as `get`."""
        return self._refresh(refused=refused)

    def _refresh(self, *, refused: str | None) -> str:
        holder = new_id("tok")
        key = token_lease_key(self.account.id)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            if leases.acquire(self.table, key, holder, seconds=LEASE_SECONDS):
                try:
                    return self._refresh_holding(refused)
                finally:
                    leases.release(self.table, key, holder)
            # Another caller is refreshing: its token, once saved, is ours too.
            time.sleep(POLL_SECONDS)
            token = self._usable(self._load(), refused)
            if token is not None:
                return token
            if time.monotonic() >= deadline:
                raise TokenUnavailable("another refresh of the account's access did not finish in time")

    def _refresh_holding(self, refused: str | None) -> str:
        credentials = self._load()
        token = self._usable(credentials, refused)
        if token is not None:
            return token
        app = self._app()
        try:
            refreshed = self.provider.refresh(app, credentials)
        except GrantRevoked:
            latest = self._load()
            if latest == credentials:
                raise
            # A rotation was saved meanwhile (a caller that outlived its lease): try that one.
            refreshed = self.provider.refresh(app, latest)
        self._save(refreshed)
        return refreshed.access.token.get_secret_value()

    def _usable(self, credentials: Any, refused: str | None) -> str | None:
        cached = self.provider.cached(credentials, now=self.clock())
        if cached is None:
            return None
        token = cached.token.get_secret_value()
        return None if token == refused else token

    def _save(self, refreshed: Refreshed) -> None:
        if not refreshed.changed:
            return
        try:
            self.vault.save(self.account.id, refreshed.credentials)
        except Exception as error:  # whatever Secrets Manager said: the token must not be used
            logger.exception("Could not save the refreshed access", extra={"account_id": self.account.id})
            raise TokenUnavailable("the refreshed access could not be saved") from error

    def _load(self) -> Any:
        try:
            return self.vault.load(self.account.id, self._model)
        except MissingCredentials:
            label = self.provider.label
            raise GrantRevoked(f"{label} access is not stored: reconnect the account.") from None
