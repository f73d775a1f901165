"""An IMAP session: connected with the account's security, signed in, within one time allowance.

`ImapSession.open` connects per `imap_security` (`ssl`: implicit TLS; `starttls`: upgraded before
anything else is said, never falling back to clear text; `none`), verifies the certificate, and
logs in (SASL PLAIN when the user name or password is not ASCII). Every failure is a `PeerError`
with a check code (dns, connect, timeout, tls, auth, protocol) and a message without the password:
the connection check shows it, the email poller records it.

imaplib and ssl are imported on first use: most functions never open a mailbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from inbox.accounts.check_report import CheckError, PeerError, network_error, reply_text
from inbox.accounts.models import ImapConfig
from inbox.email.connect import NO_STARTTLS, Budget, close_quietly, tls_context

if TYPE_CHECKING:
    import imaplib


class ImapSession:
    """A signed-in IMAP connection; use it in a `with` block (the connection is closed after)."""

    def __init__(self, imap: imaplib.IMAP4, config: ImapConfig, password: str, budget: Budget) -> None:
        self._imap = imap
        self._password = password
        self._budget = budget
        self.host, self.port = config.imap_host, config.imap_port

    @classmethod
    def open(cls, config: ImapConfig, password: str, *, timeout: float = 10) -> ImapSession:
        """Connect, secure and log in; `timeout` seconds for this and everything the session does."""
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
        return cls(imap, config, password, budget)

    def select(self, mailbox: str = "INBOX", *, readonly: bool = True) -> None:
        """Open `mailbox` (read-only unless told otherwise)."""
        with self._answers():
            self._budget.apply(self._imap.sock)
            status, data = self._imap.select(mailbox, readonly=readonly)
            if status != "OK":
                raise PeerError(
                    "protocol",
                    f"The IMAP server accepted the login but would not open {mailbox}: {reply_text(data)}",
                )

    def logout(self) -> None:
        with self._answers():
            self._budget.apply(self._imap.sock)
            self._imap.logout()

    def close(self) -> None:
        close_quietly(self._imap.shutdown)

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _answers(self) -> AbstractContextManager[None]:
        return _answers(self.host, self.port, self._budget, self._password)


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
        if _response_code(error) == "UNAVAILABLE":
            raise PeerError(
                "protocol", "The IMAP server cannot log anyone in right now (it says it is unavailable)."
            ) from None
        raise PeerError("auth", "The IMAP server refused the user name or password.") from None


def _response_code(error: BaseException) -> str | None:
    match = re.match(r"\[([A-Z-]+)", reply_text(error.args[0] if error.args else ""))
    return match.group(1) if match else None
