"""Test connection against real peers on loopback: Dovecot, aiosmtpd, and HTTP stand-ins for Twilio
and Meta. Each story says what a person would see for a mistake they can make in the account form."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, Literal

import pytest
from pytest_httpserver import HTTPServer

from inbox.accounts.check_report import Check, ConnectionReport
from inbox.accounts.checks import run_checks
from inbox.accounts.models import (
    GmailConfig,
    GmailCredentials,
    ImapConfig,
    ImapCredentials,
    MetaCloudConfig,
    MetaCloudCredentials,
    Office365Config,
    Office365Credentials,
    Provider,
    TwilioConfig,
    TwilioCredentials,
)
from inbox.email.checks import check_imap, check_smtp
from inbox.whatsapp.checks import check_meta, check_twilio
from mail_peers import DovecotServer, MailUser, Peer, SmtpServer, TlsSmtpServers

# aiosmtpd warns that AUTH without TLS is unsafe: true, and the point of the STARTTLS story.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

MailCheck = Callable[..., Check]
UNKNOWN_HOST = "mail.example.invalid"  # .invalid never resolves (RFC 6761)
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_PATH = f"/2010-04-01/Accounts/{TWILIO_SID}.json"
TWILIO_TOKEN = "f0e1d2c3b4a59687" * 2
PHONE_NUMBER_ID = "106540352242922"
META_TOKEN = "EAAG" + "x1y2z3" * 10


def mailbox(
    imap: Peer,
    smtp: Peer,
    *,
    username: str,
    imap_security: Literal["ssl", "starttls", "none"] = "none",
    smtp_security: Literal["ssl", "starttls", "none"] = "none",
    imap_host: str | None = None,
    smtp_host: str | None = None,
) -> ImapConfig:
    return ImapConfig(
        imap_host=imap_host or imap.host,
        imap_port=imap.port,
        imap_security=imap_security,
        smtp_host=smtp_host or smtp.host,
        smtp_port=smtp.port,
        smtp_security=smtp_security,
        username=username,
    )


def password(value: str) -> ImapCredentials:
    return ImapCredentials.model_validate({"password": value})


def run_mail(config: ImapConfig, credentials: ImapCredentials, *, timeout: float = 10) -> ConnectionReport:
    return run_checks(
        Provider.IMAP,
        config,
        credentials,
        twilio_api_url="http://twilio.invalid",
        meta_graph_url="http://meta.invalid",
        timeout=timeout,
    )


def failure(check: Check) -> tuple[str, str]:
    assert not check.ok
    assert check.error is not None
    return check.error.code, check.error.message


def assert_keeps_secret(result: Check | ConnectionReport, secret: str) -> None:
    assert secret not in result.model_dump_json()


def base_url(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/").rstrip("/")


# --- IMAP and SMTP ---------------------------------------------------------------------------


def test_good_credentials_pass_both_checks(
    dovecot: DovecotServer, smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    # Given the right user name and password for both servers
    config = mailbox(dovecot, smtp_server, username=mail_user.username)

    # When the account's connection is tested
    report = run_mail(config, password(mail_user.password))

    # Then both the IMAP and the SMTP check pass
    assert report == ConnectionReport(
        ok=True, checks=[Check(name="imap", ok=True), Check(name="smtp", ok=True)]
    )


def test_wrong_password_is_refused_by_both_servers(
    dovecot: DovecotServer, smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    config = mailbox(dovecot, smtp_server, username=mail_user.username)
    wrong = "not-" + mail_user.password

    report = run_mail(config, password(wrong))

    # Both servers were asked, although IMAP already failed.
    assert not report.ok
    assert [(check.name, failure(check)) for check in report.checks] == [
        ("imap", ("auth", "The IMAP server refused the user name or password.")),
        ("smtp", ("auth", "The SMTP server refused the user name or password.")),
    ]
    assert_keeps_secret(report, wrong)


def test_an_unreachable_imap_server_does_not_hide_the_smtp_answer(
    closed_port: Peer, smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    config = mailbox(closed_port, smtp_server, username=mail_user.username)

    report = run_mail(config, password(mail_user.password))

    assert not report.ok
    imap, smtp = report.checks
    assert failure(imap) == (
        "connect",
        f"Could not reach 127.0.0.1 on port {closed_port.port}: connection refused.",
    )
    assert smtp == Check(name="smtp", ok=True)


def test_wrong_smtp_password_is_an_auth_error(smtp_server: SmtpServer, mail_user: MailUser) -> None:
    config = mailbox(smtp_server, smtp_server, username=mail_user.username)
    wrong = mail_user.password[::-1]

    check = check_smtp(config, password(wrong))

    assert failure(check) == ("auth", "The SMTP server refused the user name or password.")
    assert_keeps_secret(check, wrong)


@pytest.mark.parametrize("check", [check_imap, check_smtp])
def test_a_password_beyond_ascii_signs_in(
    check: MailCheck, dovecot: DovecotServer, smtp_server: SmtpServer, accented_mail_user: MailUser
) -> None:
    config = mailbox(dovecot, smtp_server, username=accented_mail_user.username)

    assert check(config, password(accented_mail_user.password)).ok


@pytest.mark.parametrize("check", [check_imap, check_smtp])
def test_a_closed_port_is_a_connect_error(check: MailCheck, closed_port: Peer) -> None:
    config = mailbox(closed_port, closed_port, username="agent@example.com")

    result = check(config, password("secret-password"))

    assert failure(result) == (
        "connect",
        f"Could not reach 127.0.0.1 on port {closed_port.port}: connection refused.",
    )


@pytest.mark.parametrize("check", [check_imap, check_smtp])
def test_an_unknown_host_name_is_a_dns_error(check: MailCheck, closed_port: Peer) -> None:
    config = mailbox(
        closed_port, closed_port, username="agent@example.com", imap_host=UNKNOWN_HOST, smtp_host=UNKNOWN_HOST
    )

    result = check(config, password("secret-password"))

    assert failure(result) == ("dns", f"{UNKNOWN_HOST} is not a known host name.")


@pytest.mark.parametrize("security", ["none", "ssl", "starttls"])
@pytest.mark.parametrize("check", [check_imap, check_smtp])
def test_a_server_that_never_answers_times_out_within_the_budget(
    check: MailCheck, security: Literal["ssl", "starttls", "none"], silent_server: Peer
) -> None:
    config = mailbox(
        silent_server,
        silent_server,
        username="agent@example.com",
        imap_security=security,
        smtp_security=security,
    )

    started = time.monotonic()
    result = check(config, password("secret-password"), timeout=1)
    elapsed = time.monotonic() - started

    assert failure(result) == ("timeout", f"No answer from 127.0.0.1:{silent_server.port} within 1 seconds.")
    assert elapsed < 3  # a bound on the whole check, not a performance target


@pytest.mark.parametrize("check", [check_imap, check_smtp])
def test_a_server_that_is_not_a_mail_server_is_a_protocol_error(
    check: MailCheck, babbling_server: Peer
) -> None:
    config = mailbox(babbling_server, babbling_server, username="agent@example.com")

    result = check(config, password("secret-password"))

    kind = "IMAP" if check is check_imap else "SMTP"
    assert failure(result) == (
        "protocol",
        f"The server at 127.0.0.1:{babbling_server.port} did not answer like an {kind} server.",
    )


def test_ssl_on_a_plain_text_imap_port_is_a_tls_error(dovecot: DovecotServer, mail_user: MailUser) -> None:
    # Given SSL/TLS chosen for a port that speaks plain IMAP (a 143-for-993 mix-up)
    config = mailbox(dovecot, dovecot, username=mail_user.username, imap_security="ssl")

    result = check_imap(config, password(mail_user.password))

    # Then the handshake fails, and the message points at the port and security setting
    code, message = failure(result)
    assert code == "tls"
    assert message.startswith(f"The TLS handshake with 127.0.0.1:{dovecot.port} failed (")
    assert message.endswith(
        "does the server speak TLS on this port? Check the port and the security setting."
    )


def test_ssl_on_a_plain_text_smtp_port_is_a_tls_error(smtp_server: SmtpServer, mail_user: MailUser) -> None:
    config = mailbox(smtp_server, smtp_server, username=mail_user.username, smtp_security="ssl")

    result = check_smtp(config, password(mail_user.password))

    code, message = failure(result)
    assert code == "tls"
    assert message.startswith(f"The TLS handshake with 127.0.0.1:{smtp_server.port} failed (")


def test_imap_starttls_is_required_when_chosen(dovecot: DovecotServer, mail_user: MailUser) -> None:
    # Given STARTTLS chosen, and a server (this Dovecot has ssl = no) that does not offer it
    config = mailbox(dovecot, dovecot, username=mail_user.username, imap_security="starttls")

    result = check_imap(config, password(mail_user.password))

    assert failure(result) == (
        "tls",
        "The server does not offer STARTTLS; refusing to send the password in clear text.",
    )


def test_smtp_starttls_is_required_and_the_password_never_goes_out_in_clear(
    smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    # Given STARTTLS chosen, and a server without TLS that would happily take AUTH in clear text
    config = mailbox(smtp_server, smtp_server, username=mail_user.username, smtp_security="starttls")
    auth_commands_before = len(smtp_server.auth_commands)

    result = check_smtp(config, password(mail_user.password))

    assert failure(result) == (
        "tls",
        "The server does not offer STARTTLS; refusing to send the password in clear text.",
    )
    assert smtp_server.auth_commands[auth_commands_before:] == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_over_tls_signs_in_when_the_certificate_is_trusted(
    security: Literal["starttls", "ssl"],
    tls_smtp_servers: TlsSmtpServers,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the server's certificate is trusted: its CA given as the product's extra bundle
    monkeypatch.setenv("INBOX_CA_BUNDLE", str(tls_smtp_servers.certificate))
    server = tls_smtp_servers.starttls if security == "starttls" else tls_smtp_servers.implicit_tls
    config = mailbox(server, server, username=mail_user.username, smtp_security=security)

    assert check_smtp(config, password(mail_user.password)) == Check(name="smtp", ok=True)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_a_tls_error(
    security: Literal["starttls", "ssl"], tls_smtp_servers: TlsSmtpServers, mail_user: MailUser
) -> None:
    server = tls_smtp_servers.starttls if security == "starttls" else tls_smtp_servers.implicit_tls
    config = mailbox(server, server, username=mail_user.username, smtp_security=security)

    result = check_smtp(config, password(mail_user.password))

    assert failure(result) == (
        "tls",
        f"The TLS handshake with 127.0.0.1:{server.port} failed: "
        "certificate not trusted (self-signed certificate).",
    )


# --- Twilio ----------------------------------------------------------------------------------


def twilio(api_url: str, *, timeout: float = 10) -> Check:
    return check_twilio(
        TwilioConfig(account_sid=TWILIO_SID),
        TwilioCredentials.model_validate({"auth_token": TWILIO_TOKEN}),
        api_url=api_url,
        timeout=timeout,
    )


def test_an_active_twilio_account_passes_and_is_read_with_basic_auth(httpserver: HTTPServer) -> None:
    httpserver.expect_request(TWILIO_PATH, method="GET").respond_with_json(
        {"sid": TWILIO_SID, "status": "active", "type": "Full"}
    )

    check = twilio(base_url(httpserver))

    assert check == Check(name="twilio", ok=True)
    (request, _), *_ = httpserver.log
    expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            {"code": 20003, "message": "Authenticate"},
            ("auth", "Twilio refused the account SID or auth token."),
        ),
        (
            404,
            {"code": 20404, "message": "The requested resource was not found"},
            ("auth", f"Twilio has no account {TWILIO_SID} for this auth token."),
        ),
        (
            200,
            {"sid": TWILIO_SID, "status": "suspended"},
            ("protocol", f"The Twilio account {TWILIO_SID} is suspended, not active."),
        ),
        (
            503,
            {"message": "Service Unavailable"},
            ("protocol", "Twilio answered HTTP 503: Service Unavailable"),
        ),
        (200, {"unexpected": True}, ("protocol", "Twilio's answer did not describe an account.")),
    ],
)
def test_twilio_refusals_say_what_is_wrong(
    httpserver: HTTPServer, status: int, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    httpserver.expect_request(TWILIO_PATH).respond_with_json(body, status=status)

    check = twilio(base_url(httpserver))

    assert failure(check) == expected
    assert_keeps_secret(check, TWILIO_TOKEN)


def test_twilio_network_failures(closed_port: Peer, silent_server: Peer) -> None:
    refused = twilio(f"http://{closed_port.host}:{closed_port.port}")
    unknown = twilio("https://api.twilio.invalid")
    started = time.monotonic()
    silent = twilio(f"http://{silent_server.host}:{silent_server.port}", timeout=1)
    elapsed = time.monotonic() - started

    assert failure(refused) == (
        "connect",
        f"Could not reach 127.0.0.1 on port {closed_port.port}: connection refused.",
    )
    assert failure(unknown) == ("dns", "api.twilio.invalid is not a known host name.")
    assert failure(silent) == ("timeout", f"No answer from 127.0.0.1:{silent_server.port} within 1 seconds.")
    assert elapsed < 3


# --- Meta ------------------------------------------------------------------------------------


def meta(graph_url: str, *, token: str = META_TOKEN) -> Check:
    return check_meta(
        MetaCloudConfig(waba_id="102290129340398", phone_number_id=PHONE_NUMBER_ID),
        MetaCloudCredentials.model_validate({"access_token": token}),
        graph_url=graph_url,
    )


def graph_error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1b2"}}


def test_a_visible_phone_number_passes_and_is_read_with_the_bearer_token(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        f"/v21.0/{PHONE_NUMBER_ID}",
        method="GET",
        query_string={"fields": "display_phone_number,verified_name"},
    ).respond_with_json(
        {"display_phone_number": "+1 555-0100", "verified_name": "Acme", "id": PHONE_NUMBER_ID}
    )

    check = meta(base_url(httpserver) + "/v21.0")

    assert check == Check(name="meta", ok=True)
    (request, _), *_ = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {META_TOKEN}"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            graph_error(190, "Error validating access token: Session has expired."),
            ("auth", "Meta refused the access token: Error validating access token: Session has expired."),
        ),
        (401, {}, ("auth", "Meta refused the access token.")),
        (
            400,
            graph_error(100, "Unsupported get request. Object with ID '106540352242922' does not exist."),
            (
                "protocol",
                f"The phone number id {PHONE_NUMBER_ID} is not visible with this token "
                "(no such phone number, or the token has no permission for it).",
            ),
        ),
        (
            404,
            graph_error(100, "Unknown path components"),
            (
                "protocol",
                f"The phone number id {PHONE_NUMBER_ID} is not visible with this token "
                "(no such phone number, or the token has no permission for it).",
            ),
        ),
        (
            500,
            graph_error(2, "An unexpected error has occurred."),
            ("protocol", "Meta answered HTTP 500: An unexpected error has occurred."),
        ),
        (502, "<html>Bad gateway</html>", ("protocol", "Meta answered HTTP 502.")),
    ],
)
def test_meta_refusals_say_what_is_wrong(
    httpserver: HTTPServer, status: int, body: Any, expected: tuple[str, str]
) -> None:
    response = httpserver.expect_request(f"/{PHONE_NUMBER_ID}")
    if isinstance(body, dict):
        response.respond_with_json(body, status=status)
    else:
        response.respond_with_data(body, status=status)

    check = meta(base_url(httpserver))

    assert failure(check) == expected
    assert_keeps_secret(check, META_TOKEN)


def test_a_provider_echoing_the_token_does_not_leak_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/{PHONE_NUMBER_ID}").respond_with_json(
        graph_error(190, f"Malformed access token {META_TOKEN}"), status=400
    )

    check = meta(base_url(httpserver))

    assert failure(check) == ("auth", "Meta refused the access token: Malformed access token [hidden]")


def test_meta_network_failures(closed_port: Peer) -> None:
    assert failure(meta(f"http://{closed_port.host}:{closed_port.port}"))[0] == "connect"
    assert failure(meta("https://graph.facebook.invalid/v21.0")) == (
        "dns",
        "graph.facebook.invalid is not a known host name.",
    )


# --- run_checks per provider -----------------------------------------------------------------


def test_whatsapp_providers_run_their_one_check(httpserver: HTTPServer) -> None:
    httpserver.expect_request(TWILIO_PATH).respond_with_json({"status": "active"})
    httpserver.expect_request(f"/v21.0/{PHONE_NUMBER_ID}").respond_with_json({"id": PHONE_NUMBER_ID})
    twilio_api_url, meta_graph_url = base_url(httpserver), base_url(httpserver) + "/v21.0"

    twilio_report = run_checks(
        Provider.TWILIO,
        TwilioConfig(account_sid=TWILIO_SID),
        TwilioCredentials.model_validate({"auth_token": TWILIO_TOKEN}),
        twilio_api_url=twilio_api_url,
        meta_graph_url=meta_graph_url,
    )
    meta_report = run_checks(
        Provider.META_CLOUD,
        MetaCloudConfig(waba_id="102290129340398", phone_number_id=PHONE_NUMBER_ID),
        MetaCloudCredentials.model_validate({"access_token": META_TOKEN}),
        twilio_api_url=twilio_api_url,
        meta_graph_url=meta_graph_url,
    )

    assert twilio_report == ConnectionReport(ok=True, checks=[Check(name="twilio", ok=True)])
    assert meta_report == ConnectionReport(ok=True, checks=[Check(name="meta", ok=True)])


@pytest.mark.parametrize(
    ("provider", "config", "credentials", "service"),
    [
        (
            Provider.GMAIL,
            GmailConfig(),
            GmailCredentials.model_validate({"refresh_token": "1//0g-token"}),
            "Gmail accounts connect by signing in with Google",
        ),
        (
            Provider.OFFICE365,
            Office365Config(),
            Office365Credentials.model_validate({"token_cache": "{}"}),
            "Office 365 accounts connect by signing in with Microsoft",
        ),
    ],
)
def test_oauth_providers_point_to_their_status_and_sync_instead_of_a_test(
    provider: Provider, config: Any, credentials: Any, service: str
) -> None:
    report = run_checks(
        provider,
        config,
        credentials,
        twilio_api_url="http://unused.invalid",
        meta_graph_url="http://unused.invalid",
    )

    assert not report.ok
    (check,) = report.checks
    assert check.name == "oauth"
    assert failure(check) == (
        "protocol",
        f"{service} (OAuth); the account's status and its sync show whether the mailbox works.",
    )


def test_a_config_of_another_provider_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="expected ImapConfig, got TwilioConfig"):
        run_checks(
            Provider.IMAP,
            TwilioConfig(account_sid=TWILIO_SID),
            password("secret-password"),
            twilio_api_url="http://unused.invalid",
            meta_graph_url="http://unused.invalid",
        )
