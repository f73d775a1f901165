"""Google's OAuth flow (`inbox.oauth.google`) against the sandbox's Google over real https: the
consent URL, the code exchanged for the account's credentials and address, refreshes with
google-auth itself, and which failures mean "reconnect" (only a revoked grant) and which mean
"try later" (no answer, an untrusted certificate, a 5xx)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from google_standin import APP, CLIENT_ID, REDIRECT_URI, closed_port_url, connect, consent, serve_google
from inbox.accounts.models import GmailCredentials
from inbox.local.sandbox.google import GMAIL_READONLY, GMAIL_SEND, GoogleSandbox
from inbox.local.sandbox.tls import LocalCA
from inbox.oauth.apps import OAuthApp
from inbox.oauth.google import GMAIL_MODIFY, Google
from inbox.oauth.grants import CodeRefused, GrantRevoked, ScopeMissing, TokenUnavailable

ADDRESS = "support@shop.example"


@pytest.fixture
def google(
    https_server: HTTPServer, trust_stand_ins: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> GoogleSandbox:
    sandbox = serve_google(https_server, monkeypatch)
    sandbox.add_mailbox(ADDRESS)
    return sandbox


def stored(refresh_token: str) -> GmailCredentials:
    return GmailCredentials(refresh_token=SecretStr(refresh_token))


def test_the_consent_url_asks_for_offline_gmail_access(
    google: GoogleSandbox, https_server: HTTPServer
) -> None:
    authorization = Google().authorize(APP, redirect_uri=REDIRECT_URI, state="s-1")

    url = urlsplit(authorization.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == https_server.url_for("/o/oauth2/v2/auth")
    assert parse_qs(url.query) == {
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT_URI],
        "response_type": ["code"],
        "scope": [GMAIL_MODIFY],
        "access_type": ["offline"],
        "prompt": ["consent"],
        "include_granted_scopes": ["true"],
        "state": ["s-1"],
    }
    assert authorization.flow == {}


def test_the_code_gives_the_refresh_token_and_the_address_of_the_mailbox(google: GoogleSandbox) -> None:
    connected = connect()

    assert connected.address == ADDRESS
    assert isinstance(connected.credentials, GmailCredentials)
    assert connected.credentials.refresh_token.get_secret_value().startswith("1//")
    assert connected.config == {}
    assert connected.access is not None
    assert connected.access.fresh(datetime.now(UTC))
    assert connected.credentials.access_token == connected.access.token
    # The stored refresh token is a working one.
    refreshed = Google().refresh(APP, connected.credentials)
    assert refreshed.access.token != connected.access.token
    assert google.exchanges == 1
    assert google.refreshes == 1


def test_a_code_used_twice_or_never_issued_is_refused_in_googles_words(google: GoogleSandbox) -> None:
    authorization = Google().authorize(APP, redirect_uri=REDIRECT_URI, state="s-1")
    code = consent(authorization.url)["code"]
    Google().exchange(APP, {}, code=code, state="s-1", redirect_uri=REDIRECT_URI)

    for refused in (code, "4/0-never-issued"):
        with pytest.raises(CodeRefused) as caught:
            Google().exchange(APP, {}, code=refused, state="s-1", redirect_uri=REDIRECT_URI)
        assert caught.value.message == "Malformed auth code."


def test_a_consent_without_offline_access_is_refused_for_lack_of_a_refresh_token(
    google: GoogleSandbox,
) -> None:
    url = (
        Google().authorize(APP, redirect_uri=REDIRECT_URI, state="s-1").url.replace("access_type=offline", "")
    )
    code = consent(url)["code"]

    with pytest.raises(CodeRefused) as caught:
        Google().exchange(APP, {}, code=code, state="s-1", redirect_uri=REDIRECT_URI)
    assert "no refresh token" in caught.value.message


@pytest.mark.parametrize(
    ("granted", "missing"),
    [(set(), [GMAIL_MODIFY]), ({"openid"}, [GMAIL_MODIFY]), ({GMAIL_READONLY}, [GMAIL_SEND])],
)
def test_a_consent_without_the_mail_scopes_is_scope_missing(
    google: GoogleSandbox, granted: set[str], missing: list[str]
) -> None:
    google.granted_scopes = granted  # the admin unticked the Gmail box on the consent page
    authorization = Google().authorize(APP, redirect_uri=REDIRECT_URI, state="s-1")
    code = consent(authorization.url)["code"]

    with pytest.raises(ScopeMissing) as caught:
        Google().exchange(APP, {}, code=code, state="s-1", redirect_uri=REDIRECT_URI)
    assert caught.value.missing == missing


def test_readonly_and_send_together_are_enough(google: GoogleSandbox) -> None:
    google.granted_scopes = {GMAIL_READONLY, GMAIL_SEND}

    connected = connect()

    assert connected.address == ADDRESS


def test_a_denied_consent_comes_back_with_access_denied_and_the_state(google: GoogleSandbox) -> None:
    google.deny_consent = True

    back = consent(Google().authorize(APP, redirect_uri=REDIRECT_URI, state="s-9").url)

    assert back == {"error": "access_denied", "state": "s-9"}


def test_a_refresh_gives_a_new_token_and_keeps_the_refresh_token(google: GoogleSandbox) -> None:
    refresh_token = google.grant(ADDRESS)
    before = datetime.now(UTC)

    refreshed = Google().refresh(APP, stored(refresh_token))

    assert refreshed.changed
    assert refreshed.access.expires_at.tzinfo is not None
    assert (
        before + timedelta(minutes=55) < refreshed.access.expires_at <= before + timedelta(hours=1, seconds=5)
    )
    credentials = refreshed.credentials
    assert isinstance(credentials, GmailCredentials)
    assert credentials.refresh_token.get_secret_value() == refresh_token
    assert credentials.access_token == refreshed.access.token
    assert credentials.access_token_expires_at == refreshed.access.expires_at
    assert google.refreshes == 1


def test_a_rotated_refresh_token_is_in_the_refreshed_credentials(google: GoogleSandbox) -> None:
    refresh_token = google.grant(ADDRESS)
    google.rotate_refresh_token(ADDRESS)

    refreshed = Google().refresh(APP, stored(refresh_token))

    assert isinstance(refreshed.credentials, GmailCredentials)
    rotated = refreshed.credentials.refresh_token.get_secret_value()
    assert rotated != refresh_token
    assert Google().refresh(APP, refreshed.credentials).access.token != refreshed.access.token


def test_the_stored_token_is_used_while_fresh(google: GoogleSandbox) -> None:
    refreshed = Google().refresh(APP, stored(google.grant(ADDRESS)))
    now = datetime.now(UTC)

    assert Google().cached(refreshed.credentials, now=now) == refreshed.access
    assert (
        Google().cached(refreshed.credentials, now=refreshed.access.expires_at - timedelta(minutes=4)) is None
    )
    assert Google().cached(stored("1//no-access-token-yet"), now=now) is None


def test_a_revoked_grant_means_reconnecting(google: GoogleSandbox) -> None:
    refresh_token = google.grant(ADDRESS)
    google.revoke(ADDRESS)

    with pytest.raises(GrantRevoked) as caught:
        Google().refresh(APP, stored(refresh_token))
    assert "reconnect the account" in caught.value.reason
    assert refresh_token not in caught.value.reason


def test_the_products_own_client_refused_is_not_the_accounts_fault(google: GoogleSandbox) -> None:
    with pytest.raises(TokenUnavailable) as caught:
        Google().refresh(OAuthApp(CLIENT_ID, "a-wrong-secret"), stored(google.grant(ADDRESS)))
    assert "invalid_client" in caught.value.why


def test_google_failing_or_unreachable_is_try_later(
    google: GoogleSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh_token = google.grant(ADDRESS)
    # 502: google-auth itself retries 500 and 503 with a backoff of seconds; that retry is not
    # what is tested here.
    google.fail(1, status=502, path="/token")
    with pytest.raises(TokenUnavailable):
        Google().refresh(APP, stored(refresh_token))

    google.fail(1, status=503, path="/token")
    with pytest.raises(TokenUnavailable):
        Google().exchange(APP, {}, code="4/0-any", state="s", redirect_uri=REDIRECT_URI)

    monkeypatch.setenv("INBOX_GOOGLE_OAUTH_URL", closed_port_url())
    with pytest.raises(TokenUnavailable):
        Google().refresh(APP, stored(refresh_token))
    with pytest.raises(TokenUnavailable):
        Google().exchange(APP, {}, code="4/0-any", state="s", redirect_uri=REDIRECT_URI)


def test_an_untrusted_certificate_is_try_later_not_a_revoked_grant(
    https_server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No INBOX_CA_BUNDLE: the stand-in's CA is not trusted, and TLS is never unverified.
    google = serve_google(https_server, monkeypatch)
    refresh_token = google.grant(ADDRESS)

    with pytest.raises(TokenUnavailable):
        Google().refresh(APP, stored(refresh_token))
    with pytest.raises(TokenUnavailable):
        Google().exchange(APP, {}, code="4/0-any", state="s", redirect_uri=REDIRECT_URI)
    assert google.refreshes == 0
