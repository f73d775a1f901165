"""The sandbox's Google (`inbox.local.sandbox.google`) served over https for the tests, with the
product pointed at it (its three base URLs) and trusting it (INBOX_CA_BUNDLE, `trust_stand_ins`),
plus the steps an admin's browser takes: open the consent URL, come back with the code."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from pytest_httpserver import HTTPServer

from https_standins import serve_app
from inbox.email.sending import wire_bytes
from inbox.local.sandbox.google import GoogleSandbox
from inbox.oauth.apps import OAuthApp
from inbox.oauth.google import Google
from inbox.oauth.grants import Connected
from inbox.oauth.session import trusted_session

CLIENT_ID = "inbox-tests.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-tests-secret"
APP = OAuthApp(CLIENT_ID, CLIENT_SECRET)
REDIRECT_URI = "https://inbox.test/v1/oauth/google/callback"
BASE_URL_VARIABLES = ("INBOX_GOOGLE_OAUTH_URL", "INBOX_GMAIL_API_URL", "INBOX_GOOGLE_ACCOUNTS_URL")


def serve_google(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> GoogleSandbox:
    """A fresh sandbox Google behind `server`, the product's Google base URLs pointing at it."""
    sandbox = GoogleSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

    serve_app(server, sandbox)
    for name in BASE_URL_VARIABLES:
        monkeypatch.setenv(name, server.url_for("/").rstrip("/"))
    return sandbox


def consent(authorization_url: str) -> dict[str, str]:
    """The query the consent page sends the admin back to the callback with."""
    with trusted_session() as session:
        answer = session.get(authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return dict(parse_qsl(urlsplit(location).query))


def connect(state: str = "state-1") -> Connected:
    """The whole sign-in: the consent URL, the consent, the code exchanged."""
    google = Google()
    authorization = google.authorize(APP, redirect_uri=REDIRECT_URI, state=state)
    back = consent(authorization.url)
    return google.exchange(APP, authorization.flow, code=back["code"], state=state, redirect_uri=REDIRECT_URI)


def closed_port_url() -> str:
    """An https URL nothing listens on (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def email(name: str, *, body: str = "Hello", arrived_at: datetime | None = None) -> bytes:
    """A small RFC 822 message whose Subject and Message-ID are `name`."""
    message = EmailMessage()
    message["From"] = "Ana Silva <ana@customer.example>"
    message["To"] = "support@shop.example"
    message["Subject"] = name
    message["Date"] = format_datetime(arrived_at or datetime.now(UTC))
    message["Message-ID"] = f"<{name}@customer.example>"
    message.set_content(body)
    return wire_bytes(message)
