"""`inbox dev` stops as a user expects: promptly on SIGTERM (or Ctrl-C), busy or not, leaving no
worker process and no local AWS behind."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from builders import bearer
from stack_process import StackProcess, alive, user_environment

# Generous: the contract is 5 s (benchmarks/local_stack_load.py measures it); this guards a hang.
STOP_SECONDS = 15


def test_a_busy_stack_stops_on_sigterm_and_leaves_no_process_behind(
    template_path: Path, tmp_path: Path, signing_key_file: Path
) -> None:
    stack = StackProcess(
        ["--port", "0", "--template", str(template_path)],
        user_environment(INBOX_DEV_SIGNING_KEY_FILE=str(signing_key_file)),
        tmp_path,
    )
    try:
        url = stack.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    admin = bearer("admin", admin=True)
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/v1/labels", headers=admin).status_code == 200
        assert client.get("/webhooks/whatsapp/meta", params={"hub.mode": "subscribe"}).status_code == 403
    started = stack.descendants()
    assert len(started) >= 3  # the local AWS, the API's worker, the webhook's worker

    # Requests still coming in while it stops.
    stop = threading.Event()

    def keep_calling() -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            while not stop.is_set():
                try:
                    client.get("/v1/labels", headers=admin)
                except httpx.HTTPError:
                    return

    callers = [threading.Thread(target=keep_calling) for _ in range(4)]
    for caller in callers:
        caller.start()
    try:
        seconds = stack.stop(timeout_seconds=STOP_SECONDS)
    finally:
        stop.set()
        for caller in callers:
            caller.join(timeout=10)

    assert stack.process is not None
    assert stack.process.returncode == 0, stack.log()[-3000:]
    assert seconds < STOP_SECONDS
    assert [pid for pid in started if alive(pid)] == []
