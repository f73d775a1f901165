"""Sending an email from an IMAP account against real peers on loopback: aiosmtpd takes the message
(or refuses it, as a real server would), and Dovecot keeps its copy in the Sent folder."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from typing import Literal

import pytest

from dovecot import SPECIAL_USE_SENT, LocalDovecot, new_mailbox
from inbox.accounts.check_report import PeerError
from inbox.accounts.models import ImapConfig
from inbox.delivery.outcomes import CredentialsRejected, SendLater, SendRefused, SendResult
from inbox.email.sending import already_in_sent, file_in_sent, send_smtp
from mail_peers import MailUser, Peer, ReceivedMail, SmtpServer, TlsSmtpServers
from mailboxes import flags_of, signed_in

# aiosmtpd warns that AUTH without TLS is unsafe: true, and beside the point here.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

# SPECIAL_USE_SENT ("Éléments envoyés") as IMAP names it on the wire: modified UTF-7.
SPECIAL_USE_SENT_ON_THE_WIRE = "&AMk-l&AOk-ments envoy&AOk-s"


def smtp_account(
    smtp: Peer, user: MailUser, *, security: Literal["ssl", "starttls", "none"] = "none"
) -> ImapConfig:
    return ImapConfig(
        imap_host="imap.example.com",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security=security,
        username=user.username,
    )


def imap_account(imap: Peer, user: MailUser) -> ImapConfig:
    return ImapConfig(
        imap_host=imap.host,
        imap_port=imap.port,
        imap_security="none",
        smtp_host="smtp.example.com",
        username=user.username,
    )


def outgoing(*, to: str = "Client <client@example.org>", bcc: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Support <agent@example.com>"
    message["To"] = to
    if bcc:
        message["Bcc"] = bcc
    message["Subject"] = "Your order has shipped"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("Hello,\n\nyour order left our warehouse today.\n")
    return message


def message_id(message: EmailMessage) -> str:
    return str(message["Message-ID"]).strip("<>")


def arrivals(received: list[ReceivedMail], message: EmailMessage) -> list[ReceivedMail]:
    """What the SMTP server accepted of `message` (the fixture's servers serve every test)."""
    return [mail for mail in received if str(message["Message-ID"]).encode() in mail.content]


def parsed(raw: bytes) -> EmailMessage:
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(mail, EmailMessage)
    return mail


def filed(server: LocalDovecot, user: MailUser, folder: str) -> list[tuple[datetime, bytes]]:
    """(INTERNALDATE, content) of each message in `folder` (its name as on the wire), read-only."""
    with signed_in(server, user) as imap:
        status, data = imap.select(f'"{folder}"', readonly=True)
        assert status == "OK", data
        status, data = imap.uid("FETCH", "1:*", "(INTERNALDATE BODY.PEEK[])")
        assert status == "OK", data
    messages: list[tuple[datetime, bytes]] = []
    for part in data:
        if not isinstance(part, tuple):
            continue  # the ")" after each message's literal
        attributes, content = part
        arrived = re.search(rb'INTERNALDATE "([^"]+)"', attributes)
        assert arrived is not None, attributes
        messages.append((datetime.strptime(arrived[1].decode(), "%d-%b-%Y %H:%M:%S %z"), content))
    return messages


def folder_exists(server: LocalDovecot, user: MailUser, folder: str) -> bool:
    with signed_in(server, user) as imap:
        status, _ = imap.select(f'"{folder}"', readonly=True)
    return status == "OK"


@pytest.fixture
def user(dovecot: LocalDovecot) -> MailUser:
    return new_mailbox(dovecot, "sender")


# --- the SMTP transport ----------------------------------------------------------------------


def test_an_accepted_message_arrives_with_its_envelope_and_headers(
    smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    # Given a reply to a customer, with a colleague in Bcc
    message = outgoing(bcc="boss@example.com")

    # When it is sent
    result = send_smtp(
        smtp_account(smtp_server, mail_user),
        mail_user.password,
        message,
        sender=mail_user.username,
        recipients=["client@example.org", "boss@example.com"],
    )

    # Then the server accepted it, named by its Message-ID
    assert result == SendResult(provider_message_id=message_id(message))
    # And it arrived once, for both recipients, from the account's address
    [arrived] = arrivals(smtp_server.received, message)
    assert arrived.sender == mail_user.username
    assert arrived.recipients == ("client@example.org", "boss@example.com")
    # And its headers and body are intact, without the Bcc header (which stays on our copy)
    content = parsed(arrived.content)
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        assert content[header] == message[header]
    assert content.get_content().replace("\r\n", "\n") == message.get_content()
    assert "Bcc" not in content
    assert message["Bcc"] == "boss@example.com"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_message_goes_out_over_tls(
    security: Literal["starttls", "ssl"],
    tls_smtp_servers: TlsSmtpServers,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a server with TLS whose certificate is trusted
    monkeypatch.setenv("INBOX_CA_BUNDLE", str(tls_smtp_servers.certificate))
    server = tls_smtp_servers.starttls if security == "starttls" else tls_smtp_servers.implicit_tls
    message = outgoing()

    result = send_smtp(
        smtp_account(server, mail_user, security=security),
        mail_user.password,
        message,
        sender=mail_user.username,
        recipients=["client@example.org"],
    )

    assert result == SendResult(provider_message_id=message_id(message))
    [arrived] = arrivals(tls_smtp_servers.received, message)
    assert arrived.recipients == ("client@example.org",)


def test_a_wrong_password_is_the_credentials_refused(smtp_server: SmtpServer, mail_user: MailUser) -> None:
    wrong = "not-" + mail_user.password
    message = outgoing()

    with pytest.raises(CredentialsRejected) as refused:
        send_smtp(
            smtp_account(smtp_server, mail_user),
            wrong,
            message,
            sender=mail_user.username,
            recipients=["client@example.org"],
        )

    assert refused.value.reason.startswith("The SMTP server refused the user name or password: ")
    assert wrong not in refused.value.reason
    assert arrivals(smtp_server.received, message) == []


def test_a_recipient_refused_for_good_is_refused_with_the_servers_code_and_words(
    smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    # Given one good recipient and one the server does not know
    message = outgoing()

    with pytest.raises(SendRefused) as refused:
        send_smtp(
            smtp_account(smtp_server, mail_user),
            mail_user.password,
            message,
            sender=mail_user.username,
            recipients=["client@example.org", "nobody@example.org"],
        )

    assert (refused.value.code, refused.value.message) == ("smtp_550", "5.1.1 No such user")
    # Nothing went out, not even to the good recipient: fixing the address and sending again
    # cannot reach the customer twice.
    assert arrivals(smtp_server.received, message) == []


def test_a_recipient_refused_for_now_is_tried_again_later(
    smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    message = outgoing()

    with pytest.raises(SendLater) as later:
        send_smtp(
            smtp_account(smtp_server, mail_user),
            mail_user.password,
            message,
            sender=mail_user.username,
            recipients=["later@example.org"],
        )

    assert str(later.value) == "the SMTP server answered 451 4.3.0 Try again later"
    assert arrivals(smtp_server.received, message) == []


def test_an_address_beyond_ascii_goes_out_with_smtputf8(smtp_server: SmtpServer, mail_user: MailUser) -> None:
    # Given a recipient whose address is not ASCII, and a server offering SMTPUTF8 (RFC 6531)
    message = outgoing(to="Zoé <zoé@example.org>")

    send_smtp(
        smtp_account(smtp_server, mail_user),
        mail_user.password,
        message,
        sender=mail_user.username,
        recipients=["zoé@example.org"],
    )

    [arrived] = arrivals(smtp_server.received, message)
    assert arrived.recipients == ("zoé@example.org",)
    assert parsed(arrived.content)["To"] == "Zoé <zoé@example.org>"


def test_a_server_not_reached_is_tried_again_later(closed_port: Peer, mail_user: MailUser) -> None:
    with pytest.raises(SendLater) as later:
        send_smtp(
            smtp_account(closed_port, mail_user),
            mail_user.password,
            outgoing(),
            sender=mail_user.username,
            recipients=["client@example.org"],
        )

    assert str(later.value) == f"Could not reach 127.0.0.1 on port {closed_port.port}: connection refused."


def test_starttls_missing_is_tried_again_later_and_never_falls_back_to_clear_text(
    smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    # Given STARTTLS chosen, and a server without TLS that would take the password in clear text
    auth_commands_before = len(smtp_server.auth_commands)
    message = outgoing()

    with pytest.raises(SendLater) as later:
        send_smtp(
            smtp_account(smtp_server, mail_user, security="starttls"),
            mail_user.password,
            message,
            sender=mail_user.username,
            recipients=["client@example.org"],
        )

    assert "STARTTLS" in str(later.value)
    assert smtp_server.auth_commands[auth_commands_before:] == []
    assert arrivals(smtp_server.received, message) == []


def test_an_untrusted_certificate_is_tried_again_later(
    tls_smtp_servers: TlsSmtpServers, mail_user: MailUser
) -> None:
    with pytest.raises(SendLater) as later:
        send_smtp(
            smtp_account(tls_smtp_servers.implicit_tls, mail_user, security="ssl"),
            mail_user.password,
            outgoing(),
            sender=mail_user.username,
            recipients=["client@example.org"],
        )

    assert "certificate not trusted" in str(later.value)


def test_a_message_without_a_message_id_is_a_programming_error(
    closed_port: Peer, mail_user: MailUser
) -> None:
    message = outgoing()
    del message["Message-ID"]

    with pytest.raises(ValueError, match="Message-ID"):
        send_smtp(
            smtp_account(closed_port, mail_user),
            mail_user.password,
            message,
            sender=mail_user.username,
            recipients=["client@example.org"],
        )


# --- the copy in the Sent folder -------------------------------------------------------------


def test_without_a_sent_folder_one_named_sent_is_created_and_the_copy_is_read(
    dovecot: LocalDovecot, user: MailUser
) -> None:
    # Given a mailbox with no Sent folder at all
    message = outgoing(bcc="boss@example.com")
    before = datetime.now(UTC).replace(microsecond=0)

    # When the sent message is filed
    folder = file_in_sent(imap_account(dovecot, user), user.password, message)

    # Then it is in a new folder "Sent", read, arrived now, its Bcc kept for the sender to see
    assert folder == "Sent"
    assert flags_of(dovecot, user, "Sent") == {1: frozenset({"\\Seen"})}
    [(arrived, content)] = filed(dovecot, user, "Sent")
    assert before <= arrived <= datetime.now(UTC) + timedelta(seconds=1)
    copy = parsed(content)
    for header in ("From", "To", "Bcc", "Subject", "Message-ID"):
        assert copy[header] == message[header]


def test_the_next_copy_goes_to_the_same_sent_folder(dovecot: LocalDovecot, user: MailUser) -> None:
    config = imap_account(dovecot, user)
    file_in_sent(config, user.password, outgoing())

    assert file_in_sent(config, user.password, outgoing()) == "Sent"

    assert flags_of(dovecot, user, "Sent") == {1: frozenset({"\\Seen"}), 2: frozenset({"\\Seen"})}


def test_a_copy_to_an_address_beyond_ascii_keeps_it_as_sent(dovecot: LocalDovecot, user: MailUser) -> None:
    message = outgoing(to="Zoé <zoé@example.org>")

    file_in_sent(imap_account(dovecot, user), user.password, message)

    [(_, content)] = filed(dovecot, user, "Sent")
    assert "To: Zoé <zoé@example.org>\r\n".encode() in content  # UTF-8 (RFC 6532), not encoded words


def test_the_folder_with_the_sent_special_use_is_preferred_whatever_its_name(
    dovecot: LocalDovecot, user: MailUser
) -> None:
    # Given the folder Dovecot marks \Sent, created by another mail client, with a name beyond ASCII
    with signed_in(dovecot, user) as imap:
        status, data = imap.create(f'"{SPECIAL_USE_SENT_ON_THE_WIRE}"')
        assert status == "OK", data

    folder = file_in_sent(imap_account(dovecot, user), user.password, outgoing())

    # Then the copy is there, read, and no folder "Sent" was made
    assert folder == SPECIAL_USE_SENT
    assert flags_of(dovecot, user, SPECIAL_USE_SENT_ON_THE_WIRE) == {1: frozenset({"\\Seen"})}
    assert not folder_exists(dovecot, user, "Sent")


def test_a_filed_message_is_found_again_by_its_message_id(dovecot: LocalDovecot, user: MailUser) -> None:
    config = imap_account(dovecot, user)
    message = outgoing()
    folder = file_in_sent(config, user.password, message)

    assert already_in_sent(config, user.password, message_id(message))
    assert already_in_sent(config, user.password, str(message["Message-ID"]), folder=folder)
    assert not already_in_sent(config, user.password, message_id(outgoing()))


def test_nothing_is_in_sent_where_there_is_no_sent_folder(dovecot: LocalDovecot, user: MailUser) -> None:
    assert not already_in_sent(imap_account(dovecot, user), user.password, message_id(outgoing()))

    assert not folder_exists(dovecot, user, "Sent")  # asking creates nothing


def test_filing_fails_with_the_peers_error(dovecot: LocalDovecot, user: MailUser, closed_port: Peer) -> None:
    with pytest.raises(PeerError) as wrong_password:
        file_in_sent(imap_account(dovecot, user), "not-" + user.password, outgoing())
    with pytest.raises(PeerError) as unreachable:
        file_in_sent(imap_account(closed_port, user), user.password, outgoing())

    assert wrong_password.value.error.code == "auth"
    assert unreachable.value.error.code == "connect"
