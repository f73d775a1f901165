"""What the mail-server fixtures (tests/integration/conftest.py) hand to tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
