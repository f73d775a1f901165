"""The README's demo, walked as written, in the environment a new user's shell has: `inbox dev --demo`
(what `make dev ARGS=--demo` runs) started with only PATH and HOME, then `inbox webhook meta` and
`inbox webhook twilio` with the secrets it printed, then the API: the conversation is listed, its
auto-reply is stored and reaches `delivered` through the provider sandbox's status callbacks."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from stack_process import ROOT, StackProcess, user_environment

PRINTED = re.compile(
    r"^(INBOX_META_APP_SECRET|INBOX_META_VERIFY_TOKEN|TWILIO_AUTH_TOKEN)=(\S+)$", re.MULTILINE
)
CONSOLE_LINK = re.compile(r"Admin console: (\S+)")
CHROMIUM = "/usr/bin/chromium"
DELIVERED_SECONDS = 60


@dataclass(frozen=True)
class Demo:
    url: str
    printed: dict[str, str]
    key_file: Path
    console_link: str


def inbox(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`.venv/bin/inbox ARGS` as the README runs it, from a new user's shell."""
    script = Path(sys.executable).with_name("inbox")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "inbox.cli"]
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env=user_environment(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`inbox dev --demo --port 0`, its printed secrets and URL."""
    where = tmp_path_factory.mktemp("readme-demo")
    key_file = where / "dev-signing-key"
    stack = StackProcess(
        ["--demo", "--port", "0"], user_environment(INBOX_DEV_SIGNING_KEY_FILE=str(key_file)), where
    )
    try:
        url = stack.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        printed = stack.stdout()
        link = CONSOLE_LINK.search(printed)
        yield Demo(url, dict(PRINTED.findall(printed)), key_file, link.group(1) if link else "")
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def api(demo: Demo) -> Iterator[httpx.Client]:
    """The API with an admin's token from `inbox token --user alice --admin`."""
    minted = inbox("token", "--user", "alice", "--admin", INBOX_DEV_SIGNING_KEY_FILE=str(demo.key_file))
    assert minted.returncode == 0, minted.stderr
    headers = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    with httpx.Client(base_url=demo.url, headers=headers, timeout=15) as client:
        yield client


def account_id(api: httpx.Client, provider: str) -> str:
    answer = api.get("/v1/accounts")
    assert answer.status_code == 200, answer.text
    [found] = [a["id"] for a in answer.json()["items"] if a["provider"] == provider]
    return str(found)


def eventually(what: str, probe: Any, seconds: float = DELIVERED_SECONDS) -> Any:
    """`probe()`'s first truthy answer, polled until the deadline."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail(f"{what} within {seconds} s (last seen: {last!r})")


def conversation_of(api: httpx.Client, account: str, contact: str) -> dict[str, Any] | None:
    answer = api.get("/v1/conversations", params={"account_id": account})
    assert answer.status_code == 200, answer.text
    found = [c for c in answer.json()["items"] if c["contact"]["address"] == contact]
    return found[0] if found else None


def auto_reply_of(api: httpx.Client, conversation_id: str) -> dict[str, Any] | None:
    answer = api.get(f"/v1/conversations/{conversation_id}/messages")
    assert answer.status_code == 200, answer.text
    replies = [m for m in answer.json()["items"] if m["direction"] == "out" and m["sent_by"] == "auto_reply"]
    return replies[0] if replies else None


def walk_to_delivered(api: httpx.Client, provider: str, contact: str, name: str) -> None:
    account = account_id(api, provider)

    conversation = eventually(
        f"a conversation of {contact} listed", lambda: conversation_of(api, account, contact)
    )
    reply = eventually("the auto-reply stored", lambda: auto_reply_of(api, conversation["id"]))
    delivered = eventually(
        "the auto-reply delivered",
        lambda: (m := auto_reply_of(api, conversation["id"])) and m["status"] in ("delivered", "read") and m,
    )

    assert conversation["contact"]["name"] == name
    assert reply["text"].startswith(f"Hello {name}")
    assert delivered["status"] in ("delivered", "read")  # read implies delivered


def test_the_demo_prints_what_the_readme_asks_to_export(demo: Demo) -> None:
    assert {"INBOX_META_APP_SECRET", "INBOX_META_VERIFY_TOKEN", "TWILIO_AUTH_TOKEN"} <= set(demo.printed)


def test_a_meta_webhook_opens_a_conversation_whose_auto_reply_is_delivered(
    demo: Demo, api: httpx.Client
) -> None:
    posted = inbox(
        "webhook", "meta", "--url", demo.url,
        "--from", "+33612345678", "--name", "Jean Dupont", "--text", "Bonjour !",
        INBOX_META_APP_SECRET=demo.printed["INBOX_META_APP_SECRET"],
    )  # fmt: skip

    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert posted.stdout.startswith("200 ")
    walk_to_delivered(api, "meta_cloud", "+33612345678", "Jean Dupont")


def test_a_twilio_webhook_opens_a_conversation_whose_auto_reply_is_delivered(
    demo: Demo, api: httpx.Client
) -> None:
    posted = inbox(
        "webhook", "twilio", "--url", demo.url,
        "--from", "+33698765432", "--name", "Marie Leroy", "--text", "Bonjour !",
        TWILIO_AUTH_TOKEN=demo.printed["TWILIO_AUTH_TOKEN"],
        INBOX_DEV_SIGNING_KEY_FILE=str(demo.key_file),
    )  # fmt: skip

    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert posted.stdout.startswith("200 ")
    walk_to_delivered(api, "twilio", "+33698765432", "Marie Leroy")


def test_an_agent_replies_with_curl_and_the_reply_is_delivered(demo: Demo, api: httpx.Client) -> None:
    """README, "Replying": an authorized agent (bob, not an admin) answers a contact's message."""
    posted = inbox(
        "webhook", "meta", "--url", demo.url,
        "--from", "+33655554444", "--name", "Paul Girard", "--text", "Ma commande ?",
        INBOX_META_APP_SECRET=demo.printed["INBOX_META_APP_SECRET"],
    )  # fmt: skip
    assert posted.returncode == 0, posted.stdout + posted.stderr
    conversation = eventually(
        "the conversation listed", lambda: conversation_of(api, account_id(api, "meta_cloud"), "+33655554444")
    )
    minted = inbox("token", "--user", "bob", INBOX_DEV_SIGNING_KEY_FILE=str(demo.key_file))
    bob = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    path = f"/v1/conversations/{conversation['id']}/messages"

    refused = api.post(path, json={"text": "Votre commande {{order_number}} part demain."}, headers=bob)
    answer = api.post(path, json={"text": "Bonjour {{customer_name}}, elle part demain."}, headers=bob)

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "missing_variables"
    assert answer.status_code == 202, answer.text
    assert (answer.json()["sent_by"], answer.json()["text"]) == (
        "bob",
        "Bonjour Paul Girard, elle part demain.",
    )

    def reply_status() -> str | None:
        listed = api.get(path).json()["items"]
        mine = [m for m in listed if m["sent_by"] == "bob"]
        assert len(mine) == 1  # the refused one was never stored
        return mine[0]["status"] if mine[0]["status"] in ("delivered", "read") else None

    assert eventually("the reply delivered", reply_status) in ("delivered", "read")


def test_the_printed_console_link_opens_the_console_with_the_demo_data(demo: Demo) -> None:
    # Given the sign-in link `inbox dev --demo` printed
    assert demo.console_link.startswith(f"{demo.url}/console/#access_token=")

    # When an admin opens it in a browser
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(locale="en-US")
            page.goto(demo.console_link)

            # Then the console shows the demo's accounts, signed in, the token gone from the address
            accounts = page.get_by_role("tabpanel")
            expect(accounts.get_by_text("WhatsApp France", exact=True)).to_be_visible(timeout=15_000)
            expect(accounts.get_by_text("WhatsApp France (Twilio)")).to_be_visible()
            assert "access_token" not in page.url

            # And its labels
            page.get_by_role("tab", name="Labels").click()
            expect(page.get_by_role("tabpanel").get_by_text("Urgent", exact=True)).to_be_visible()
        finally:
            browser.close()
