"""The local stack, started as a user starts it (`inbox dev`, a user's environment), on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from builders import META_APP_SECRET, META_VERIFY_TOKEN
from dovecot import DovecotUnavailable, LocalDovecot, start_dovecot
from mail_peers import SmtpInbox, serve_smtp_inbox
from stack_process import StackProcess, user_environment


@pytest.fixture(scope="session")
def stack_url(
    template_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    make_httpserver: HTTPServer,
    signing_key_file: Path,
) -> Iterator[str]:
    """`inbox dev` with the Meta Graph API at a loopback stand-in (pytest-httpserver's server)."""
    stack = StackProcess(
        ["--port", "0", "--template", str(template_path)],
        user_environment(
            INBOX_DEV_SIGNING_KEY_FILE=str(signing_key_file),
            INBOX_META_APP_SECRET=META_APP_SECRET,
            INBOX_META_VERIFY_TOKEN=META_VERIFY_TOKEN,
            INBOX_META_GRAPH_URL=make_httpserver.url_for("/v21.0"),
        ),
        tmp_path_factory.mktemp("stack"),
    )
    try:
        url = stack.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield url
    finally:
        stack.stop()


@pytest.fixture
def client(stack_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack_url, timeout=15) as http:
        yield http


@pytest.fixture(scope="module")
def smtp_inbox() -> Iterator[SmtpInbox]:
    with serve_smtp_inbox() as inbox:
        yield inbox


@pytest.fixture(scope="module")
def dovecot() -> Iterator[LocalDovecot]:
    try:
        with start_dovecot([]) as server:
            yield server
    except DovecotUnavailable as missing:
        pytest.fail(str(missing))
