"""Mail in the private Dovecot's mailboxes (tests/dovecot.py), put there and looked at as another
mail client would, and a way to see what IMAP commands the product sends.

`append` delivers one message by IMAP APPEND (with the flags and the arrival date asked for);
`fill_maildir` writes thousands of messages straight into a maildir, far faster (Dovecot indexes
them on its next access); `flags_of` reads every message's flags without changing any;
`commands_sent` records the commands imaplib sends, for counting them.
"""

from __future__ import annotations

import imaplib
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from dovecot import LocalDovecot
from mail_peers import MailUser


def mail(subject: str, *, body: str = "Hello from a customer.", sender: str = "client@example.org") -> bytes:
    """A small plain-text message with its own Message-ID (`subject` in ASCII). Built from a
    template, not `email.message`: filling a mailbox with 10 000 of them takes milliseconds."""
    return (
        f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\nMessage-ID: <{secrets.token_hex(12)}@example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        f"\r\n{body}\r\n"
    ).encode()


def append(
    server: LocalDovecot,
    user: MailUser,
    raw: bytes,
    *,
    folder: str = "INBOX",
    flags: str = "",
    internal_date: datetime | None = None,
) -> None:
    """Deliver `raw` to `folder` (created if missing) by APPEND, with `flags` (`"\\Seen \\Flagged"`)
    and `internal_date` as its arrival (default: now)."""
    with signed_in(server, user) as imap:
        if folder.upper() != "INBOX":
            imap.create(_quoted(folder))  # NO [ALREADYEXISTS] when it is there: fine
        status, data = imap.append(_quoted(folder), flags or None, internal_date, raw)
        assert status == "OK", data


def delete_folder(server: LocalDovecot, user: MailUser, folder: str) -> None:
    with signed_in(server, user) as imap:
        status, data = imap.delete(_quoted(folder))
        assert status == "OK", data


def flags_of(server: LocalDovecot, user: MailUser, folder: str = "INBOX") -> dict[int, frozenset[str]]:
    """Each message's flags by UID, read in a read-only session (\\Recent, which is per session,
    left out)."""
    with signed_in(server, user) as imap:
        status, data = imap.select(_quoted(folder), readonly=True)
        assert status == "OK", data
        status, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
        assert status == "OK", data
    flags = {}
    for line in (item for item in data if isinstance(item, bytes)):
        uid, found = re.search(rb"UID (\d+)", line), re.search(rb"FLAGS \(([^)]*)\)", line)
        if uid and found:
            flags[int(uid[1])] = frozenset(found[1].decode().split()) - {"\\Recent"}
    return flags


def fill_maildir(
    server: LocalDovecot,
    user: MailUser,
    raws: Iterable[bytes],
    *,
    folder: str = "INBOX",
    internal_date: datetime | None = None,
) -> int:
    """Write each message as a file of the user's maildir (Maildir++: a folder is `.<name>`), owned
    by the mail user, its arrival (`internal_date`, default now) as its mtime: thousands a second,
    where APPEND does hundreds. Dovecot gives them UIDs, in this order, on its next access.
    Returns how many were written."""
    home = server.home(user)
    directory = home / "Maildir" if folder.upper() == "INBOX" else home / "Maildir" / f".{folder}"
    for part in (home, home / "Maildir", directory, directory / "cur", directory / "new", directory / "tmp"):
        _owned_directory(server, part)
    arrived = (internal_date or datetime.now(UTC)).timestamp()
    batch, count = secrets.token_hex(4), 0
    for count, raw in enumerate(raws, start=1):
        # Dovecot orders new files by the time in their name, then by the rest of it.
        path = directory / "cur" / f"{int(arrived)}.M{count:09d}P{batch}.inbox-tests,S={len(raw)}:2,"
        path.write_bytes(raw)
        os.chown(path, server.mail_uid, server.mail_gid)
        os.utime(path, (arrived, arrived))
    return count


@contextmanager
def signed_in(server: LocalDovecot, user: MailUser) -> Iterator[imaplib.IMAP4]:
    imap = imaplib.IMAP4(server.host, server.port, timeout=10)
    try:
        if user.password.isascii():
            imap.login(user.username, user.password)
        else:  # LOGIN carries ASCII only; SASL PLAIN carries UTF-8
            imap.authenticate("PLAIN", lambda _: f"\0{user.username}\0{user.password}".encode())
        yield imap
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
        with suppress(OSError):
            imap.shutdown()


@contextmanager
def commands_sent() -> Iterator[list[str]]:
    """The IMAP commands imaplib sends meanwhile, by name (`UID FETCH` for a UID command), in
    order: it only listens, every command goes out unchanged."""
    sent: list[str] = []
    original: Callable[..., Any] = imaplib.IMAP4._command  # type: ignore[attr-defined]

    def recording(imap: imaplib.IMAP4, name: str, *args: Any) -> Any:
        sent.append(f"{name} {args[0]}" if name == "UID" and args else name)
        return original(imap, name, *args)

    setattr(imaplib.IMAP4, "_command", recording)  # noqa: B010 (mypy refuses assigning a method)
    try:
        yield sent
    finally:
        setattr(imaplib.IMAP4, "_command", original)  # noqa: B010


def _owned_directory(server: LocalDovecot, path: Path) -> None:
    if not path.exists():
        path.mkdir(mode=0o700)
        os.chown(path, server.mail_uid, server.mail_gid)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
