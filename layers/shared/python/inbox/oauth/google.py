"""Google's OAuth flow for Gmail accounts (PROTOCOLS.md, "Gmail"): the consent URL, the code
exchange, the mailbox's address, and access tokens from the stored refresh token.

- `authorize` asks for `gmail.modify` offline, with `prompt=consent` so Google always returns a
  refresh token (a second consent without it returns none);
- `exchange` posts the code to `{INBOX_GOOGLE_OAUTH_URL}/token` (google-auth has no public helper
  for the code grant), checks the granted scopes (`gmail.modify`, or `gmail.readonly` with
  `gmail.send`) and reads the address from Gmail's profile;
- `refresh` is google-auth's own refresh (`Credentials.refresh`), through the product's trusted
  session. Google answers `invalid_grant` for a revoked or expired grant: only that means
  reconnecting (`GrantRevoked`). Anything else (no answer, an untrusted certificate, a 5xx, the
  product's own client refused) says nothing about the account: `TokenUnavailable`.

google-auth and requests are imported inside `refresh`: a handler that never refreshes never loads
them. No token, code or secret is ever part of an error's text or a log line.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pydantic import SecretStr

from inbox.accounts.models import GmailCredentials, Provider
from inbox.oauth.grants import (
    AccessToken,
    Authorization,
    CodeRefused,
    Connected,
    GrantRevoked,
    Refreshed,
    ScopeMissing,
    TokenUnavailable,
)
from inbox.oauth.session import TIMEOUT_SECONDS
from inbox.provider_errors import Unavailable
from inbox.settings import settings
from inbox.whatsapp import provider_http

if TYPE_CHECKING:
    from google.auth.exceptions import RefreshError

    from inbox.oauth.apps import OAuthApp

GMAIL_MODIFY = "https://www.googleapis.com/auth/gmail.modify"
GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
# Google always says how long a token lives; should it not, an hour is what it gives.
DEFAULT_LIFETIME = timedelta(hours=1)
GOOGLE = "Google"
REVOKED = "Google access was revoked or has expired: reconnect the account."


class Google:
    """The `OAuthProvider` (`inbox.oauth.grants`) of `gmail` accounts."""

    provider = Provider.GMAIL
    label = GOOGLE

    def authorize(self, app: OAuthApp, *, redirect_uri: str, state: str) -> Authorization:
        query = urlencode(
            {
                "client_id": app.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": GMAIL_MODIFY,
                "access_type": "offline",
                "prompt": "consent",
                "include_granted_scopes": "true",
                "state": state,
            }
        )
        return Authorization(f"{settings().google_accounts_url.rstrip('/')}/o/oauth2/v2/auth?{query}")

    def exchange(
        self, app: OAuthApp, flow: dict[str, Any], *, code: str, state: str, redirect_uri: str
    ) -> Connected:
        """The account's refresh token and first access token for `code`, and its address."""
        secrets = (code, app.client_secret)
        answer = _call(
            "exchanging the authorization code",
            "POST",
            f"{settings().google_oauth_url.rstrip('/')}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        )
        body = _json(answer.content)
        if answer.status == 429 or answer.status >= 500:
            raise TokenUnavailable(f"Google answered {answer.status}", retry_after=answer.retry_after)
        if not answer.ok:
            raise CodeRefused(_oauth_error(body, answer.status, secrets))
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise CodeRefused("Google answered without an access token.")
        _require_mail_scopes(str(body.get("scope") or ""))
        if not isinstance(refresh, str) or not refresh:
            raise CodeRefused(
                "Google gave no refresh token (the consent was not for offline access): connect again."
            )
        token = AccessToken(SecretStr(access), _expiry(body.get("expires_in")))
        credentials = GmailCredentials(
            refresh_token=SecretStr(refresh),
            access_token=token.token,
            access_token_expires_at=token.expires_at,
        )
        return Connected(_address(access), credentials, config={}, access=token)

    def cached(self, credentials: Any, *, now: datetime) -> AccessToken | None:
        stored: GmailCredentials = credentials
        if stored.access_token is None or stored.access_token_expires_at is None:
            return None
        token = AccessToken(stored.access_token, _aware(stored.access_token_expires_at))
        return token if token.fresh(now) else None

    def refresh(self, app: OAuthApp, credentials: Any) -> Refreshed:
        """A new access token from the stored refresh token, with the rotated refresh token when
        Google sent one. The new credentials always differ (the access token is stored too)."""
        from functools import partial

        from google.auth.exceptions import RefreshError, TransportError
        from google.auth.transport.requests import Request
        from google.oauth2.credentials import Credentials

        from inbox.oauth.session import trusted_session

        stored: GmailCredentials = credentials
        refresh_token = stored.refresh_token.get_secret_value()
        grant = Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=refresh_token,
            token_uri=f"{settings().google_oauth_url.rstrip('/')}/token",
            client_id=app.client_id,
            client_secret=app.client_secret,
        )
        with trusted_session() as session:
            # google-auth waits 120 s for the token endpoint unless told otherwise.
            request = partial(Request(session=session), timeout=TIMEOUT_SECONDS)
            try:
                grant.refresh(request)  # type: ignore[no-untyped-call]
            except RefreshError as error:
                raise _refresh_refused(error) from None
            except TransportError as error:
                provider_http.log(GOOGLE, "refreshing the access token", type(error.__cause__).__name__)
                raise TokenUnavailable("Google's token endpoint could not be reached") from None
        if not isinstance(grant.token, str) or not grant.token:
            raise TokenUnavailable("Google answered the refresh without an access token")
        expiry = grant.expiry
        token = AccessToken(
            SecretStr(grant.token),
            _aware(expiry) if isinstance(expiry, datetime) else datetime.now(UTC) + DEFAULT_LIFETIME,
        )
        # google-auth keeps the refresh token it was given unless Google sent a new one.
        kept = grant.refresh_token
        renewed = GmailCredentials(
            refresh_token=SecretStr(kept) if isinstance(kept, str) and kept else stored.refresh_token,
            access_token=token.token,
            access_token_expires_at=token.expires_at,
        )
        return Refreshed(access=token, credentials=renewed, changed=True)


