"""`inbox dev` as a user runs it, with an IMAP account on a local Dovecot: its mail shows as
conversations within one poll interval, with no call but the account's creation; an attachment and
a quarantined message read back through the gateway."""

from __future__ import annotations

import email
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from builders import bearer
from dovecot import LocalDovecot, new_mailbox
from mail_peers import SmtpInbox
from mailboxes import append
from stack_process import StackProcess, user_environment

POLL_INTERVAL_SECONDS = 3


@pytest.fixture(scope="module")
def polling_stack(
    template_path: Path, tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path
) -> Iterator[str]:
    stack = StackProcess(
        ["--port", "0", "--template", str(template_path)],
        user_environment(
            INBOX_DEV_SIGNING_KEY_FILE=str(signing_key_file),
            INBOX_POLL_INTERVAL_SECONDS=str(POLL_INTERVAL_SECONDS),
        ),
        tmp_path_factory.mktemp("polling-stack"),
    )
    try:
        url = stack.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield url
    finally:
        stack.stop()


def test_mail_on_a_local_dovecot_shows_as_conversations_within_one_poll_interval_and_is_auto_answered(
    polling_stack: str, dovecot: LocalDovecot, smtp_inbox: SmtpInbox
) -> None:
    mailbox = new_mailbox(dovecot, "dev")
    smtp_inbox.users[mailbox.username.encode()] = mailbox.password.encode()
    message = EmailMessage()
    message["From"] = "Ana Silva <ana@customer.example>"
    message["To"] = mailbox.username
    message["Subject"] = "Devis pour 12 pneus"
    message["Message-ID"] = "<devis-12@customer.example>"
    message.set_content("Bonjour, pouvez-vous m'envoyer un devis ?")
    message.add_attachment(b"%PDF-1.4 tiny", maintype="application", subtype="pdf", filename="liste.pdf")
    append(dovecot, mailbox, message.as_bytes())
    append(dovecot, mailbox, b"Subject: nobody wrote this\r\n\r\nNo sender at all.\r\n")
    admin = bearer("alice", admin=True)

    with httpx.Client(base_url=polling_stack, timeout=15, headers=admin) as client:
        created = client.post(
            "/v1/accounts",
            json={
                "provider": "imap",
                "name": "Support",
                "address": mailbox.username,
                "config": {
                    "imap_host": dovecot.host,
                    "imap_port": dovecot.port,
                    "imap_security": "none",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp_inbox.port,
                    "smtp_security": "none",
                    "username": mailbox.username,
                },
                "credentials": {"password": mailbox.password},
            },
        )
        assert created.status_code == 201, created.text
        account_id = created.json()["id"]
        auto_reply = {
            "enabled": True,
            "rules": [{"trigger": "always", "message": "Merci, nous revenons vers vous."}],
        }
        assert client.put(f"/v1/accounts/{account_id}/auto-reply", json=auto_reply).status_code == 200

        # One interval for the tick, one for a poll that started just before the account existed,
        # and the time to route: the conversation must be there by then.
        deadline = time.monotonic() + 2 * POLL_INTERVAL_SECONDS + 10
        conversations: list[dict[str, object]] = []
        while time.monotonic() < deadline and not conversations:
            time.sleep(0.5)
            answer = client.get("/v1/conversations", params={"account_id": account_id})
            assert answer.status_code == 200
            conversations = answer.json()["items"]
        assert [c["subject"] for c in conversations] == ["Devis pour 12 pneus"]

        conversation_id = conversations[0]["id"]
        messages = client.get(f"/v1/conversations/{conversation_id}/messages").json()["items"]
        (stored,) = [m for m in messages if m["direction"] == "in"]
        assert stored["from"]["address"] == "ana@customer.example"
        assert "devis" in stored["text"]
        (attachment,) = stored["attachments"]
        download = client.get(
            f"/v1/conversations/{conversation_id}/messages/{stored['id']}/attachments/{attachment['id']}"
        )
        assert download.status_code == 200
        assert download.content == b"%PDF-1.4 tiny"

        (quarantined,) = client.get(f"/v1/accounts/{account_id}/quarantine").json()["items"]
        raw = client.get(f"/v1/accounts/{account_id}/quarantine/{quarantined['id']}/raw")
        assert raw.status_code == 200
        assert raw.headers["content-type"] == "message/rfc822"
        assert b"No sender at all." in raw.content

        sync = client.get(f"/v1/accounts/{account_id}").json()["sync"]
        assert sync["imported"] == 1
        assert sync["quarantined"] == 1
        assert sync["last_error"] is None

        # The auto-reply reaches the customer's side through the account's SMTP server.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not smtp_inbox.received:
            time.sleep(0.3)
        (sent,) = smtp_inbox.received
        reply = email.message_from_bytes(sent, policy=policy.default)
        assert reply["To"].addresses[0].addr_spec == "ana@customer.example"
        assert str(reply["Subject"]) == "Auto: Devis pour 12 pneus"
        assert str(reply["In-Reply-To"]) == "<devis-12@customer.example>"
