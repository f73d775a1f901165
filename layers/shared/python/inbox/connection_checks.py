"""Test connection: can the product reach an account's provider and sign in with its credentials?

Each check talks to the real peer (IMAP and SMTP servers, Twilio's and Meta's APIs) and answers a
`Check` whose error says, in words a person understands, what went wrong: a name that does not
resolve, a port that refuses, silence, a TLS failure, refused credentials, or an answer that is not
what the protocol expects. Secrets never appear in a message.

The protocol clients (imaplib, smtplib, ssl, httpx) are imported inside the checks: most functions
that import this module never run a check, and cold starts matter.
"""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from inbox.accounts import (
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

if TYPE_CHECKING:
    import imaplib
    import smtplib

    import httpx

M = TypeVar("M", bound=BaseModel)
ErrorCode = Literal["dns", "connect", "timeout", "tls", "auth", "protocol"]

NO_STARTTLS = "The server does not offer STARTTLS; refusing to send the password in clear text."


class CheckError(BaseModel):
    code: ErrorCode
    message: str


class Check(BaseModel):
    name: str
    ok: bool
    error: CheckError | None = None


class ConnectionReport(BaseModel):
    ok: bool
    checks: list[Check]


class _Refused(Exception):
    """A check's verdict reached mid-conversation (the peer answered, but not what we need)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = CheckError(code=code, message=message)


class _Budget:
    """The whole check's time allowance: every socket operation gets what is left of it."""

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def apply(self, sock: socket.socket | None) -> None:
        if sock is not None:
            sock.settimeout(self.remaining())


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


# --- IMAP ------------------------------------------------------------------------------------


def check_imap(config: ImapConfig, credentials: ImapCredentials, *, timeout: float = 10) -> Check:
    """Connect per `imap_security`, log in, open INBOX read-only and log out, within `timeout` s."""
    import imaplib

    host, port = config.imap_host, config.imap_port
    password = credentials.password.get_secret_value()
    try:
        _imap_session(config, password, _Budget(timeout))
    except _Refused as refused:
        return _failed("imap", refused.error, password)
    except (OSError, imaplib.IMAP4.error) as error:
        problem = _network_error(error, host, port, timeout) or CheckError(
            code="protocol", message=f"The server at {host}:{port} did not answer like an IMAP server."
        )
        return _failed("imap", problem, password)
    return Check(name="imap", ok=True)


def _imap_session(config: ImapConfig, password: str, budget: _Budget) -> None:
    import imaplib
    import ssl

    host, port = config.imap_host, config.imap_port
    imap: imaplib.IMAP4
    if config.imap_security == "ssl":
        context = ssl.create_default_context()
        imap = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=budget.remaining())
    else:
        imap = imaplib.IMAP4(host, port, timeout=budget.remaining())
    try:
        if config.imap_security == "starttls":
            if "STARTTLS" not in imap.capabilities:
                raise _Refused("tls", NO_STARTTLS)
            budget.apply(imap.sock)
            imap.starttls(ssl.create_default_context())
        if "LOGINDISABLED" in imap.capabilities:
            raise _Refused(
                "protocol",
                "The IMAP server does not accept a password on an unencrypted connection; "
                "choose SSL/TLS or STARTTLS.",
            )
        budget.apply(imap.sock)
        _imap_login(imap, config.username, password)
        budget.apply(imap.sock)
        status, data = imap.select("INBOX", readonly=True)
        if status != "OK":
            raise _Refused(
                "protocol", f"The IMAP server accepted the login but would not open INBOX: {_text(data)}"
            )
        budget.apply(imap.sock)
        imap.logout()
    finally:
        _close_quietly(imap.shutdown)


def _imap_login(imap: imaplib.IMAP4, username: str, password: str) -> None:
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
            raise _Refused(
                "protocol", "The IMAP server cannot log anyone in right now (it says it is unavailable)."
            ) from None
        raise _Refused("auth", "The IMAP server refused the user name or password.") from None


# --- SMTP ------------------------------------------------------------------------------------


