"""An SMTP session: connected with the account's security, signed in, within one time allowance.

`SmtpSession.open` connects per `smtp_security` (`ssl`: implicit TLS, port 465; `starttls`: EHLO,
STARTTLS, EHLO, port 587, never falling back to clear text; `none`), verifies the certificate, and
logs in with a password mechanism the server offers (SASL PLAIN when the user name or password is
not ASCII). Every failure is a `PeerError` with a check code (dns, connect, timeout, tls, auth,
protocol) and a message without the password: the connection check shows it, the sender records it.

`SmtpSession.send` hands over one message, all or nothing: when the server refuses the sender, a
recipient or the content, it raises `SmtpRefused` with the server's code and text.

smtplib and ssl are imported on first use: most functions never send an email.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from inbox.accounts.check_report import CheckError, PeerError, hide, network_error, reply_text
from inbox.accounts.models import ImapConfig
from inbox.email.connect import NO_STARTTLS, Budget, close_quietly, tls_context

if TYPE_CHECKING:
    import smtplib
    import ssl
    from email.message import EmailMessage


class SmtpRefused(Exception):
    """The SMTP server refused the message (at MAIL FROM, a RCPT TO, or DATA): its reply's `code`
    and `text` (e.g. 550, "5.1.1 No such user"). A 5xx is `permanent` (the same message will be
    refused again); a 4xx is not (try again later)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text

    @property
    def permanent(self) -> bool:
        return self.code >= 500


class SmtpSession:
    """A signed-in SMTP connection; use it in a `with` block (the connection is closed after)."""

    def __init__(self, smtp: smtplib.SMTP, config: ImapConfig, password: str, budget: Budget) -> None:
        self._smtp = smtp
        self._password = password
        self._budget = budget
        self.host, self.port = config.smtp_host, config.smtp_port

    @classmethod
    def open(cls, config: ImapConfig, password: str, *, timeout: float = 10) -> SmtpSession:
        """Connect, secure and log in; `timeout` seconds for this and everything the session does."""
        import smtplib

        budget = Budget(timeout)
        host, port = config.smtp_host, config.smtp_port
        with _answers(host, port, budget, password):
            context = tls_context()
            smtp: smtplib.SMTP
            if config.smtp_security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=budget.remaining(), context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=budget.remaining())
            try:
                _ehlo(smtp, budget)
                if config.smtp_security == "starttls":
                    _starttls(smtp, budget, context)
                budget.apply(smtp.sock)
                _login(smtp, config.username, password)
            except BaseException:
                close_quietly(smtp.close)
                raise
        return cls(smtp, config, password, budget)

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        """Hand `message` over for `recipients`, from `sender` (the envelope: the headers are not
        read for it; a Bcc header is not sent). All or nothing: when the server refuses the sender
        or any recipient, the transaction is reset before DATA (as mail clients do) and
        `SmtpRefused` says why; nothing went out, so sending it again cannot reach anyone twice."""
        import smtplib

        if not recipients:
            raise ValueError("A message needs at least one recipient.")
        with self._answers():
            content, options = _content(self._smtp, message, [sender, *recipients])
            try:
                self._budget.apply(self._smtp.sock)
                self._accepted(self._smtp.mail(sender, options), "MAIL FROM", (250,))
                for recipient in recipients:
                    self._budget.apply(self._smtp.sock)
                    self._accepted(self._smtp.rcpt(recipient), "RCPT TO", (250, 251))
                self._budget.apply(self._smtp.sock)
                self._accepted(self._smtp.data(content), "DATA", (250,))
            except smtplib.SMTPDataError as refused:  # DATA itself refused (no 354)
                self._reset()
                self._accepted((refused.smtp_code, refused.smtp_error), "DATA", ())
            except SmtpRefused:
                self._reset()
                raise

    def quit(self) -> None:
        with self._answers():
            self._budget.apply(self._smtp.sock)
            self._smtp.quit()

    def close(self) -> None:
        close_quietly(self._smtp.close)

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _answers(self) -> AbstractContextManager[None]:
        return _answers(self.host, self.port, self._budget, self._password)

    def _accepted(self, reply: tuple[int, bytes | str], step: str, success: tuple[int, ...]) -> None:
        code, text = reply[0], reply_text(reply[1]).replace("\n", " ")
        if code in success:
            return
        if 400 <= code < 600:
            raise SmtpRefused(code, hide(text, self._password))
        raise PeerError("protocol", f"The SMTP server answered {step} with {code} {text}".rstrip() + ".")

    def _reset(self) -> None:
        import smtplib

        # Ends the refused transaction; the connection is closed after anyway, so a failure is moot.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self._budget.apply(self._smtp.sock)
            self._smtp.rset()


