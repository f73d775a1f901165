"""An IMAP session: connected with the account's security, signed in, within a time allowance.

`ImapSession.open` connects per `imap_security` (`ssl`: implicit TLS; `starttls`: upgraded before
anything else is said, never falling back to clear text; `none`), verifies the certificate, and
logs in (SASL PLAIN when the user name or password is not ASCII). Every failure is a `PeerError`
with a check code (dns, connect, timeout, tls, auth, protocol) and a message without the password:
the connection check shows it, the email poller records it.

Reading changes nothing: folders are opened with EXAMINE and messages fetched with `BODY.PEEK[]`,
and no flag changes (RFC 3501 §6.4.5: `BODY[]` and `RFC822` would mark messages read). The only
writes are `create` and `append`, for the copy of a sent message in the Sent folder.

imaplib and ssl are imported on first use: most functions never open a mailbox.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from inbox.accounts.check_report import CheckError, PeerError, network_error, reply_text
from inbox.accounts.models import ImapConfig
from inbox.email.connect import NO_STARTTLS, Budget, close_quietly, tls_context

if TYPE_CHECKING:
    import imaplib


@dataclass(frozen=True)
class FolderStatus:
    """What EXAMINE says of a folder: UIDs mean something only with this UIDVALIDITY; the next
    message will get a UID of at least `uidnext` (None: the server did not say)."""

    uidvalidity: int
    uidnext: int | None
    exists: int


class ImapSession:
    """A signed-in IMAP connection; use it in a `with` block (the connection is closed after)."""

    def __init__(
        self,
        imap: imaplib.IMAP4,
        config: ImapConfig,
        password: str,
        budget: Budget,
        *,
        command_timeout: float | None = None,
    ) -> None:
        self._imap = imap
        self._password = password
        self._budget = budget
        self._command_timeout = command_timeout
        self.host, self.port = config.imap_host, config.imap_port

    @classmethod
    def open(
        cls, config: ImapConfig, password: str, *, timeout: float = 10, command_timeout: float | None = None
    ) -> ImapSession:
        """Connect, secure and log in within `timeout` seconds. Each later command gets
        `command_timeout` seconds of silence from the server at most (a poll is long); without it,
        what is left of `timeout`."""
        import imaplib

        budget = Budget(timeout)
        host, port = config.imap_host, config.imap_port
        with _answers(host, port, budget, password):
            imap: imaplib.IMAP4
            if config.imap_security == "ssl":
                imap = imaplib.IMAP4_SSL(host, port, ssl_context=tls_context(), timeout=budget.remaining())
            else:
                imap = imaplib.IMAP4(host, port, timeout=budget.remaining())
            try:
                _secure_and_login(imap, config, password, budget)
            except BaseException:
                close_quietly(imap.shutdown)
                raise
        return cls(imap, config, password, budget, command_timeout=command_timeout)

    def select(self, mailbox: str = "INBOX", *, readonly: bool = True) -> None:
        """Open `mailbox` (read-only unless told otherwise)."""
        with self._answers():
            status, data = self._imap.select(mailbox_name(mailbox), readonly=readonly)
            if status != "OK":
                raise PeerError(
                    "protocol",
                    f"The IMAP server accepted the login but would not open {mailbox}: {reply_text(data)}",
                )

    def examine(self, folder: str) -> FolderStatus:
        """Open `folder` read-only (EXAMINE) and say what the server reports of it."""
        with self._answers():
            status, data = self._imap.select(mailbox_name(folder), readonly=True)
            if status != "OK":
                if _response_code(data[0] if data else "") in (None, "NONEXISTENT"):
                    raise PeerError("protocol", f"The folder '{folder}' does not exist on the IMAP server.")
                raise PeerError(
                    "protocol", f"The IMAP server would not open the folder '{folder}': {reply_text(data)}"
                )
            uidvalidity = _number(self._imap.response("UIDVALIDITY")[1])
            if uidvalidity is None:
                raise PeerError("protocol", f"The IMAP server gave no UIDVALIDITY for the folder '{folder}'.")
            return FolderStatus(
                uidvalidity=uidvalidity,
                uidnext=_number(self._imap.response("UIDNEXT")[1]),
                exists=_number(data) or 0,
            )

    def uid_search(self, criteria: str) -> list[int]:
        """The UIDs of the open folder's messages matching `criteria` (IMAP SEARCH syntax), ascending."""
        with self._answers():
            status, data = self._imap.uid("SEARCH", criteria)
            _expect_ok(status, data, "SEARCH")
            return sorted({int(uid) for line in data if line for uid in _text(line).split()})

    def uid_sizes(self, uids: list[int]) -> dict[int, int]:
        """Each message's size in bytes (RFC822.SIZE), by UID; a message gone meanwhile is absent."""
        if not uids:
            return {}
        with self._answers():
            status, data = self._imap.uid("FETCH", uid_set(uids), "(RFC822.SIZE)")
            _expect_ok(status, data, "FETCH")
        wanted, sizes = set(uids), {}
        for attributes, _ in _fetched(data):
            uid, size = _UID.search(attributes), _SIZE.search(attributes)
            if uid and size and int(uid[1]) in wanted:
                sizes[int(uid[1])] = int(size[1])
        return sizes

    def uid_fetch(self, uids: list[int]) -> list[tuple[int, bytes, datetime]]:
        """(UID, the raw message, its INTERNALDATE) of each message, ascending by UID; read with
        `BODY.PEEK[]`, which leaves the flags alone. A message gone meanwhile is absent."""
        if not uids:
            return []
        with self._answers():
            status, data = self._imap.uid("FETCH", uid_set(uids), "(UID INTERNALDATE BODY.PEEK[])")
            _expect_ok(status, data, "FETCH")
        wanted, mails = set(uids), {}
        for attributes, body in _fetched(data):
            uid, arrived = _UID.search(attributes), _INTERNALDATE.search(attributes)
            if uid is None or body is None or int(uid[1]) not in wanted:
                continue  # an unsolicited FETCH (another client changed a flag)
            if arrived is None:
                raise PeerError("protocol", "The IMAP server sent a message without its INTERNALDATE.")
            mails[int(uid[1])] = (body, _internal_date(arrived))
        return [(uid, body, arrived) for uid, (body, arrived) in sorted(mails.items())]

    def capabilities(self) -> frozenset[str]:
        """What the server says it can do (`SPECIAL-USE`, `UIDPLUS`...), asked now: once signed in,
        a server often offers more than its greeting said."""
        with self._answers():
            status, data = self._imap.capability()
            _expect_ok(status, data, "CAPABILITY")
        return frozenset(word.upper() for line in data if line for word in _text(line).split())

    def list_folders(self, *, special_use: bool = False) -> list[tuple[frozenset[str], str]]:
        """Every folder as (its attributes, e.g. `\\HasNoChildren`, `\\Sent`; its name, decoded).
        `special_use`: only the folders with a special use (RFC 6154; when the server has the
        SPECIAL-USE capability)."""
        with self._answers():
            if special_use:
                # imaplib's list() has no selection options (RFC 5258); its arguments go out as written.
                status, data = self._imap.list('(SPECIAL-USE) ""', "*")
            else:
                status, data = self._imap.list('""', "*")
            _expect_ok(status, data, "LIST")
        return [folder for folder in map(_listed, data) if folder is not None]

    def create(self, folder: str) -> None:
        """Create `folder`; one that exists already is fine (another client may have just made it)."""
        with self._answers():
            status, data = self._imap.create(mailbox_name(folder))
            if status != "OK" and _response_code(data[0] if data else "") != "ALREADYEXISTS":
                raise PeerError(
                    "protocol", f"The IMAP server would not create the folder '{folder}': {reply_text(data)}"
                )

    def append(
        self, folder: str, flags: Iterable[str], message: bytes, *, arrived: datetime | None = None
    ) -> None:
        """Add `message` to `folder` with `flags` (`\\Seen`...) and `arrived` as its INTERNALDATE
        (default: now)."""
        with self._answers():
            status, data = self._imap.append(
                mailbox_name(folder), " ".join(flags) or None, arrived or datetime.now(UTC), message
            )
            if status != "OK":
                if _response_code(data[0] if data else "") == "TRYCREATE":
                    raise PeerError("protocol", f"The folder '{folder}' does not exist on the IMAP server.")
                raise PeerError(
                    "protocol",
                    f"The IMAP server would not add a message to the folder '{folder}': {reply_text(data)}",
                )

    def logout(self) -> None:
        with self._answers():
            self._imap.logout()

    def close(self) -> None:
        close_quietly(self._imap.shutdown)

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _answers(self) -> Iterator[None]:
        """One command: within its time (the socket's timeout), every failure a `PeerError`."""
        budget = self._budget if self._command_timeout is None else Budget(self._command_timeout)
        with _answers(self.host, self.port, budget, self._password):
            budget.apply(self._imap.sock)
            yield


