"""The window in which a crash could send an IMAP account's email twice: from the SMTP server's
acceptance (the 250 to DATA) to the copy being in the Sent folder. A delivery that dies inside it
leaves no trace the retry can find (`already_in_sent` looks in Sent), so the retry sends again;
outside it, the retry finds the copy and records `sent` without sending. Gmail and Graph have no such
window: the provider files what it sends itself.

The figure is `file_in_sent`'s time (connect, LOGIN, LIST, APPEND, LOGOUT) against a private
Dovecot on loopback (tests/dovecot.py: run as root, like the IMAP tests), after a real SMTP send to
aiosmtpd. A remote IMAP server adds its round trips (about 5 of them) to it.

    .venv/bin/python benchmarks/sent_copy_window.py [--sends 50]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

from dovecot import new_mailbox, start_dovecot  # noqa: E402
from inbox.accounts.models import ImapConfig  # noqa: E402
from inbox.email.sending import already_in_sent, file_in_sent, send_smtp  # noqa: E402

LOOPBACK = "127.0.0.1"


class Accepting:
    """An SMTP server that takes every message."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def _any_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: object) -> AuthResult:
    return AuthResult(success=True, handled=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=50)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="aiosmtpd")  # AUTH without TLS: loopback only

    # AUTH in clear text is only accepted because this is loopback (`smtp_security: none`).
    smtp = Controller(
        Accepting(),
        hostname=LOOPBACK,
        port=_free_port(),
        authenticator=_any_login,
        auth_required=True,
        auth_require_tls=False,
    )
    smtp.start()
    try:
        with start_dovecot([]) as server:
            user = new_mailbox(server, "sender")
            config = ImapConfig(
                imap_host=server.host,
                imap_port=server.port,
                imap_security="none",
                smtp_host=LOOPBACK,
                smtp_port=smtp.port,
                smtp_security="none",
                username=user.username,
            )
            windows, sends = [], []
            for n in range(args.sends):
                message = _message(n, user.username)
                started = time.perf_counter()
                send_smtp(
                    config, user.password, message, sender=user.username, recipients=["ana@customer.example"]
                )
                accepted = time.perf_counter()
                file_in_sent(config, user.password, message)
                windows.append(time.perf_counter() - accepted)
                sends.append(accepted - started)
            assert already_in_sent(config, user.password, str(message["Message-ID"]).strip("<>"))
    finally:
        smtp.stop()

    print(f"{args.sends} sends: SMTP send median {_ms(statistics.median(sends))}")
    print(
        f"crash window (SMTP accepted -> copy in Sent): median {_ms(statistics.median(windows))}, "
        f"p95 {_ms(_p95(windows))}, max {_ms(max(windows))}"
    )
    return 0


def _message(n: int, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "ana@customer.example"
    message["Subject"] = f"Auto: question {n}"
    message["Message-ID"] = f"<window-{n}-{time.time_ns()}@shop.example>"
    message.set_content("Thanks, we are on it.")
    return message


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    raise SystemExit(main())
