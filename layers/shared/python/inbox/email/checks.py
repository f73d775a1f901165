"""Test connection for IMAP accounts: can the product sign in to the mailbox and to its SMTP server?

`check_imap` logs in, opens INBOX read-only and logs out; `check_smtp` logs in and quits;
`check_mailbox` runs both side by side. Each answers a `Check` whose error says what went wrong
(the sessions' `PeerError`), never the password.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from inbox.accounts.check_report import Check, PeerError, failed
from inbox.accounts.models import ImapConfig, ImapCredentials
from inbox.email.imap import ImapSession
from inbox.email.smtp import SmtpSession


def check_mailbox(config: ImapConfig, credentials: ImapCredentials, *, timeout: float = 10) -> list[Check]:
    """The "imap" and the "smtp" check, run side by side so both answer within one `timeout`."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="connection-check") as pool:
        imap = pool.submit(check_imap, config, credentials, timeout=timeout)
        smtp = pool.submit(check_smtp, config, credentials, timeout=timeout)
        return [imap.result(), smtp.result()]


def check_imap(config: ImapConfig, credentials: ImapCredentials, *, timeout: float = 10) -> Check:
    """Connect per `imap_security`, log in, open INBOX read-only and log out, within `timeout` s."""
    password = credentials.password.get_secret_value()
    try:
        with ImapSession.open(config, password, timeout=timeout) as session:
            session.select("INBOX", readonly=True)
            session.logout()
    except PeerError as error:
        return failed("imap", error.error, password)
    return Check(name="imap", ok=True)


def check_smtp(config: ImapConfig, credentials: ImapCredentials, *, timeout: float = 10) -> Check:
    """Connect per `smtp_security` (never falling back to clear text), log in and quit."""
    password = credentials.password.get_secret_value()
    try:
        with SmtpSession.open(config, password, timeout=timeout) as session:
            session.quit()
    except PeerError as error:
        return failed("smtp", error.error, password)
    return Check(name="smtp", ok=True)