def mailbox_name(name: str) -> str:
    """A folder name as an IMAP argument: in modified UTF-7 (RFC 3501 §5.1.3), quoted."""

    def shifted(run: re.Match[str]) -> str:
        utf16 = base64.b64encode(run[0].encode("utf-16-be")).decode().rstrip("=")
        return "&" + utf16.replace("/", ",") + "-"

    encoded = _BEYOND_ASCII.sub(shifted, name.replace("&", "&-"))
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def folder_name(listed: str) -> str:
    """A folder name as the server lists it (modified UTF-7, RFC 3501 §5.1.3), decoded: what
    `mailbox_name` encodes again."""

    def unshifted(run: re.Match[str]) -> str:
        if not run[1]:
            return "&"
        utf16 = run[1].replace(",", "/")
        return base64.b64decode(utf16 + "=" * (-len(utf16) % 4), validate=True).decode("utf-16-be")

    try:
        return _SHIFTED.sub(unshifted, listed)
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        return listed  # not modified UTF-7 after all: the name as the server gave it


def uid_set(uids: list[int]) -> str:
    """`1:3,7,9:12` for [1, 2, 3, 7, 9, 10, 11, 12]: short command lines for long runs."""
    ranges: list[list[int]] = []
    for uid in sorted(set(uids)):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in ranges)