def _call(step: str, method: str, url: str, **request: Any) -> provider_http.Answer:
    try:
        return provider_http.exchange(GOOGLE, step, method, url, timeout=TIMEOUT_SECONDS, **request)
    except Unavailable as unavailable:
        within = f" within {TIMEOUT_SECONDS:g} s" if unavailable.timed_out else ""
        raise TokenUnavailable(f"Google did not answer{within}") from None


def _require_mail_scopes(granted: str) -> None:
    """`ScopeMissing` unless the consent allows reading and sending mail."""
    scopes = set(granted.split())
    if GMAIL_MODIFY in scopes:
        return
    if GMAIL_READONLY in scopes or GMAIL_SEND in scopes:
        missing = [scope for scope in (GMAIL_READONLY, GMAIL_SEND) if scope not in scopes]
    else:
        missing = [GMAIL_MODIFY]
    if missing:
        raise ScopeMissing(missing)


def _address(access_token: str) -> str:
    """The mailbox's address, from Gmail's `users.getProfile`."""
    answer = _call(
        "reading the mailbox's address",
        "GET",
        f"{settings().gmail_api_url.rstrip('/')}/gmail/v1/users/me/profile",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    body = _json(answer.content)
    address = body.get("emailAddress")
    if answer.ok and isinstance(address, str) and address:
        return address
    if answer.status == 403 and _lacks_scope(body):
        raise ScopeMissing([GMAIL_MODIFY])
    error = body.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    text = provider_http.mask(message if isinstance(message, str) else None, (access_token,))
    provider_http.log(GOOGLE, "reading the mailbox's address", "refused", answer.status)
    raise TokenUnavailable(
        f"Gmail answered {answer.status} to the profile request" + (f": {text}" if text else ""),
        retry_after=answer.retry_after,
    )


def _lacks_scope(body: dict[str, Any]) -> bool:
    """Gmail's 403 for a token without a mail scope (`insufficientPermissions`)."""
    error = body.get("error")
    errors = error.get("errors") if isinstance(error, dict) else None
    reasons = [e.get("reason") for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    return "insufficientPermissions" in reasons


def _refresh_refused(error: RefreshError) -> GrantRevoked | TokenUnavailable:
    """What google-auth's refusal means for the account: only `invalid_grant` is the account's."""
    details = error.args[1] if len(error.args) > 1 else None
    code = details.get("error") if isinstance(details, dict) else None
    provider_http.log(GOOGLE, "refreshing the access token", str(code or "refused"))
    if code == "invalid_grant":
        return GrantRevoked(REVOKED)
    if code in ("invalid_client", "unauthorized_client"):
        return TokenUnavailable(
            f"Google refused the product's OAuth app ({code}): check the Google client id and secret"
        )
    return TokenUnavailable(f"Google could not refresh the access ({code or 'an error answer'})")


def _oauth_error(body: dict[str, Any], status: int, secrets: tuple[str, ...]) -> str:
    """Google's words for a refused code: `error_description`, else `error`, else the status."""
    if body.get("error") == "invalid_client":  # Google's description says only "Unauthorized"
        return "Google refused the product's OAuth app (invalid_client): check its client id and secret."
    for key in ("error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return provider_http.mask(value, secrets) or value
    return f"HTTP {status}"


def _expiry(expires_in: object) -> datetime:
    now = datetime.now(UTC)
    if isinstance(expires_in, int | float) and expires_in > 0:
        return now + timedelta(seconds=expires_in)
    return now + DEFAULT_LIFETIME


def _aware(moment: datetime) -> datetime:
    # google-auth's expiry is naive UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json(content: bytes) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
