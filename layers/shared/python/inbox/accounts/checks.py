"""Test connection: can the product reach an account's provider and sign in with its credentials?

`run_checks` is the one place that picks the checks by provider: IMAP accounts get the email
channel's "imap" and "smtp" checks (`inbox.email.checks`), WhatsApp accounts the Twilio or Meta
check below. Each check talks to the real peer and answers a `Check` whose error says, in words a
person understands, what went wrong (`inbox.accounts.check_report`). Secrets never appear in a message.

The Twilio and Meta checks call the providers through their one client each (`inbox.whatsapp`),
which loads its HTTP library only when a call is made: most importers of this module never check.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from inbox.accounts.check_report import Check, CheckError, ConnectionReport
from inbox.accounts.check_report import failed as _failed
from inbox.accounts.check_report import network_error as _network_error
from inbox.accounts.check_report import timed_out as _timed_out
from inbox.accounts.models import (
    AccountConfig,
    AccountCredentials,
    ImapConfig,
    ImapCredentials,
    MetaCloudConfig,
    MetaCloudCredentials,
    Provider,
    TwilioConfig,
    TwilioCredentials,
)
from inbox.email.checks import check_imap, check_smtp
from inbox.provider_errors import CredentialsRefused, ProviderFailure, Unavailable, UnexpectedAnswer
from inbox.whatsapp.meta_graph import INVALID_PARAMETER, MetaGraph
from inbox.whatsapp.twilio_api import TwilioApi

M = TypeVar("M", bound=BaseModel)


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
    checks: list[Check]
    if provider == Provider.IMAP:
        imap_config, imap_credentials = _expect(config, ImapConfig), _expect(credentials, ImapCredentials)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="connection-check") as pool:
            imap = pool.submit(check_imap, imap_config, imap_credentials, timeout=timeout)
            smtp = pool.submit(check_smtp, imap_config, imap_credentials, timeout=timeout)
            checks = [imap.result(), smtp.result()]
    elif provider == Provider.TWILIO:
        checks = [
            check_twilio(
                _expect(config, TwilioConfig),
                _expect(credentials, TwilioCredentials),
                api_url=twilio_api_url,
                timeout=timeout,
            )
        ]
    elif provider == Provider.META_CLOUD:
        checks = [
            check_meta(
                _expect(config, MetaCloudConfig),
                _expect(credentials, MetaCloudCredentials),
                graph_url=meta_graph_url,
                timeout=timeout,
            )
        ]
    else:
        label, service = ("Gmail", "Google") if provider == Provider.GMAIL else ("Office 365", "Microsoft")
        message = (
            f"{label} accounts connect by signing in with {service} (OAuth); "
            "a connection test is not available for this provider yet."
        )
        checks = [Check(name="oauth", ok=False, error=CheckError(code="protocol", message=message))]
    return ConnectionReport(ok=all(check.ok for check in checks), checks=checks)


# --- HTTP providers (through the one client of each: `whatsapp.twilio_api`, `whatsapp.meta_graph`) ---


def check_twilio(
    config: TwilioConfig, credentials: TwilioCredentials, *, api_url: str, timeout: float = 10
) -> Check:
    """Fetch the Twilio account with its SID and auth token: ok if it exists and is active."""
    sid, token = config.account_sid, credentials.auth_token
    try:
        status = TwilioApi(sid, token, api_url=api_url, timeout=timeout).account_status()
    except ProviderFailure as failure:
        return _failed("twilio", _twilio_problem(failure, sid, api_url, timeout), token.get_secret_value())
    if status != "active":
        problem = CheckError(code="protocol", message=f"The Twilio account {sid} is {status}, not active.")
        return _failed("twilio", problem, token.get_secret_value())
    return Check(name="twilio", ok=True)


def _twilio_problem(failure: ProviderFailure, sid: str, api_url: str, timeout: float) -> CheckError:
    if isinstance(failure, Unavailable) and failure.http_status is None:
        return _unanswered(failure, api_url, timeout)
    if isinstance(failure, UnexpectedAnswer):
        return CheckError(code="protocol", message="Twilio's answer did not describe an account.")
    if isinstance(failure, CredentialsRefused):
        return CheckError(code="auth", message="Twilio refused the account SID or auth token.")
    if failure.http_status == 404:
        return CheckError(code="auth", message=f"Twilio has no account {sid} for this auth token.")
    said = f": {failure.message}" if failure.message else "."
    return CheckError(code="protocol", message=f"Twilio answered HTTP {failure.http_status}{said}")


def check_meta(
    config: MetaCloudConfig, credentials: MetaCloudCredentials, *, graph_url: str, timeout: float = 10
) -> Check:
    """Read the WhatsApp phone number through the Graph API with the access token: ok if visible."""
    number_id, token = config.phone_number_id, credentials.access_token
    try:
        MetaGraph(graph_url, timeout=timeout).phone_number(number_id, token)
    except ProviderFailure as failure:
        return _failed(
            "meta", _meta_problem(failure, number_id, graph_url, timeout), token.get_secret_value()
        )
    return Check(name="meta", ok=True)


def _meta_problem(failure: ProviderFailure, number_id: str, graph_url: str, timeout: float) -> CheckError:
    if isinstance(failure, Unavailable) and failure.http_status is None:
        return _unanswered(failure, graph_url, timeout)
    said = f": {failure.message}" if failure.message else "."
    if isinstance(failure, CredentialsRefused):
        return CheckError(code="auth", message=f"Meta refused the access token{said}")
    if failure.http_status in (400, 404) and failure.code == INVALID_PARAMETER:
        return CheckError(
            code="protocol",
            message=f"The phone number id {number_id} is not visible with this token "
            "(no such phone number, or the token has no permission for it).",
        )
    return CheckError(code="protocol", message=f"Meta answered HTTP {failure.http_status}{said}")


def _unanswered(failure: Unavailable, url: str, timeout: float) -> CheckError:
    """No HTTP answer, in words: the name, the port, the silence, the TLS handshake."""
    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if failure.timed_out:
        return _timed_out(host, port, timeout)
    found = _network_error(failure.network_cause, host, port, timeout) if failure.network_cause else None
    if found:
        return found
    if failure.connect_failed:
        return CheckError(code="connect", message=f"Could not reach {host} on port {port}.")
    return CheckError(
        code="protocol", message=f"The server at {host}:{port} did not give a valid HTTP answer."
    )


# --- shared ----------------------------------------------------------------------------------


def _expect(value: object, model: type[M]) -> M:
    if not isinstance(value, model):
        raise TypeError(f"expected {model.__name__}, got {type(value).__name__}")
    return value