_BEYOND_ASCII = re.compile(r"[^\x20-\x7e]+")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_RESPONSE_START = re.compile(rb"\d+ \(")
_SHIFTED = re.compile(r"&([^-]*)-")
# A LIST response: (attributes) delimiter name; the name an atom, a quoted string or a literal.
_LISTED = re.compile(rb'\(([^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (.*)', re.IGNORECASE | re.DOTALL)
_QUOTED_CHAR = re.compile(rb"\\(.)")


def _listed(item: object) -> tuple[frozenset[str], str] | None:
    """(attributes, name) of one LIST response as imaplib hands it: a line, or (line, literal name)
    followed by what came after the literal (nothing, for LIST)."""
    line, literal = (item[0], item[1]) if isinstance(item, tuple) else (item, None)
    if not isinstance(line, bytes) or (match := _LISTED.match(line)) is None:
        return None
    name = literal if isinstance(literal, bytes) else match[2].strip()
    if literal is None and name.startswith(b'"') and name.endswith(b'"') and len(name) > 1:
        name = _QUOTED_CHAR.sub(rb"\1", name[1:-1])
    attributes = frozenset(_text(match[1]).split())
    return attributes, folder_name(name.decode("utf-8", "replace"))


def _fetched(data: Sequence[object]) -> Iterator[tuple[bytes, bytes | None]]:
    """Each FETCH response imaplib collected: (its attributes as text, its literal if it had one).
    imaplib splits a response with a literal into (text before, literal) and the text after."""
    current: list[bytes] | None = None
    body: bytes | None = None
    for part in data:
        if isinstance(part, tuple):
            if current is not None:
                yield b"".join(current), body
            current, body = [part[0]], part[1]
        elif isinstance(part, bytes):
            if current is not None and not _RESPONSE_START.match(part):
                current.append(part)  # what followed the literal
                continue
            if current is not None:
                yield b"".join(current), body
            current, body = [part], None
    if current is not None:
        yield b"".join(current), body


def _internal_date(match: re.Match[bytes]) -> datetime:
    try:
        arrived = datetime.strptime(match[1].decode("ascii"), "%d-%b-%Y %H:%M:%S %z")
    except (UnicodeDecodeError, ValueError):
        raise PeerError("protocol", "The IMAP server sent an INTERNALDATE that is not a date.") from None
    return arrived.astimezone(UTC)


def _number(data: Sequence[object]) -> int | None:
    values = [_text(item) for item in data if isinstance(item, bytes | str)]
    return int(values[-1]) if values and values[-1].isdigit() else None


def _text(value: bytes | str) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _expect_ok(status: str, data: Sequence[object], command: str) -> None:
    if status != "OK":
        raise PeerError("protocol", f"The IMAP server refused {command}: {reply_text(data)}")


@contextmanager
def _answers(host: str, port: int, budget: Budget, password: str) -> Iterator[None]:
    """Every failure inside as a `PeerError` (without the password)."""
    import imaplib

    try:
        yield
    except PeerError as refused:
        raise refused.hiding(password) from None
    except (OSError, imaplib.IMAP4.error) as error:
        problem = network_error(error, host, port, budget.seconds) or CheckError(
            code="protocol", message=f"The server at {host}:{port} did not answer like an IMAP server."
        )
        raise PeerError(problem.code, problem.message).hiding(password) from error


def _secure_and_login(imap: imaplib.IMAP4, config: ImapConfig, password: str, budget: Budget) -> None:
    if config.imap_security == "starttls":
        if "STARTTLS" not in imap.capabilities:
            raise PeerError("tls", NO_STARTTLS)
        budget.apply(imap.sock)
        imap.starttls(tls_context())
    if "LOGINDISABLED" in imap.capabilities:
        raise PeerError(
            "protocol",
            "The IMAP server does not accept a password on an unencrypted connection; "
            "choose SSL/TLS or STARTTLS.",
        )
    budget.apply(imap.sock)
    _login(imap, config.username, password)


def _login(imap: imaplib.IMAP4, username: str, password: str) -> None:
    import imaplib

    try:
        if username.isascii() and password.isascii():
            imap.login(username, password)
        else:
            # imaplib sends LOGIN as ASCII; SASL PLAIN carries UTF-8 (RFC 4616).
            imap.authenticate("PLAIN", lambda _: f"\0{username}\0{password}".encode())
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:
        # RFC 5530 response codes: only UNAVAILABLE says the credentials were not the problem.
        if _response_code(error.args[0] if error.args else "") == "UNAVAILABLE":
            raise PeerError(
                "protocol", "The IMAP server cannot log anyone in right now (it says it is unavailable)."
            ) from None
        raise PeerError("auth", "The IMAP server refused the user name or password.") from None


def _response_code(reply: object) -> str | None:
    """The RFC 5530 response code a reply starts with (`NONEXISTENT`, `UNAVAILABLE`...)."""
    match = re.match(r"\[([A-Z-]+)", reply_text(reply))
    return match.group(1) if match else None
