"""What Test connection answers, and the words for what went wrong reaching a peer.

A `ConnectionReport` holds one `Check` per peer; a failed check's `CheckError` says, in one of seven
codes (dns, connect, timeout, tls, auth, protocol, throttled) and in words a person understands,
what went wrong. The channel clients raise `PeerError` with the same codes (`inbox.email.imap` and
`inbox.email.smtp`), so the checks, the email poller and the sender speak of failures alike.
"""

from __future__ import annotations

import re
import socket
from typing import Literal

from inbox.model import Model

# `throttled`: the provider asked to slow down (quota); never the account's fault.
ErrorCode = Literal["dns", "connect", "timeout", "tls", "auth", "protocol", "throttled"]


class CheckError(Model):
    code: ErrorCode
    message: str


class Check(Model):
    name: str
    ok: bool
    error: CheckError | None = None


class ConnectionReport(Model):
    ok: bool
    checks: list[Check]


class PeerError(Exception):
    """A peer could not be reached, or did not answer what we need: `error` says which, in words."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.error = CheckError(code=code, message=message)
        self.retry_after = retry_after  # seconds, when the peer said when to come back

    def hiding(self, secret: str) -> PeerError:
        """The same error with `secret` (a password a peer may echo) left out of its message."""
        return PeerError(self.error.code, hide(self.error.message, secret), retry_after=self.retry_after)


def network_error(
    error: BaseException,
    host: str,
    port: int,
    timeout: float,
    *,
    skip: tuple[type[BaseException], ...] = (),
) -> CheckError | None:
    """The socket-level failure behind `error` (itself or what it was raised from), in words.

    Protocol libraries wrap socket errors (smtplib turns a timeout into "server disconnected",
    httpx wraps everything), so the chain of causes is walked to the first plain OSError.
    """
    import ssl

    cause: BaseException | None = error
    while cause is not None and (not isinstance(cause, OSError) or isinstance(cause, skip)):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    if isinstance(cause, socket.gaierror):
        if cause.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return CheckError(code="dns", message=f"{host} is not a known host name.")
        return CheckError(code="dns", message=f"Could not look up {host}: {_lower(cause.strerror)}.")
    if isinstance(cause, TimeoutError):
        return timed_out(host, port, timeout)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return CheckError(
            code="tls",
            message=f"The TLS handshake with {host}:{port} failed: "
            f"certificate not trusted ({cause.verify_message}).",
        )
    if isinstance(cause, ssl.SSLError):
        # A plain-text server answering a TLS hello is the usual cause of a failed handshake.
        reason = (cause.reason or type(cause).__name__).replace("_", " ").lower()
        return CheckError(
            code="tls",
            message=f"The TLS handshake with {host}:{port} failed ({reason}): does the server speak "
            "TLS on this port? Check the port and the security setting.",
        )
    if isinstance(cause, ConnectionRefusedError):
        return CheckError(
            code="connect", message=f"Could not reach {host} on port {port}: connection refused."
        )
    if isinstance(cause, ConnectionError):
        return CheckError(code="connect", message=f"The connection to {host}:{port} was closed unexpectedly.")
    reason = _lower(cause.strerror) if cause.strerror else "network error"
    return CheckError(code="connect", message=f"Could not reach {host} on port {port}: {reason}.")


def timed_out(host: str, port: int, timeout: float) -> CheckError:
    return CheckError(code="timeout", message=f"No answer from {host}:{port} within {timeout:g} seconds.")


def failed(name: str, error: CheckError, secret: str) -> Check:
    """The failed check `name`, its message without `secret`."""
    return Check(name=name, ok=False, error=CheckError(code=error.code, message=hide(error.message, secret)))


def hide(message: str, secret: str) -> str:
    # Messages are built from our own words and the peer's; a peer echoing the secret must not leak it.
    # Only where it stands alone: inside a word it is a coincidence (a password `p` in "port"), and
    # masking there would garble the message and tell which letters the secret has.
    if not secret:
        return message
    alone = re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])")
    return alone.sub("[hidden]", message)


def reply_text(value: object) -> str:
    """A server's reply as text: imaplib and smtplib hand out bytes, or lists of them."""
    if isinstance(value, list):
        return " ".join(reply_text(item) for item in value if item is not None)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


def _lower(text: str | None) -> str:
    return (text[:1].lower() + text[1:]) if text else ""
