"""The Microsoft stand-in for the tests: `inbox.local.sandbox.microsoft` served over https (MSAL
refuses anything else) with a CA the product trusts, the product's login and Graph URLs pointed at
it, and the admin's side of a connection (following the consent URL as a browser would)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from pytest_httpserver import HTTPServer

from https_standins import serve_app
from inbox.local.sandbox.microsoft import MicrosoftSandbox
from inbox.local.sandbox.tls import LocalCA
from inbox.oauth.apps import OAuthApp
from inbox.oauth.grants import Connected
from inbox.oauth.microsoft import Microsoft

CLIENT_ID = "5c1e7b2a-0d4f-4e43-9a53-3f0c2f9b7e11"
CLIENT_SECRET = "sandbox-client-secret~value"
APP = OAuthApp(CLIENT_ID, CLIENT_SECRET)
REDIRECT_URI = "https://inbox.example.com/v1/oauth/microsoft/callback"
MAILBOX = "shared@contoso.example"


def serve_microsoft(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> MicrosoftSandbox:
    """A fresh stand-in with one mailbox behind `server`, as INBOX_MICROSOFT_LOGIN_URL and
    INBOX_MICROSOFT_GRAPH_URL (the product must trust the server: `trust_stand_ins`)."""
    sandbox = MicrosoftSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    sandbox.add_mailbox(MAILBOX)

    serve_app(server, sandbox)
    base = server.url_for("/").rstrip("/")
    monkeypatch.setenv("INBOX_MICROSOFT_LOGIN_URL", base)
    monkeypatch.setenv("INBOX_MICROSOFT_GRAPH_URL", base)
    return sandbox


def consent(authorization_url: str, bundle: LocalCA) -> dict[str, str]:
    """What the consent page sends back to the redirect URI (the admin's browser, not the product)."""
    answer = requests.get(authorization_url, allow_redirects=False, verify=str(bundle.bundle), timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return dict(parse_qsl(urlsplit(location).query))


def connect(bundle: LocalCA, *, state: str = "state-1") -> Connected:
    """A mailbox connected as the callback would: authorize, consent, exchange."""
    provider = Microsoft()
    authorization = provider.authorize(APP, redirect_uri=REDIRECT_URI, state=state)
    answer = consent(authorization.url, bundle)
    return provider.exchange(
        APP, authorization.flow, code=answer["code"], state=answer["state"], redirect_uri=REDIRECT_URI
    )
