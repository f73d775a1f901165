"""A private Dovecot on loopback (IMAP in plain text, maildir) for the tests and the benchmarks.

`start_dovecot(users)` runs one for the time of a `with` block; `new_mailbox(server)` adds a user
with an empty mailbox while it runs. It runs as root, like the system's Dovecot: it switches to the
`mail` user to open the mailboxes.

Dovecot is required, not optional: the test dependencies install it (Debian package
`dovecot-imapd`); a missing binary is a `DovecotUnavailable` error, not a skipped test.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mail_peers import DovecotServer, MailUser

LOOPBACK = "127.0.0.1"
SPECIAL_USE_SENT = "Éléments envoyés"  # the config gives a folder of this name the \Sent special use


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed, this process is not root, or it did not start."""


@dataclass(frozen=True)
class LocalDovecot(DovecotServer):
    """A running private Dovecot, and where it keeps its files: `root/users/<username>` (a
    passwd-file per user: Dovecot rereads a changed passwd-file at most once a second, but opens a
    new one at once), `root/home/<username>/Maildir` (each mailbox, owned by the mail user)."""

    root: Path
    mail_uid: int
    mail_gid: int

    def home(self, user: MailUser) -> Path:
        return self.root / "home" / user.username


@contextmanager
def start_dovecot(users: Sequence[MailUser]) -> Iterator[LocalDovecot]:
    """A Dovecot listening on a free loopback port with `users`' (empty) mailboxes, stopped and
    its files removed after the block."""
    binary = shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise DovecotUnavailable(
            "Dovecot is not installed: the IMAP tests need the Debian package dovecot-imapd."
        )
    if os.geteuid() != 0:
        raise DovecotUnavailable(
            "The Dovecot fixture runs Dovecot as root (it switches to the mail user's uid)."
        )
    mail = pwd.getpwnam("mail")
    # Not pytest's tmp_path: its parent is private to root and the mail user must reach its home.
    root = Path(tempfile.mkdtemp(prefix="inbox-dovecot-"))
    try:
        root.chmod(0o755)
        home = root / "home"
        home.mkdir()
        os.chown(home, mail.pw_uid, mail.pw_gid)
        accounts = root / "users"
        accounts.mkdir()
        for user in users:
            _add_user(accounts, user)
        log = root / "dovecot.log"
        port = _free_port()
        config = root / "dovecot.conf"
        config.write_text(_config(root, port, accounts, home, log, mail))
        with (root / "stderr.log").open("wb") as stderr:
            process = subprocess.Popen([binary, "-c", str(config), "-F"], stdout=stderr, stderr=stderr)
        try:
            _wait_for_port(port, process, root)
            yield LocalDovecot(
                host=LOOPBACK, port=port, log=log, root=root, mail_uid=mail.pw_uid, mail_gid=mail.pw_gid
            )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def new_mailbox(server: LocalDovecot, name: str = "box") -> MailUser:
    """A user of its own (an empty mailbox), able to sign in at once."""
    user = MailUser(username=f"{name}-{secrets.token_hex(6)}@example.com", password=secrets.token_urlsafe(18))
    _add_user(server.root / "users", user)
    return user


def _add_user(accounts: Path, user: MailUser) -> None:
    (accounts / user.username).write_text(f"{user.username}:{{PLAIN}}{user.password}\n")


def _config(root: Path, port: int, accounts: Path, home: Path, log: Path, mail: pwd.struct_passwd) -> str:
    return f"""
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
  args = scheme=PLAIN {accounts}/%u
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={home}/%u
}}
# The default namespace, with one folder of a special use (RFC 6154) under a name no client would
# guess: created by no one (a test creates it), LISTed with \\Sent once it exists.
namespace inbox {{
  inbox = yes
  mailbox "{SPECIAL_USE_SENT}" {{
    special_use = \\Sent
  }}
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], root: Path, *, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DovecotUnavailable(f"Dovecot exited with status {process.returncode}:\n{_tail(root)}")
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise DovecotUnavailable(f"Dovecot did not listen on port {port} within {within:g} s:\n{_tail(root)}")


def _tail(root: Path) -> str:
    lines = [
        line
        for name in ("stderr.log", "dovecot.log")
        if (root / name).exists()
        for line in (root / name).read_text().splitlines()
    ]
    return "\n".join(lines[-20:]) or "(nothing logged)"
