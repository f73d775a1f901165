"""https stand-ins for Google's and Microsoft's endpoints: pytest-httpserver serving TLS with a
certificate of a throwaway CA, which the product trusts through INBOX_CA_BUNDLE (as deployed with a
company's internal CA). MSAL refuses http authorities; every provider client gets the same trust."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from inbox.local.sandbox.tls import LocalCA, local_ca


@pytest.fixture(scope="session")
def stand_in_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    return local_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def https_server(stand_in_ca: LocalCA) -> Iterator[HTTPServer]:
    """A fresh https server on 127.0.0.1 (its URLs: `url_for`)."""
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=stand_in_ca.server_context)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def trust_stand_ins(stand_in_ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> LocalCA:
    """The product configured to trust the stand-ins' CA (INBOX_CA_BUNDLE), as a deployer would."""
    monkeypatch.setenv("INBOX_CA_BUNDLE", str(stand_in_ca.bundle))
    return stand_in_ca


def serve_app(server: HTTPServer, app: Any) -> None:
    """Every request to `server` answered by the WSGI `app` (a stateful provider stand-in)."""

    def answer(request: Request) -> Response:
        # pytest-httpserver has read the body already: the app reads it from a fresh stream (else
        # its form parsing waits for bytes that never come).
        return Response.from_app(app, {**request.environ, "wsgi.input": BytesIO(request.get_data())})

    server.expect_request(re.compile(".*")).respond_with_handler(answer)


__all__ = ["Request", "https_server", "serve_app", "stand_in_ca", "trust_stand_ins"]