@contextmanager
def _answers(host: str, port: int, budget: Budget, password: str) -> Iterator[None]:
    """Every failure inside as a `PeerError` (without the password)."""
    import smtplib

    try:
        yield
    except PeerError as refused:
        raise refused.hiding(password) from None
    except smtplib.SMTPAuthenticationError:
        raise PeerError("auth", "The SMTP server refused the user name or password.") from None
    except smtplib.SMTPNotSupportedError:
        raise PeerError(
            "protocol",
            f"The SMTP server at {host}:{port} does not offer authentication (AUTH) on this "
            "connection; check the port and the security setting.",
        ) from None
    except OSError as error:  # smtplib's own errors are OSErrors too
        problem = network_error(error, host, port, budget.seconds, skip=(smtplib.SMTPException,))
        problem = problem or CheckError(code="protocol", message=_protocol_message(error, host, port))
        raise PeerError(problem.code, problem.message).hiding(password) from error


def _content(smtp: smtplib.SMTP, message: EmailMessage, addresses: list[str]) -> tuple[bytes, list[str]]:
    """The message as sent (CRLF, no Bcc header) and the MAIL FROM options it needs, as smtplib's
    `send_message` builds them: kept here because `send_message` goes on to DATA when only some
    recipients are refused."""
    import copy
    import io
    from email.generator import BytesGenerator
    from email.policy import SMTPUTF8, EmailPolicy

    international = not "".join(addresses).isascii()
    if international and not smtp.has_extn("smtputf8"):
        raise SmtpRefused(
            553, "5.6.7 The SMTP server does not accept addresses beyond ASCII (it lacks SMTPUTF8)."
        )
    outgoing = copy.copy(message)
    del outgoing["Bcc"]
    del outgoing["Resent-Bcc"]
    with io.BytesIO() as flattened:
        policy = message.policy
        if international:
            policy = policy.clone(utf8=True) if isinstance(policy, EmailPolicy) else SMTPUTF8
        BytesGenerator(flattened, policy=policy).flatten(outgoing, linesep="\r\n")
        content = flattened.getvalue()
    options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
    if smtp.has_extn("size"):
        options.append(f"SIZE={len(content)}")  # a server refuses a message too large before DATA
    return content, options


def _ehlo(smtp: smtplib.SMTP, budget: Budget) -> None:
    budget.apply(smtp.sock)
    code, reply = smtp.ehlo()
    if code != 250:
        raise PeerError("protocol", f"The SMTP server did not accept EHLO: {code} {reply_text(reply)}")


def _starttls(smtp: smtplib.SMTP, budget: Budget, context: ssl.SSLContext) -> None:
    import smtplib

    if not smtp.has_extn("starttls"):
        raise PeerError("tls", NO_STARTTLS)
    budget.apply(smtp.sock)
    try:
        smtp.starttls(context=context)
    except smtplib.SMTPResponseException as error:
        raise PeerError(
            "tls", f"The SMTP server refused STARTTLS: {error.smtp_code} {reply_text(error.smtp_error)}"
        ) from None
    _ehlo(smtp, budget)


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    import smtplib

    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError
    ascii_only = username.isascii() and password.isascii()
    offered = set(smtp.esmtp_features["auth"].upper().split())
    usable = offered & ({"CRAM-MD5", "PLAIN", "LOGIN"} if ascii_only else {"PLAIN"})
    if not usable:
        # e.g. a server that only takes OAuth tokens (XOAUTH2) once basic authentication is off
        raise PeerError(
            "protocol",
            "The SMTP server offers no password sign-in this check can use "
            f"(it offers: {', '.join(sorted(offered)) or 'nothing'}).",
        )
    if ascii_only:
        smtp.login(username, password)
        return
    # smtplib encodes credentials as ASCII; SASL PLAIN carries UTF-8 (RFC 4616).
    response = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {response}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _protocol_message(error: OSError, host: str, port: int) -> str:
    import smtplib

    # smtplib reports a reply it cannot parse (not SMTP at all) with code -1.
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code > 0:
        said = "turned the connection away" if isinstance(error, smtplib.SMTPConnectError) else "answered"
        return f"The SMTP server at {host}:{port} {said}: {error.smtp_code} {reply_text(error.smtp_error)}"
    return f"The server at {host}:{port} did not answer like an SMTP server."
