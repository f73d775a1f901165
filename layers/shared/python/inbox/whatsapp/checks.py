"""Test connection for WhatsApp accounts: can the product reach Twilio or Meta and sign in with the
account's credentials? Each check calls its provider through the one client of each
(`twilio_api`, `meta_graph`, which load their HTTP library only when a call is made) and answers a
`Check` whose error says, in words a person understands, what went wrong. Secrets never appear in
a message.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from inbox.accounts.check_report import Check, CheckError
from inbox.accounts.check_report import failed as _failed
from inbox.accounts.check_report import network_error as _network_error
from inbox.accounts.check_report import timed_out as _timed_out
from inbox.accounts.models import MetaCloudConfig, MetaCloudCredentials, TwilioConfig, TwilioCredentials
from inbox.provider_errors import CredentialsRefused, ProviderFailure, Unavailable, UnexpectedAnswer
from inbox.whatsapp.meta_graph import INVALID_PARAMETER, MetaGraph
from inbox.whatsapp.twilio_api import TwilioApi


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