def check_smtp(config: ImapConfig, credentials: ImapCredentials, *, timeout: float = 10) -> Check:
    """Connect per `smtp_security` (never falling back to clear text), log in and quit."""
    import smtplib

    host, port = config.smtp_host, config.smtp_port
    password = credentials.password.get_secret_value()
    try:
        _smtp_session(config, password, _Budget(timeout))
    except _Refused as refused:
        return _failed("smtp", refused.error, password)
    except smtplib.SMTPAuthenticationError:
        problem = CheckError(code="auth", message="The SMTP server refused the user name or password.")
        return _failed("smtp", problem, password)
    except smtplib.SMTPNotSupportedError:
        problem = CheckError(
            code="protocol",
            message=f"The SMTP server at {host}:{port} does not offer authentication (AUTH) on this "
            "connection; check the port and the security setting.",
        )
        return _failed("smtp", problem, password)
    except OSError as error:  # smtplib's own errors are OSErrors too
        problem = _network_error(error, host, port, timeout, skip=(smtplib.SMTPException,)) or CheckError(
            code="protocol", message=_smtp_protocol_message(error, host, port)
        )
        return _failed("smtp", problem, password)
    return Check(name="smtp", ok=True)


def _smtp_session(config: ImapConfig, password: str, budget: _Budget) -> None:
    import smtplib
    import ssl

    host, port = config.smtp_host, config.smtp_port
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=budget.remaining(), context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=budget.remaining())
    try:
        _smtp_ehlo(smtp, budget)
        if config.smtp_security == "starttls":
            if not smtp.has_extn("starttls"):
                raise _Refused("tls", NO_STARTTLS)
            budget.apply(smtp.sock)
            try:
                smtp.starttls(context=context)
            except smtplib.SMTPResponseException as error:
                raise _Refused(
                    "tls", f"The SMTP server refused STARTTLS: {error.smtp_code} {_text(error.smtp_error)}"
                ) from None
            _smtp_ehlo(smtp, budget)
        budget.apply(smtp.sock)
        _smtp_login(smtp, config.username, password)
        budget.apply(smtp.sock)
        smtp.quit()
    finally:
        _close_quietly(smtp.close)


def _smtp_ehlo(smtp: smtplib.SMTP, budget: _Budget) -> None:
    budget.apply(smtp.sock)
    code, reply = smtp.ehlo()
    if code != 250:
        raise _Refused("protocol", f"The SMTP server did not accept EHLO: {code} {_text(reply)}")


