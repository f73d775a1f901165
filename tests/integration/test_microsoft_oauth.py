"""Connecting an Office 365 mailbox with MSAL against the Microsoft stand-in over real https: the
consent URL, the code exchange, the account's tokens from its MSAL cache, and which failures mean
reconnecting (`GrantRevoked`) and which only "later" (`TokenUnavailable`)."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from inbox.accounts.models import Office365Credentials
from inbox.local.sandbox.microsoft import MicrosoftSandbox
from inbox.local.sandbox.tls import LocalCA
from inbox.oauth.apps import OAuthApp
from inbox.oauth.grants import CodeRefused, GrantRevoked, ScopeMissing, TokenUnavailable
from inbox.oauth.microsoft import SCOPES, Microsoft
from microsoft_standin import APP, CLIENT_ID, MAILBOX, REDIRECT_URI, connect, consent, serve_microsoft


@pytest.fixture
def microsoft(
    https_server: HTTPServer, trust_stand_ins: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> MicrosoftSandbox:
    return serve_microsoft(https_server, monkeypatch)


def credentials_of(cache: str) -> Office365Credentials:
    return Office365Credentials(token_cache=SecretStr(cache))


def refresh_tokens(credentials: Office365Credentials) -> list[str]:
    cache = json.loads(credentials.token_cache.get_secret_value())
    return [entry["secret"] for entry in cache.get("RefreshToken", {}).values()]


def test_the_consent_url_is_on_the_login_url_with_the_mail_scopes_state_and_pkce(
    microsoft: MicrosoftSandbox,
) -> None:
    authorization = Microsoft().authorize(APP, redirect_uri=REDIRECT_URI, state="the-state")

    url = urlsplit(authorization.url)
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == microsoft_base()
    assert url.path == "/common/oauth2/v2.0/authorize"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["state"] == "the-state"
    assert query["response_type"] == "code"
    assert set(query["scope"].split()) == {*SCOPES, "openid", "profile", "offline_access"}
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"]
    assert query["nonce"]
    # The flow is kept server-side between start and callback: plain JSON, the verifier inside.
    assert json.loads(json.dumps(authorization.flow))["code_verifier"]


def test_an_exchanged_code_gives_the_address_the_cache_and_the_tenant(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    connected = connect(trust_stand_ins)

    assert connected.address == MAILBOX
    assert connected.config == {"tenant": microsoft.tenant_id}
    assert isinstance(connected.credentials, Office365Credentials)
    cache = json.loads(connected.credentials.token_cache.get_secret_value())
    assert cache["RefreshToken"]
    assert cache["AccessToken"]
    assert cache["Account"]
    assert connected.access is not None
    assert connected.access.fresh(datetime.now(UTC))
    assert microsoft.exchanges == 1


def test_without_a_mail_address_the_principal_name_is_the_address(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    microsoft.add_mailbox("ops@contoso.example", user_principal_name="ops@contoso.example", mail=None)
    microsoft.signs_in = "ops@contoso.example"

    assert connect(trust_stand_ins).address == "ops@contoso.example"


def test_a_code_redeemed_twice_is_refused_in_microsofts_words(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    provider = Microsoft()
    authorization = provider.authorize(APP, redirect_uri=REDIRECT_URI, state="s")
    answer = consent(authorization.url, trust_stand_ins)
    provider.exchange(APP, authorization.flow, code=answer["code"], state="s", redirect_uri=REDIRECT_URI)

    with pytest.raises(CodeRefused) as refused:
        provider.exchange(APP, authorization.flow, code=answer["code"], state="s", redirect_uri=REDIRECT_URI)

    assert refused.value.message.startswith("AADSTS54005: OAuth2 Authorization code was already redeemed")
    assert "Trace ID" not in refused.value.message


def test_a_forged_code_is_refused(microsoft: MicrosoftSandbox) -> None:
    provider = Microsoft()
    authorization = provider.authorize(APP, redirect_uri=REDIRECT_URI, state="s")

    with pytest.raises(CodeRefused):
        provider.exchange(APP, authorization.flow, code="0.AXforged", state="s", redirect_uri=REDIRECT_URI)


def test_a_code_for_another_sign_in_is_refused(microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA) -> None:
    provider = Microsoft()
    first = provider.authorize(APP, redirect_uri=REDIRECT_URI, state="first")
    second = provider.authorize(APP, redirect_uri=REDIRECT_URI, state="second")
    answer = consent(second.url, trust_stand_ins)

    # The second sign-in's code against the first flow: its PKCE verifier does not match.
    with pytest.raises(CodeRefused) as refused:
        provider.exchange(APP, first.flow, code=answer["code"], state="first", redirect_uri=REDIRECT_URI)

    assert "AADSTS501481" in refused.value.message


def test_a_consent_without_sending_mail_is_scope_missing(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    microsoft.granted_scopes = {"Mail.Read", "User.Read"}

    with pytest.raises(ScopeMissing) as missing:
        connect(trust_stand_ins)

    assert missing.value.missing == ["Mail.Send"]


def test_cached_answers_the_fresh_token_without_a_request(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    connected = connect(trust_stand_ins)
    assert connected.access is not None
    before = sum(microsoft.requests.values())

    cached = Microsoft().cached(connected.credentials, now=datetime.now(UTC))

    assert cached is not None
    assert cached.token == connected.access.token
    assert sum(microsoft.requests.values()) == before


def test_cached_answers_none_when_the_token_has_less_than_five_minutes(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    connected = connect(trust_stand_ins)

    later = datetime.now(UTC) + timedelta(seconds=microsoft.access_token_seconds) - timedelta(minutes=4)
    assert Microsoft().cached(connected.credentials, now=later) is None


def test_a_refresh_gives_a_new_token_and_the_rotated_refresh_token(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    connected = connect(trust_stand_ins)
    assert isinstance(connected.credentials, Office365Credentials)
    assert connected.access is not None

    refreshed = Microsoft().refresh(APP, connected.credentials)

    assert refreshed.changed
    assert refreshed.access.token != connected.access.token
    assert isinstance(refreshed.credentials, Office365Credentials)
    assert refresh_tokens(refreshed.credentials) != refresh_tokens(connected.credentials)
    assert len(refresh_tokens(refreshed.credentials)) == 1
    # The refresh went to the mailbox's own tenant, not to `common`.
    assert microsoft.calls(f"/{microsoft.tenant_id}/oauth2/v2.0/token") == 1
    assert microsoft.refreshes == 1
    # And the new cache is what `cached` reads next.
    cached = Microsoft().cached(refreshed.credentials, now=datetime.now(UTC))
    assert cached is not None
    assert cached.token == refreshed.access.token


@pytest.mark.parametrize("error", ["invalid_grant", "interaction_required"])
def test_a_revoked_grant_needs_reconnecting(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA, error: str
) -> None:
    connected = connect(trust_stand_ins)
    microsoft.revoke(MAILBOX, error=error)

    with pytest.raises(GrantRevoked) as revoked:
        Microsoft().refresh(APP, connected.credentials)

    assert revoked.value.reason == "Microsoft access was revoked: reconnect the account."


def test_a_cache_without_an_account_needs_reconnecting(microsoft: MicrosoftSandbox) -> None:
    with pytest.raises(GrantRevoked):
        Microsoft().refresh(APP, credentials_of("{}"))


@pytest.mark.parametrize("path", ["/oauth2/v2.0/token", "/.well-known/openid-configuration"])
def test_a_5xx_of_the_login_url_is_unavailable_not_revoked(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA, path: str
) -> None:
    connected = connect(trust_stand_ins)
    microsoft.fail(1, status=503, path=path)

    with pytest.raises(TokenUnavailable):
        Microsoft().refresh(APP, connected.credentials)


def test_a_throttled_refresh_is_unavailable_with_microsofts_retry_after(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    connected = connect(trust_stand_ins)
    microsoft.throttle(1, retry_after=7, path="/oauth2/v2.0/token")

    with pytest.raises(TokenUnavailable) as unavailable:
        Microsoft().refresh(APP, connected.credentials)

    assert unavailable.value.retry_after == 7


def test_a_5xx_during_the_exchange_is_unavailable(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA
) -> None:
    provider = Microsoft()
    authorization = provider.authorize(APP, redirect_uri=REDIRECT_URI, state="s")
    answer = consent(authorization.url, trust_stand_ins)
    microsoft.fail(1, status=500, path="/oauth2/v2.0/token")

    with pytest.raises(TokenUnavailable):
        provider.exchange(APP, authorization.flow, code=answer["code"], state="s", redirect_uri=REDIRECT_URI)


def test_a_login_url_that_does_not_answer_is_unavailable(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected = connect(trust_stand_ins)
    monkeypatch.setenv("INBOX_MICROSOFT_LOGIN_URL", f"https://127.0.0.1:{closed_port()}")

    with pytest.raises(TokenUnavailable) as unavailable:
        Microsoft().refresh(APP, connected.credentials)

    assert "could not be reached" in unavailable.value.why


def test_an_untrusted_certificate_is_unavailable_never_revoked(
    microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected = connect(trust_stand_ins)
    monkeypatch.delenv("INBOX_CA_BUNDLE")

    with pytest.raises(TokenUnavailable) as unavailable:
        Microsoft().refresh(APP, connected.credentials)

    assert "certificate not trusted" in unavailable.value.why
    assert microsoft.refreshes == 0


def test_an_unknown_tenant_is_unavailable(microsoft: MicrosoftSandbox) -> None:
    app = OAuthApp(APP.client_id, APP.client_secret, "no-such-tenant")

    with pytest.raises(TokenUnavailable):
        Microsoft().authorize(app, redirect_uri=REDIRECT_URI, state="s")


def test_no_error_text_carries_a_secret(microsoft: MicrosoftSandbox, trust_stand_ins: LocalCA) -> None:
    connected = connect(trust_stand_ins)
    assert isinstance(connected.credentials, Office365Credentials)
    secrets = [*refresh_tokens(connected.credentials), APP.client_secret]
    wrong = OAuthApp(APP.client_id, "not-the-secret")

    with pytest.raises(TokenUnavailable) as unavailable:
        Microsoft().refresh(wrong, connected.credentials)

    assert not any(secret in unavailable.value.why for secret in secrets)
    assert "app credentials" in unavailable.value.why


def microsoft_base() -> str:
    return os.environ["INBOX_MICROSOFT_LOGIN_URL"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
