"""Sending an email from an IMAP account: over its SMTP server (`send_smtp`), then a copy in its
Sent folder (`file_in_sent`), where `already_in_sent` finds it again.

`send_smtp` answers as every channel's send does (`inbox.delivery.outcomes`): accepted (the
Message-ID names it), refused for good (a 5xx reply: its code and the server's text), the
credentials refused, or later (a 4xx reply, or the server not reached: DNS, connection, timeout,
TLS; never a fall-back to clear text). The password never appears in an outcome.

The Sent folder is the one with the `\\Sent` special use (RFC 6154), else the one named "Sent",
created when missing. Filing the copy is a step of its own: its failure (a `PeerError`) does not
undo a send that succeeded; the caller logs it.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

from inbox.accounts.check_report import PeerError
from inbox.accounts.models import ImapConfig
from inbox.delivery.outcomes import CredentialsRejected, SendLater, SendRefused, SendResult
from inbox.email.imap import ImapSession
from inbox.email.smtp import SmtpRefused, SmtpSession

if TYPE_CHECKING:
    from email.message import EmailMessage

TIMEOUT_SECONDS = 30
SENT = "Sent"  # the folder's name where no folder has the \Sent special use


def send_smtp(
    config: ImapConfig,
    password: str,
    message: EmailMessage,
    *,
    sender: str,
    recipients: list[str],
    timeout: float = TIMEOUT_SECONDS,
) -> SendResult:
    """Send `message` from `sender` to `recipients` (the envelope; Bcc recipients included, the Bcc
    header left out) within `timeout` seconds; its Message-ID, without <>, is the result's id.
    Raises `SendRefused`, `CredentialsRejected` or `SendLater` (see the module)."""
    message_id = header_message_id(message)
    try:
        with SmtpSession.open(config, password, timeout=timeout) as session:
            session.send(message, sender=sender, recipients=recipients)
            # Accepted: the server has it now, whatever QUIT answers (a retry would send it twice).
            with contextlib.suppress(PeerError):
                session.quit()
    except SmtpRefused as refused:
        if refused.permanent:
            raise SendRefused(f"smtp_{refused.code}", refused.text) from None
        raise SendLater(why=f"the SMTP server answered {refused.code} {refused.text}") from None
    except PeerError as failure:
        if failure.error.code == "auth":
            raise CredentialsRejected(
                "The SMTP server refused the user name or password: update the account's password "
                "(or app password)."
            ) from None
        raise SendLater(why=failure.error.message) from None
    return SendResult(provider_message_id=message_id)


def file_in_sent(
    config: ImapConfig, password: str, message: EmailMessage, *, timeout: float = TIMEOUT_SECONDS
) -> str:
    """Add a copy of the sent `message` (Bcc header kept, for the sender's eyes) to the account's
    Sent folder, read (`\\Seen`), arrived now; the folder's name. Raises `PeerError`."""
    with ImapSession.open(config, password, timeout=timeout) as session:
        folder = _sent_folder(session)
        if folder is None:
            folder = SENT
            session.create(folder)
        session.append(folder, ["\\Seen"], wire_bytes(message))
        with contextlib.suppress(PeerError):  # filed already: a retry would file it twice
            session.logout()
    return folder


def already_in_sent(
    config: ImapConfig,
    password: str,
    message_id: str,
    *,
    folder: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> bool:
    """Whether the Sent folder (`folder`, else found as `file_in_sent` finds it) holds a message
    with this Message-ID (with or without <>): before sending again a message whose first send
    may have gone out (a crash before its outcome was recorded). No Sent folder: False. Raises
    `PeerError`."""
    criteria = f"HEADER Message-ID {_quoted_id(message_id)}"
    with ImapSession.open(config, password, timeout=timeout) as session:
        folder = folder or _sent_folder(session)
        if folder is None:
            return False
        session.examine(folder)
        found = session.uid_search(criteria)
        with contextlib.suppress(PeerError):
            session.logout()
    return bool(found)


def _sent_folder(session: ImapSession) -> str | None:
    """The folder with the \\Sent special use, else the one named "Sent" (in any case), if any."""
    special_use = "SPECIAL-USE" in session.capabilities()
    folders = _selectable(session.list_folders(special_use=special_use))
    marked = next((name for attributes, name in folders if "\\sent" in attributes), None)
    if marked is not None:
        return marked
    if special_use:  # only the special-use folders were listed
        folders = _selectable(session.list_folders())
    return next((name for _, name in folders if name.casefold() == SENT.casefold()), None)


def _selectable(folders: list[tuple[frozenset[str], str]]) -> list[tuple[frozenset[str], str]]:
    """The folders a message can go in, their attributes in lower case (IMAP's ignore case)."""
    lowered = [(frozenset(item.casefold() for item in attributes), name) for attributes, name in folders]
    return [(attributes, name) for attributes, name in lowered if not _UNSELECTABLE & attributes]


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it went out (CRLF; UTF-8 headers where an address is beyond ASCII, as
    `SmtpSession.send` sends it then), Bcc header included."""
    from email.policy import SMTPUTF8, EmailPolicy

    policy = message.policy.clone(linesep="\r\n")
    addresses = [
        address.addr_spec
        for name in _ADDRESS_HEADERS
        for header in message.get_all(name, [])
        for address in getattr(header, "addresses", ())
    ]
    if not "".join(addresses).isascii():
        policy = policy.clone(utf8=True) if isinstance(policy, EmailPolicy) else SMTPUTF8
    return message.as_bytes(policy=policy)


def header_message_id(message: EmailMessage) -> str:
    """The message's Message-ID without <> (`ValueError` when it has none: every email we send has one)."""
    message_id = str(message.get("Message-ID", "")).strip().strip("<>")
    if not message_id:
        # The copy in Sent and the check before a retry both find the message by it.
        raise ValueError("An outgoing message needs a Message-ID.")
    return message_id


def _quoted_id(message_id: str) -> str:
    """`<id>` as an IMAP quoted string (HEADER matches a substring: the brackets make it the whole)."""
    bare = message_id.strip().strip("<>")
    if not _PRINTABLE_ASCII.fullmatch(bare):
        raise ValueError(f"Not a Message-ID: {message_id!r}")
    return '"<' + bare.replace("\\", "\\\\").replace('"', '\\"') + '>"'


_PRINTABLE_ASCII = re.compile(r"[!-~]+")
_ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Bcc")
_UNSELECTABLE = frozenset({"\\noselect", "\\nonexistent"})
