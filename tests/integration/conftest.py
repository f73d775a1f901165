"""Real mail peers on loopback: a private Dovecot, an aiosmtpd server, and misbehaving sockets.

Dovecot is required, not optional: the test dependencies install it (Debian package
`dovecot-imapd`), and a missing binary fails the tests that need it instead of hiding them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from mail_peers import DovecotServer, MailUser, Peer, SmtpServer, TlsSmtpServers

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="session")
def mail_user() -> MailUser:
    return MailUser(username="agent@example.com", password=secrets.token_urlsafe(18))


@pytest.fixture(scope="session")
def accented_mail_user() -> MailUser:
    """A password beyond ASCII, which IMAP LOGIN and smtplib's AUTH cannot carry."""
    return MailUser(username="zoe@example.com", password=f"mot-de-pässe-é-{secrets.token_urlsafe(12)}")


@pytest.fixture(scope="session")
def dovecot(mail_user: MailUser, accented_mail_user: MailUser) -> Iterator[DovecotServer]:
    """A private Dovecot (IMAP, plain text on loopback) with both users' empty mailboxes."""
    binary = shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.fail("Dovecot is not installed: the IMAP tests need the Debian package dovecot-imapd.")
    if os.geteuid() != 0:
        pytest.fail("The Dovecot fixture runs Dovecot as root (it switches to the mail user's uid).")
    mail = pwd.getpwnam("mail")
    # Not pytest's tmp_path: its parent is private to root and the mail user must reach its home.
    root = Path(tempfile.mkdtemp(prefix="inbox-dovecot-"))
    root.chmod(0o755)
    home = root / "home"
    home.mkdir()
    os.chown(home, mail.pw_uid, mail.pw_gid)
    users = root / "users"
    users.write_text(
        "".join(f"{u.username}:{{PLAIN}}{u.password}\n" for u in (mail_user, accented_mail_user))
    )
    log = root / "dovecot.log"
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {log}
listen = {LOOPBACK}
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = {mail.pw_uid}
last_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={home}/%u
}}
# Without this, every failed login from 127.0.0.1 doubles the delay of the next ones (up to 15 s),
# so wrong-password tests would slow down, then time out, the tests that follow them.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {LOOPBACK}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    with (root / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen([binary, "-c", str(config), "-F"], stdout=stderr, stderr=stderr)
    try:
        _wait_for_port(port, process, root)
        yield DovecotServer(host=LOOPBACK, port=port, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


class _RecordingHandler:
    """Remembers every AUTH command the server received (to prove none was sent in clear text)."""

    def __init__(self) -> None:
        self.auth_commands: list[str] = []

    async def handle_AUTH(self, server: SMTP, session: Session, envelope: Envelope, args: list[str]) -> Any:
        self.auth_commands.append(args[0] if args else "")
        return MISSING


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
        yield SmtpServer(host=LOOPBACK, port=controller.port, auth_commands=handler.auth_commands)
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
    starttls = Controller(
        _RecordingHandler(), port=_free_port(), tls_context=context, require_starttls=True, **common
    )
    # aiosmtpd only counts STARTTLS as encryption; on an implicit-TLS port it must be told AUTH is fine.
    implicit = Controller(
        _RecordingHandler(), port=_free_port(), ssl_context=context, auth_require_tls=False, **common
    )
    with contextlib.ExitStack() as running:
        for controller in (starttls, implicit):
            controller.start()
            running.callback(controller.stop)
        yield TlsSmtpServers(
            starttls=Peer(LOOPBACK, starttls.port),
            implicit_tls=Peer(LOOPBACK, implicit.port),
            certificate=certificate,
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


def _wait_for_port(port: int, process: subprocess.Popen[bytes], root: Path, *, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Dovecot exited with status {process.returncode}:\n{_tail(root)}")
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    pytest.fail(f"Dovecot did not listen on port {port} within {within:g} s:\n{_tail(root)}")


def _tail(root: Path) -> str:
    lines = [
        line
        for name in ("stderr.log", "dovecot.log")
        if (root / name).exists()
        for line in (root / name).read_text().splitlines()
    ]
    return "\n".join(lines[-20:]) or "(nothing logged)"