def _smtp_login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    import smtplib

    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError
    ascii_only = username.isascii() and password.isascii()
    offered = set(smtp.esmtp_features["auth"].upper().split())
    usable = offered & ({"CRAM-MD5", "PLAIN", "LOGIN"} if ascii_only else {"PLAIN"})
    if not usable:
        # e.g. a server that only takes OAuth tokens (XOAUTH2) once basic authentication is off
        raise _Refused(
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


def _smtp_protocol_message(error: OSError, host: str, port: int) -> str:
    import smtplib

    # smtplib reports a reply it cannot parse (not SMTP at all) with code -1.
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code > 0:
        said = "turned the connection away" if isinstance(error, smtplib.SMTPConnectError) else "answered"
        return f"The SMTP server at {host}:{port} {said}: {error.smtp_code} {_text(error.smtp_error)}"
    return f"The server at {host}:{port} did not answer like an SMTP server."


# --- HTTP providers --------------------------------------------------------------------------


class _TwilioAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str


class _TwilioError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: str | None = None


class _GraphError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: int | None = None
    message: str | None = None


class _GraphErrorBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    error: _GraphError


def check_twilio(
    config: TwilioConfig, credentials: TwilioCredentials, *, api_url: str, timeout: float = 10
) -> Check:
    """Fetch the Twilio account with its SID and auth token: ok if it exists and is active."""
    import httpx

    sid, token = config.account_sid, credentials.auth_token.get_secret_value()
    url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{sid}.json"
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.get(url, auth=(sid, token))
    except httpx.HTTPError as error:
        return _failed("twilio", _http_error(error, url, timeout), token)

    problem: CheckError | None = None
    if response.status_code == 200:
        try:
            status = _TwilioAccount.model_validate_json(response.content).status
        except ValidationError:
            problem = CheckError(code="protocol", message="Twilio's answer did not describe an account.")
        else:
            if status != "active":
                problem = CheckError(
                    code="protocol", message=f"The Twilio account {sid} is {status}, not active."
                )
    elif response.status_code == 401:
        problem = CheckError(code="auth", message="Twilio refused the account SID or auth token.")
    elif response.status_code == 404:
        problem = CheckError(code="auth", message=f"Twilio has no account {sid} for this auth token.")
    else:
        detail = _parse_or_none(_TwilioError, response.content)
        said = f": {detail.message}" if detail and detail.message else "."
        problem = CheckError(code="protocol", message=f"Twilio answered HTTP {response.status_code}{said}")
    return _failed("twilio", problem, token) if problem else Check(name="twilio", ok=True)


def check_meta(
    config: MetaCloudConfig, credentials: MetaCloudCredentials, *, graph_url: str, timeout: float = 10
) -> Check:
    """Read the WhatsApp phone number through the Graph API with the access token: ok if visible."""
    import httpx

    number_id, token = config.phone_number_id, credentials.access_token.get_secret_value()
    url = f"{graph_url.rstrip('/')}/{number_id}"
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.get(
                url,
                params={"fields": "display_phone_number,verified_name"},
                headers={"Authorization": f"Bearer {token}"},
            )
    except httpx.HTTPError as error:
        return _failed("meta", _http_error(error, url, timeout), token)
    if response.status_code == 200:
        return Check(name="meta", ok=True)

    body = _parse_or_none(_GraphErrorBody, response.content)
    graph_error = body.error if body else _GraphError()
    said = f": {graph_error.message}" if graph_error.message else "."
    if response.status_code == 401 or (response.status_code == 400 and graph_error.code == 190):
        problem = CheckError(code="auth", message=f"Meta refused the access token{said}")
    elif response.status_code in (400, 404) and graph_error.code == 100:
        problem = CheckError(
            code="protocol",
            message=f"The phone number id {number_id} is not visible with this token "
            "(no such phone number, or the token has no permission for it).",
        )
    else:
        problem = CheckError(code="protocol", message=f"Meta answered HTTP {response.status_code}{said}")
    return _failed("meta", problem, token)


def _http_error(error: httpx.HTTPError, url: str, timeout: float) -> CheckError:
    import httpx

    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if isinstance(error, httpx.TimeoutException):
        return _timed_out(host, port, timeout)
    found = _network_error(error, host, port, timeout)
    if found:
        return found
    if isinstance(error, httpx.ConnectError):
        return CheckError(code="connect", message=f"Could not reach {host} on port {port}.")
    return CheckError(
        code="protocol", message=f"The server at {host}:{port} did not give a valid HTTP answer."
    )


def _parse_or_none(model: type[M], content: bytes) -> M | None:
    try:
        return model.model_validate_json(content)
    except ValidationError:
        return None


# --- shared ----------------------------------------------------------------------------------


def _network_error(
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
        return _timed_out(host, port, timeout)
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


def _timed_out(host: str, port: int, timeout: float) -> CheckError:
    return CheckError(code="timeout", message=f"No answer from {host}:{port} within {timeout:g} seconds.")


def _failed(name: str, error: CheckError, secret: str) -> Check:
    # Messages are built from our own words and the peer's; a peer echoing the secret must not leak it.
    message = error.message.replace(secret, "[hidden]") if secret else error.message
    return Check(name=name, ok=False, error=CheckError(code=error.code, message=message))


def _expect(value: object, model: type[M]) -> M:
    if not isinstance(value, model):
        raise TypeError(f"expected {model.__name__}, got {type(value).__name__}")
    return value


def _response_code(error: BaseException) -> str | None:
    match = re.match(r"\[([A-Z-]+)", _text(error.args[0] if error.args else ""))
    return match.group(1) if match else None


def _text(value: object) -> str:
    """A server's reply as text: imaplib and smtplib hand out bytes, or lists of them."""
    if isinstance(value, list):
        return " ".join(_text(item) for item in value if item is not None)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


def _lower(text: str | None) -> str:
    return (text[:1].lower() + text[1:]) if text else ""


def _close_quietly(close: Callable[[], object]) -> None:
    with contextlib.suppress(OSError):
        close()
