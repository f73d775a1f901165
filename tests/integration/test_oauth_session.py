"""The HTTP session google-auth and msal use trusts exactly what the product trusts: a stand-in's
CA through INBOX_CA_BUNDLE, and nothing unverified."""

from __future__ import annotations

import pytest
import requests
from pytest_httpserver import HTTPServer

from inbox.local.sandbox.tls import LocalCA
from inbox.oauth.session import trusted_session


def test_a_stand_in_signed_by_the_bundled_ca_is_trusted(
    https_server: HTTPServer,
    trust_stand_ins: LocalCA,
) -> None:
    https_server.expect_request("/token").respond_with_json({"ok": True})

    answer = trusted_session().get(https_server.url_for("/token"), timeout=5)

    assert answer.json() == {"ok": True}


def test_without_the_bundle_the_stand_in_is_refused(https_server: HTTPServer) -> None:
    https_server.expect_request("/token").respond_with_json({"ok": True})

    with pytest.raises(requests.exceptions.SSLError):
        trusted_session().get(https_server.url_for("/token"), timeout=5)
