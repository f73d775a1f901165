"""What an OAuth provider's flow gives the product, and how it fails, for Google and Microsoft alike.

A provider (`inbox.oauth.google`, `inbox.oauth.microsoft`) builds the authorization URL, exchanges
the code the admin's consent returns for the account's credentials (Google's refresh token,
Microsoft's serialized MSAL token cache) and its address, and later turns those credentials into
access tokens. The failures a caller must tell apart:

- `CodeRefused`: the provider refused the code (expired, used, forged): 422 `oauth_code_refused`;
- `ScopeMissing`: the admin consented without the mail scopes: 422 `oauth_scope_missing`;
- `GrantRevoked`: the credentials no longer work (`invalid_grant`, `interaction_required`): the
  account needs reconnecting; `reason` is for the admin ("Google access was revoked: reconnect");
- `TokenUnavailable`: no answer, a 5xx, throttling: nothing is wrong with the account, try later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import SecretStr

if TYPE_CHECKING:
    from inbox.accounts.models import GmailCredentials, Office365Credentials, Provider
    from inbox.oauth.apps import OAuthApp

# An access token with less than this left is refreshed before use (both providers' advice).
REFRESH_MARGIN = timedelta(minutes=5)


class CodeRefused(Exception):
    """The provider refused to exchange the authorization code; `message` in the provider's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ScopeMissing(Exception):
    """The consent did not grant the scopes the product needs to read and send mail."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing


class GrantRevoked(Exception):
    """The stored credentials no longer work: the account must be reconnected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenUnavailable(Exception):
    """No access token now (network, provider error, throttling); the credentials may be fine."""

    def __init__(self, why: str, *, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.retry_after = retry_after


@dataclass(frozen=True)
class Authorization:
    """Where to send the admin, and what the callback needs back (MSAL's auth-code flow)."""

    url: str
    flow: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Connected:
    """What a successful code exchange gives: the mailbox's address, the credentials to store,
    the provider settings for the account's `config`, and a first access token."""

    address: str
    credentials: GmailCredentials | Office365Credentials
    config: dict[str, Any]
    access: AccessToken | None = None


@dataclass(frozen=True)
class AccessToken:
    token: SecretStr
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        """Usable without a refresh: more than `REFRESH_MARGIN` left."""
        return self.expires_at - now > REFRESH_MARGIN


@dataclass(frozen=True)
class Refreshed:
    """A new access token, and the credentials to store when they changed (a rotated refresh
    token, an MSAL cache with new entries): saved before the token is used."""

    access: AccessToken
    credentials: GmailCredentials | Office365Credentials
    changed: bool


class OAuthProvider(Protocol):
    provider: Provider
    label: str  # how messages name the provider: "Google", "Microsoft"

    def authorize(self, app: OAuthApp, *, redirect_uri: str, state: str) -> Authorization:
        """The URL of the provider's consent page for the product's scopes."""
        ...

    def exchange(
        self, app: OAuthApp, flow: dict[str, Any], *, code: str, state: str, redirect_uri: str
    ) -> Connected:
        """The code exchanged and the address learnt. Raises `CodeRefused`, `ScopeMissing`,
        `TokenUnavailable`."""
        ...

    def cached(self, credentials: Any, *, now: datetime) -> AccessToken | None:
        """The stored access token if it is still fresh (no network)."""
        ...

    def refresh(self, app: OAuthApp, credentials: Any) -> Refreshed:
        """A new access token. Raises `GrantRevoked` or `TokenUnavailable`."""
        ...
