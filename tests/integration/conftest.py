"""Real mail peers on loopback: a private Dovecot, an aiosmtpd server, and misbehaving sockets.

Dovecot is required, not optional (tests/dovecot.py): a missing binary fails the tests that need it
instead of hiding them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from dovecot import DovecotUnavailable, LocalDovecot, start_dovecot
from inbox.local import resources
from inbox.local.template import Template
from inbox.routing import consumer
from mail_peers import MailUser, Peer, ReceivedMail, SmtpServer, TlsSmtpServers

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="session")
def mail_user() -> MailUser:
    return MailUser(username="agent@example.com", password=secrets.token_urlsafe(18))


@pytest.fixture(scope="session")
def accented_mail_user() -> MailUser:
    """A password beyond ASCII, which IMAP LOGIN and smtplib's AUTH cannot carry."""
    return MailUser(username="zoe@example.com", password=f"mot-de-pässe-é-{secrets.token_urlsafe(12)}")


@pytest.fixture(scope="session")
def dovecot(mail_user: MailUser, accented_mail_user: MailUser) -> Iterator[LocalDovecot]:
    """A private Dovecot (IMAP, plain text on loopback) with both users' empty mailboxes (a test
    wanting a mailbox of its own adds a user: `dovecot.new_mailbox(server)`)."""
    try:
        with start_dovecot([mail_user, accented_mail_user]) as server:
            yield server
    except DovecotUnavailable as missing:
        pytest.fail(str(missing))


class _RecordingHandler:
    """Remembers every AUTH command the server received (to prove none was sent in clear text) and
    every message it accepted. Refuses the recipients `nobody@…` for good (550) and `later@…` for
    now (451)."""

    def __init__(self, received: list[ReceivedMail] | None = None) -> None:
        self.auth_commands: list[str] = []
        self.received: list[ReceivedMail] = [] if received is None else received

    async def handle_AUTH(self, server: SMTP, session: Session, envelope: Envelope, args: list[str]) -> Any:
        self.auth_commands.append(args[0] if args else "")
        return MISSING

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("later@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), content))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server(mail_user: MailUser, accented_mail_user: MailUser) -> Iterator[SmtpServer]:
    """aiosmtpd on loopback, no TLS, requiring AUTH as one of the users."""
    accepted = {(u.username.encode(), u.password.encode()) for u in (mail_user, accented_mail_user)}

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) in accepted
        return AuthResult(success=ok, handled=False)

    handler = _RecordingHandler()
    # aiosmtpd's readiness probe connects to the configured port, so it cannot be 0.
    controller = Controller(
        handler,
        hostname=LOOPBACK,
        port=_free_port(),
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer(
            host=LOOPBACK,
            port=controller.port,
            auth_commands=handler.auth_commands,
            received=handler.received,
        )
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def tls_smtp_servers(
    mail_user: MailUser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsSmtpServers]:
    """aiosmtpd with TLS (AUTH only once encrypted), on a STARTTLS port and an implicit-TLS port."""
    certificate, key = _self_signed_certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    accepted = (mail_user.username.encode(), mail_user.password.encode())

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == accepted
        return AuthResult(success=ok, handled=False)

    common: dict[str, Any] = {"hostname": LOOPBACK, "authenticator": authenticate, "auth_required": True}
    received: list[ReceivedMail] = []
    starttls = Controller(
        _RecordingHandler(received), port=_free_port(), tls_context=context, require_starttls=True, **common
    )
    # aiosmtpd only counts STARTTLS as encryption; on an implicit-TLS port it must be told AUTH is fine.
    implicit = Controller(
        _RecordingHandler(received), port=_free_port(), ssl_context=context, auth_require_tls=False, **common
    )
    with contextlib.ExitStack() as running:
        for controller in (starttls, implicit):
            controller.start()
            running.callback(controller.stop)
        yield TlsSmtpServers(
            starttls=Peer(LOOPBACK, starttls.port),
            implicit_tls=Peer(LOOPBACK, implicit.port),
            certificate=certificate,
            received=received,
        )


@pytest.fixture
def closed_port() -> Peer:
    """A loopback port nothing listens on: connecting is refused."""
    return Peer(host=LOOPBACK, port=_free_port())


@pytest.fixture
def silent_server() -> Iterator[Peer]:
    """A port that accepts connections (the kernel completes them) and never says a word."""
    with socket.create_server((LOOPBACK, 0), backlog=16) as listener:
        yield Peer(host=LOOPBACK, port=listener.getsockname()[1])


@pytest.fixture
def babbling_server() -> Iterator[Peer]:
    """Not a mail server: greets every connection like an SSH server and ignores what it hears."""
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection, contextlib.suppress(OSError):
                connection.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
                connection.settimeout(5)
                while connection.recv(4096):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield Peer(host=LOOPBACK, port=listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "inbox test mail server")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = directory / "certificate.pem", directory / "key.pem"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificate_file, key_file


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def serial_aws(template: Template, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local AWS as a moto server answering one request at a time (DynamoDB is linearizable
    per item): for races between threads, which in-process moto does not serialize."""
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    created = resources.create_all(template, api_url="http://gateway.test")
    (table,) = created.tables.values()
    monkeypatch.setenv("INBOX_TABLE_NAME", table)
    outbound = next(
        u for lid, u in created.queue_urls.items() if lid.startswith("OutboundQueue") and "Dead" not in lid
    )
    monkeypatch.setenv("INBOX_OUTBOUND_QUEUE_URL", outbound)
    consumer.clear_caches()
    yield
    consumer.clear_caches()
    server.shutdown()
