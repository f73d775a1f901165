"""What the IMAP and SMTP sessions share: a time allowance, verified TLS, a quiet close.

Certificates and host names are verified against the system's trust store plus `INBOX_CA_BUNDLE`
(`inbox.trust`).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

NO_STARTTLS = "The server does not offer STARTTLS; refusing to send the password in clear text."


class Budget:
    """A session's whole time allowance: every socket operation gets what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; `TimeoutError` when none are."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def apply(self, sock: socket.socket | None) -> None:
        if sock is not None:
            sock.settimeout(self.remaining())


def tls_context() -> ssl.SSLContext:
    """A client context that verifies the certificate and the host name (`inbox.trust`)."""
    from inbox.trust import client_context

    return client_context()


def close_quietly(close: Callable[[], object]) -> None:
    with contextlib.suppress(OSError):
        close()
