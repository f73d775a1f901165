"""Microsoft's sign-in for Office 365 mailboxes, with MSAL (PROTOCOLS.md, "Microsoft 365"): the
consent URL, the code exchange, the mailbox's address, and access tokens from the account's MSAL
token cache.

An account's credentials are MSAL's whole serialized `SerializableTokenCache`: the account, its
refresh token, ID token and latest access token, exactly as MSAL keeps them, so MSAL finds its own
tokens again on every refresh and rotates the refresh token in place. `cached` reads the access
token from it without MSAL's application (no network); `refresh` asks MSAL for a new one
(`acquire_token_silent_with_error(force_refresh=True)`).

The authority is `{INBOX_MICROSOFT_LOGIN_URL}/{tenant}`. A connection starts on the app's tenant
(`common` lets any organization's mailbox in); the ID token's `tid` says which tenant the mailbox
belongs to, and becomes the account's `config.tenant`. A refresh goes to that tenant: it is read
back from the account in the cache itself (MSAL's home account id is `<oid>.<tid>`), so the
credentials carry all a refresh needs and `refresh(app, credentials)` takes nothing else.

MSAL asks login.microsoftonline.com whether an unfamiliar host is one of Microsoft's ("instance
discovery"); for another login URL (a company's proxy, a stand-in) that is switched off: the
deployer named the host. MSAL still reads the tenant's OpenID configuration whenever an application
is built, so `authorize`, `exchange` and `refresh` may all meet the network.

What MSAL does on failure, and what it means here:
- no answer, a refused connection, an untrusted certificate: requests' `RequestException`, raised;
- an HTTP 5xx: `MsalServiceError` (its throttling client's response), raised; a body that is not
  JSON: `ValueError`, raised; an unknown tenant (4xx on the OpenID configuration): `ValueError`;
- an OAuth refusal: a result dict with `error` and `error_description` (nothing raised).
Only `invalid_grant` and the interaction errors mean reconnecting (`GrantRevoked`); all the rest
says nothing about the account (`TokenUnavailable`), and a network failure is never an auth one.

msal and requests are imported inside the functions (a cold start that never signs in never loads
them). No token, code or secret is ever part of an error's text or a log line.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from inbox.accounts.models import Office365Credentials, Provider
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
from inbox.oauth.session import TIMEOUT_SECONDS, trusted_session
from inbox.observability import logger
from inbox.provider_errors import Unavailable
from inbox.settings import settings
from inbox.whatsapp import provider_http

if TYPE_CHECKING:
    import msal  # type: ignore[import-untyped]
    import requests

    from inbox.oauth.apps import OAuthApp

GRAPH = "https://graph.microsoft.com/"
# Graph's delegated permissions, fully qualified (the token is for Graph). Never openid, profile
# or offline_access: MSAL adds them itself and refuses them from the caller.
MAIL_READ, MAIL_SEND, USER_READ = "Mail.Read", "Mail.Send", "User.Read"
SCOPES = [GRAPH + MAIL_READ, GRAPH + MAIL_SEND, GRAPH + USER_READ]
# A consent covers reading mail with either permission (an admin may have granted the wider one).
READING = frozenset({MAIL_READ.lower(), "mail.readwrite"})
SENDING = frozenset({MAIL_SEND.lower()})
# The host whose instance discovery MSAL may run: Microsoft's own.
MICROSOFT_LOGIN_HOST = "login.microsoftonline.com"
# Microsoft always says how long a token lives; should it not, an hour is what it gives.
DEFAULT_LIFETIME = timedelta(hours=1)
MICROSOFT = "Microsoft"
REVOKED = "Microsoft access was revoked: reconnect the account."
# OAuth errors that only the mailbox's user can mend, by signing in again.
NEEDS_USER = frozenset({"invalid_grant", "interaction_required", "consent_required", "login_required"})


class Microsoft:
    """The `OAuthProvider` (`inbox.oauth.grants`) of `office365` accounts."""

    provider = Provider.OFFICE365
    label = MICROSOFT

    def authorize(self, app: OAuthApp, *, redirect_uri: str, state: str) -> Authorization:
        """MSAL's auth-code flow on the app's tenant (PKCE and nonce included): its `auth_uri`,
        and the whole flow (JSON) for `exchange`. Raises `TokenUnavailable` when the tenant's
        OpenID configuration cannot be read."""
        import msal

        with _SignInHttp() as http, warnings.catch_warnings():
            # MSAL recommends form_post; the callback is a GET by contract, and its code is of no use
            # without the PKCE verifier and the client secret, which never leave the server.
            warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
            client = _application(app, app.tenant, msal.SerializableTokenCache(), http)
            # select_account: an admin connecting several mailboxes from one browser picks each.
            flow: dict[str, Any] = client.initiate_auth_code_flow(
                SCOPES, redirect_uri=redirect_uri, state=state, prompt="select_account"
            )
        return Authorization(url=flow["auth_uri"], flow=flow)

    def exchange(
        self, app: OAuthApp, flow: dict[str, Any], *, code: str, state: str, redirect_uri: str
    ) -> Connected:
        """The code redeemed through MSAL (the flow's own redirect URI, PKCE verifier and nonce),
        the scopes checked, the address read from Graph's `/me`. Raises `CodeRefused`,
        `ScopeMissing`, `TokenUnavailable`."""
        import msal

        cache = msal.SerializableTokenCache()
        with _SignInHttp() as http:
            client = _application(app, app.tenant, cache, http)
            # MSAL pops entries from the flow: the caller's stored copy stays as it was.
            result = _redeem(client, dict(flow), code, state, http)
        if "error" in result:
            _log("exchanging the code", str(result["error"]))
            if result["error"] in ("temporarily_unavailable", "server_error"):
                raise TokenUnavailable(_described(result), retry_after=http.retry_after)
            raise CodeRefused(_described(result))
        if "access_token" not in result:
            raise TokenUnavailable("Microsoft's sign-in answered without an access token")
        missing = _missing_scopes(result.get("scope"))
        if missing:
            raise ScopeMissing(missing)
        access = _access(result)
        claims = result.get("id_token_claims") or {}
        tenant = claims.get("tid") if isinstance(claims.get("tid"), str) else None
        return Connected(
            address=_address(access.token.get_secret_value()),
            credentials=Office365Credentials(token_cache=SecretStr(cache.serialize())),
            config={"tenant": tenant or app.tenant},
            access=access,
        )

    def cached(self, credentials: Any, *, now: datetime) -> AccessToken | None:
        """The cache's latest access token for the mail scopes, when more than five minutes are
        left; None otherwise. Reads the cache only (no MSAL application, no network)."""
        import msal

        cache = _cache(credentials)
        best: AccessToken | None = None
        for entry in cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, now=now.timestamp()):
            if _missing_scopes(entry.get("target", "")):
                continue
            expires_at = datetime.fromtimestamp(int(entry["expires_on"]), UTC)
            if best is None or expires_at > best.expires_at:
                best = AccessToken(token=SecretStr(entry["secret"]), expires_at=expires_at)
        return best if best is not None and best.fresh(now) else None

    def refresh(self, app: OAuthApp, credentials: Any) -> Refreshed:
        """A new access token from the cache's refresh token, on the mailbox's own tenant; the
        cache with the new tokens (Microsoft rotates the refresh token every time). Raises
        `GrantRevoked` when Microsoft refuses the grant (or the cache holds no account),
        `TokenUnavailable` for anything else."""
        cache = _cache(credentials)
        home = _home_account(cache)
        if home is None:
            raise GrantRevoked(REVOKED)
        with _SignInHttp() as http:
            client = _application(app, _home_tenant(home) or app.tenant, cache, http)
            accounts = client.get_accounts()
            if not accounts:  # the login URL moved since the connection: the cache is of no use
                raise GrantRevoked(REVOKED)
            result = _silently(client, accounts[0], http)
        if result is None:  # no refresh token left in the cache
            raise GrantRevoked(REVOKED)
        if "error" in result:
            _log("refreshing the access", str(result["error"]))
            if result["error"] in NEEDS_USER:
                raise GrantRevoked(REVOKED)
            if result["error"] == "invalid_client":
                raise TokenUnavailable(
                    "Microsoft refused the product's app credentials (INBOX_MICROSOFT_CLIENT_ID / "
                    "INBOX_MICROSOFT_CLIENT_SECRET)"
                )
            raise TokenUnavailable(_described(result), retry_after=http.retry_after)
        if "access_token" not in result:
            raise TokenUnavailable("Microsoft's sign-in answered without an access token")
        _keep_only(cache, result["access_token"])
        changed = bool(cache.has_state_changed)  # read before serialize() resets it
        return Refreshed(
            access=_access(result),
            credentials=Office365Credentials(token_cache=SecretStr(cache.serialize())),
            changed=changed,
        )


class _SignInHttp:
    """The HTTP client given to MSAL: the product's trusted session (INBOX_CA_BUNDLE), a timeout on
    every call (requests has no session-wide one, and MSAL sets none on a client it is given), and
    the Retry-After of a throttling answer, which MSAL's results do not carry."""

    def __init__(self) -> None:
        self._session = trusted_session()
        self.retry_after: float | None = None

    def __enter__(self) -> _SignInHttp:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        return self._noted(self._session.get(url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        return self._noted(self._session.post(url, **kwargs))

    def close(self) -> None:
        self._session.close()

    def _noted(self, response: requests.Response) -> requests.Response:
        if response.status_code == 429 or response.status_code >= 500:
            self.retry_after = provider_http.retry_after(response.headers.get("retry-after"))
        return response


def _application(
    app: OAuthApp, tenant: str, cache: msal.SerializableTokenCache, http: _SignInHttp
) -> msal.ConfidentialClientApplication:
    """MSAL's application on `{login URL}/{tenant}`; building it reads the tenant's OpenID
    configuration. Raises `TokenUnavailable` when that cannot be read."""
    import msal
    import requests

    login = settings().microsoft_login_url.rstrip("/")
    ours = urlsplit(login).hostname == MICROSOFT_LOGIN_HOST
    try:
        return msal.ConfidentialClientApplication(
            app.client_id,
            client_credential=app.client_secret,
            authority=f"{login}/{tenant}",
            token_cache=cache,
            http_client=http,
            instance_discovery=None if ours else False,
        )
    except requests.exceptions.RequestException as error:
        raise _unreachable("reading the tenant's sign-in configuration", error) from None
    except msal.exceptions.MsalServiceError:
        _log("reading the tenant's sign-in configuration", "5xx")
        raise TokenUnavailable(
            "Microsoft's sign-in failed (HTTP 5xx) reading the tenant's configuration",
            retry_after=http.retry_after,
        ) from None
    except ValueError:
        # MSAL's text quotes the whole answer; a tenant Microsoft does not know is the usual cause.
        _log("reading the tenant's sign-in configuration", "refused")
        raise TokenUnavailable(
            f"Microsoft's sign-in has no usable configuration for tenant {tenant}"
        ) from None


def _redeem(
    client: msal.ConfidentialClientApplication,
    flow: dict[str, Any],
    code: str,
    state: str,
    http: _SignInHttp,
) -> dict[str, Any]:
    """MSAL's answer to the code (a dict, possibly an OAuth error); raises as the module says."""
    import msal
    import requests

    try:
        result: dict[str, Any] = client.acquire_token_by_auth_code_flow(flow, {"code": code, "state": state})
    except requests.exceptions.RequestException as error:
        raise _unreachable("exchanging the code", error) from None
    except msal.exceptions.MsalServiceError:
        _log("exchanging the code", "5xx")
        raise TokenUnavailable(
            "Microsoft's sign-in failed (HTTP 5xx) exchanging the code", retry_after=http.retry_after
        ) from None
    except json.JSONDecodeError:
        _log("exchanging the code", "not JSON")
        raise TokenUnavailable(
            "Microsoft's sign-in did not answer JSON", retry_after=http.retry_after
        ) from None
    except ValueError:
        # The answer does not belong to the stored flow (MSAL's text would quote the states).
        raise CodeRefused("the sign-in answer does not match the sign-in that was started") from None
    except RuntimeError:
        # The ID token's nonce is not the flow's: the code was issued for another sign-in.
        raise CodeRefused("the ID token does not belong to this sign-in") from None
    return result


def _silently(
    client: msal.ConfidentialClientApplication, account: dict[str, Any], http: _SignInHttp
) -> dict[str, Any] | None:
    import msal
    import requests

    try:
        result: dict[str, Any] | None = client.acquire_token_silent_with_error(
            SCOPES, account, force_refresh=True
        )
    except requests.exceptions.RequestException as error:
        raise _unreachable("refreshing the access", error) from None
    except msal.exceptions.MsalServiceError:
        _log("refreshing the access", "5xx")
        raise TokenUnavailable(
            "Microsoft's sign-in failed (HTTP 5xx) refreshing the access", retry_after=http.retry_after
        ) from None
    except ValueError:
        _log("refreshing the access", "not JSON")
        raise TokenUnavailable(
            "Microsoft's sign-in did not answer JSON", retry_after=http.retry_after
        ) from None
    return result


def _address(access_token: str) -> str:
    """The mailbox's address from Graph's `/me`: `mail`, else the user principal name."""
    url = f"{settings().microsoft_graph_url.rstrip('/')}/v1.0/me"
    step = "reading the mailbox's address"
    try:
        answer = provider_http.exchange(
            MICROSOFT,
            step,
            "GET",
            url,
            params={"$select": "mail,userPrincipalName"},
            headers={"Authorization": f"Bearer {access_token}"},
        )
    except Unavailable as unavailable:
        why = "did not answer" + (" in time" if unavailable.timed_out else "")
        raise TokenUnavailable(f"Microsoft Graph {why} while {step}") from None
    if answer.status == 429 or answer.status >= 500:
        provider_http.log(MICROSOFT, step, "try later", answer.status)
        raise TokenUnavailable(
            f"Microsoft Graph answered {answer.status} while {step}", retry_after=answer.retry_after
        )
    body = _json(answer.content)
    if not answer.ok:
        provider_http.log(MICROSOFT, step, "refused", answer.status)
        message = provider_http.mask(_graph_message(body), (access_token,)) or f"HTTP {answer.status}"
        raise CodeRefused(f"Microsoft Graph refused the new access ({message})")
    address = body.get("mail") or body.get("userPrincipalName")
    if not isinstance(address, str) or not address:
        raise CodeRefused("Microsoft Graph did not say the mailbox's address")
    return address


def _cache(credentials: Any) -> msal.SerializableTokenCache:
    import msal

    cache = msal.SerializableTokenCache()
    try:
        cache.deserialize(credentials.token_cache.get_secret_value())
    except ValueError:
        raise GrantRevoked(REVOKED) from None
    return cache


def _keep_only(cache: msal.SerializableTokenCache, access_token: str) -> None:
    """Drop the access tokens the new one supersedes: the stored cache keeps one, the newest (an
    older one would live as long, to the second, when refreshed right after the exchange)."""
    import msal

    for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
        if entry["secret"] != access_token:
            cache.remove_at(entry)


def _home_account(cache: msal.SerializableTokenCache) -> dict[str, Any] | None:
    import msal

    accounts = cache.search(msal.TokenCache.CredentialType.ACCOUNT)
    return next((account for account in accounts if account.get("home_account_id")), None)


def _home_tenant(account: dict[str, Any]) -> str | None:
    """The tenant of the mailbox: MSAL's home account id is `<object id>.<tenant id>`."""
    _, _, tenant = str(account.get("home_account_id", "")).partition(".")
    return tenant or None


def _access(result: dict[str, Any]) -> AccessToken:
    lifetime = result.get("expires_in")
    seconds = timedelta(seconds=int(lifetime)) if lifetime is not None else DEFAULT_LIFETIME
    return AccessToken(token=SecretStr(result["access_token"]), expires_at=datetime.now(UTC) + seconds)


def _missing_scopes(granted: object) -> list[str]:
    """The mail permissions a granted scope list (space-separated, short or fully qualified) lacks;
    none when Microsoft did not say (then it granted what was asked)."""
    if not isinstance(granted, str):
        return []
    names = {scope.lower().removeprefix(GRAPH) for scope in granted.split()}
    missing = []
    if not names & READING:
        missing.append(MAIL_READ)
    if not names & SENDING:
        missing.append(MAIL_SEND)
    return missing


def _described(result: dict[str, Any]) -> str:
    """Microsoft's words for an OAuth error, without its trace and correlation ids."""
    description = str(result.get("error_description") or result.get("error") or "refused")
    return description.split("\r\n")[0].split(" Trace ID:")[0].strip()


def _unreachable(step: str, error: BaseException) -> TokenUnavailable:
    import requests

    kind = (
        "certificate not trusted"
        if isinstance(error, requests.exceptions.SSLError)
        else "timed out"
        if isinstance(error, requests.exceptions.Timeout)
        else "no answer"
    )
    _log(step, type(error).__name__)
    return TokenUnavailable(f"Microsoft's sign-in could not be reached while {step} ({kind})")


def _json(content: bytes) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _graph_message(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else None


def _log(step: str, outcome: str) -> None:
    # The OAuth error code only: descriptions may name the user, never a token.
    logger.warning(
        "Microsoft sign-in failed", extra={"provider": MICROSOFT, "step": step, "outcome": outcome}
    )
