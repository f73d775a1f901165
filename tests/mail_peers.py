"""What the mail-server fixtures (tests/integration/conftest.py) hand to tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class MailUser:
    """One mailbox's sign-in, the same on the IMAP and the SMTP server (as an account has one)."""

    username: str
    password: str


@dataclass(frozen=True)
class Peer:
    host: str
    port: int


@dataclass(frozen=True)
class DovecotServer(Peer):
    log: Path


@dataclass(frozen=True)
class ReceivedMail:
    """One message an SMTP fixture accepted: its envelope and its content as it arrived."""

    sender: str
    recipients: tuple[str, ...]
    content: bytes


@dataclass(frozen=True)
class SmtpServer(Peer):
    auth_commands: list[str] = field(default_factory=list)  # appended to as the server hears AUTH
    received: list[ReceivedMail] = field(default_factory=list)  # appended to as it accepts messages


@dataclass(frozen=True)
class TlsSmtpServers:
    """The same SMTP service behind STARTTLS and implicit TLS, with a certificate no system trusts."""

    starttls: Peer
    implicit_tls: Peer
    certificate: Path  # trust it with INBOX_CA_BUNDLE
    received: list[ReceivedMail] = field(default_factory=list)  # what either port accepted


@dataclass
class SmtpInbox:
    """aiosmtpd on loopback (AUTH required, as a real server does): what it accepted, and whom."""

    port: int
    users: dict[bytes, bytes] = field(default_factory=dict)
    received: list[bytes] = field(default_factory=list)


@contextmanager
def serve_smtp_inbox() -> Iterator[SmtpInbox]:
    """An SmtpInbox on a free loopback port, until the block ends."""
    inbox = SmtpInbox(port=0)

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and inbox.users.get(data.login) == data.password
        return AuthResult(success=ok, handled=False)

    class Keep:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            inbox.received.append(envelope.original_content or b"")
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        inbox.port = probe.getsockname()[1]
    controller = Controller(
        Keep(),
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
