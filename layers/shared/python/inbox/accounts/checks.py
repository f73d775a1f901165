"""Test connection: can the product reach an account's provider and sign in with its credentials?

`run_checks` asks the account's channel adapter (`inbox.channels`, the one place that picks by
provider) for its checks: IMAP accounts get the email channel's "imap" and "smtp" checks
(`inbox.email.checks`), WhatsApp accounts the Twilio or Meta check (`inbox.whatsapp.checks`). Each
check talks to the real peer and answers a `Check` whose error says, in words a person
understands, what went wrong (`inbox.accounts.check_report`). Secrets never appear in a message.
"""

from __future__ import annotations

from inbox import channels
from inbox.accounts.check_report import ConnectionReport
from inbox.accounts.models import AccountConfig, AccountCredentials, Provider


def run_checks(
    provider: Provider,
    config: AccountConfig,
    credentials: AccountCredentials,
    *,
    twilio_api_url: str,
    meta_graph_url: str,
    timeout: float = 10,
) -> ConnectionReport:
    """Every check that applies to the provider; `ok` only if all of them pass.

    IMAP accounts get both an "imap" and an "smtp" check, run side by side so the answer comes
    within one `timeout`. Gmail and Office 365 get a failed "oauth" check: they connect through
    their OAuth flows, which have no connection test yet.
    """
    checks = channels.adapter(provider).check(
        config, credentials, twilio_api_url=twilio_api_url, meta_graph_url=meta_graph_url, timeout=timeout
    )
    return ConnectionReport(ok=all(check.ok for check in checks), checks=checks)
