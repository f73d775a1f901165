"""The local stack, started as a user starts it (`inbox dev`), on a free port."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from builders import META_APP_SECRET, META_VERIFY_TOKEN

ROOT = Path(__file__).resolve().parents[2]

READY = re.compile(r"ready at (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="session")
def stack_url(
    template_path: Path, tmp_path_factory: pytest.TempPathFactory, make_httpserver: HTTPServer
) -> Iterator[str]:
    """`inbox dev` with the Meta Graph API at a loopback stand-in (pytest-httpserver's server)."""
    log_file = tmp_path_factory.mktemp("stack") / "stack.log"
    command = [sys.executable, "-m", "inbox.cli", "dev", "--port", "0", "--template", str(template_path)]
    with log_file.open("w") as log:
        env = {
            **os.environ,
            "INBOX_META_APP_SECRET": META_APP_SECRET,
            "INBOX_META_VERIFY_TOKEN": META_VERIFY_TOKEN,
            "INBOX_META_GRAPH_URL": make_httpserver.url_for("/v21.0"),
        }
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_forward_lines, args=(process, lines), daemon=True).start()
        try:
            url = None
            deadline = time.monotonic() + 90
            while url is None:
                try:
                    line = lines.get(timeout=1)
                except queue.Empty:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the local stack did not start:\n{log_file.read_text()}")
                    continue
                found = READY.search(line)
                url = found.group(1) if found else None
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def _forward_lines(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)


@pytest.fixture
def client(stack_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack_url, timeout=15) as http:
        yield http
