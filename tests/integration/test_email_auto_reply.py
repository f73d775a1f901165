"""An email auto-reply end to end in one process: a customer's mail is routed, its auto-reply is
queued, the send function composes it and hands it to a real SMTP server (aiosmtpd) with every
header RFC 3834 and RFC 5322 ask for, files a copy in the mailbox's Sent folder (Dovecot), and the
customer's answer to the auto-reply joins the conversation."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from builders import call_api
from dovecot import LocalDovecot
from inbox.accounts.models import Account
from inbox.email.ingest import hand_over
from inbox.email.mailbox import RawMail
from inbox.email.sending import already_in_sent
from inbox.local.resources import LocalResources
from inbox.routing.queue import InboundQueue
from inbox.store.accounts import AccountStore
from inbox.store.mail_objects import MailObjects
from mail_flow import (
    conversations_of,
    create_imap_account,
    drain_inbound,
    function_variables,
    messages_of,
    peek_outbound,
    send_queued,
)
from mail_peers import MailUser, SmtpServer

NOW = datetime.now(UTC)


@pytest.fixture
def account(
    aws: LocalResources, dovecot: LocalDovecot, smtp_server: SmtpServer, mail_user: MailUser
) -> Iterator[Account]:
    with function_variables(aws, "poll_email", "route", "send", "settings_api"):
        created = create_imap_account(
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=mail_user.username,
            password=mail_user.password,
            address="support@shop.example",
            smtp_port=smtp_server.port,
            smtp_security="none",
        )
        assert (
            call_api("PATCH", f"/v1/accounts/{created['id']}", body={"sender_name": "Le Support Acmé"}).status
            == 200
        )
        yield AccountStore().get(created["id"])


def arrives(account: Account, raw: bytes, *, uid: str) -> None:
    """The mail fetched from the account's INBOX, handed to the ingest pipeline."""
    hand_over(
        account,
        [RawMail(raw=raw, arrived_at=NOW, folder="INBOX", uid=uid)],
        objects=MailObjects(),
        queue=InboundQueue(),
    )


def customer_mail(subject: str, message_id: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana Silva <ana@customer.example>"
    message["To"] = "support@shop.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Bonjour, une question.")
    return message.as_bytes()


def test_an_auto_reply_goes_out_by_smtp_with_its_headers_and_is_filed_in_sent(
    aws: LocalResources,
    account: Account,
    smtp_server: SmtpServer,
    dovecot: LocalDovecot,
    mail_user: MailUser,
) -> None:
    rules = {
        "enabled": True,
        "cooldown_minutes": 0,
        "rules": [{"trigger": "always", "message": "Merci, nous revenons vers vous."}],
    }
    assert call_api("PUT", f"/v1/accounts/{account.id}/auto-reply", body=rules).status == 200
    signature = {"name": "Équipe", "html": "<p><b>L'équipe Acmé</b></p>", "default_for_account": True}
    assert call_api("POST", f"/v1/accounts/{account.id}/signatures", body=signature).status == 201
    before = len(smtp_server.received)
    mail = customer_mail("Commande 42", "c42@customer.example", References="<older@customer.example>")
    arrives(account, mail, uid="1")
    drain_inbound(aws)

    assert send_queued(aws) == 1
    (received,) = smtp_server.received[before:]
    assert list(received.recipients) == ["ana@customer.example"]
    sent = email.message_from_bytes(received.content, policy=policy.default)
    assert str(sent["Subject"]) == "Auto: Commande 42"
    assert str(sent["Auto-Submitted"]) == "auto-replied"
    assert str(sent["In-Reply-To"]) == "<c42@customer.example>"
    assert str(sent["References"]).split() == ["<older@customer.example>", "<c42@customer.example>"]
    assert str(sent["Message-ID"]).endswith("@shop.example>")
    assert sent["From"].addresses[0].display_name == "Le Support Acmé"
    plain = sent.get_body(preferencelist=("plain",))
    html = sent.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().count("L'équipe Acmé") == 1
    assert html.get_content().count("L'équipe Acmé") == 1

    (conversation,) = conversations_of(account.id)
    reply = next(m for m in messages_of(conversation["id"]) if m["direction"] == "out")
    assert reply["status"] == "sent"
    message_id = str(sent["Message-ID"]).strip("<>")
    assert reply["message_id"] == message_id
    assert already_in_sent(account_config(account), mail_user.password, message_id)

    # The customer answers the auto-reply: the answer joins the conversation.
    answer = customer_mail("Re: Auto: Commande 42", "c43@customer.example", In_Reply_To=f"<{message_id}>")
    arrives(account, answer, uid="2")
    drain_inbound(aws)
    assert [c["id"] for c in conversations_of(account.id)] == [conversation["id"]]


def test_no_auto_reply_goes_to_a_bounce(
    aws: LocalResources, account: Account, smtp_server: SmtpServer
) -> None:
    rules = {"enabled": True, "cooldown_minutes": 0, "rules": [{"trigger": "always", "message": "Merci."}]}
    assert call_api("PUT", f"/v1/accounts/{account.id}/auto-reply", body=rules).status == 200
    bounce = customer_mail(
        "Undelivered Mail Returned to Sender",
        "dsn1@mx.customer.example",
        X_Failed_Recipients="someone@shop.example",
    )
    arrives(account, bounce, uid="3")
    drain_inbound(aws)
    assert send_queued(aws) == 0
    (conversation,) = conversations_of(account.id)
    detail: dict[str, Any] = call_api("GET", f"/v1/conversations/{conversation['id']}").body
    assert detail["routing"]["auto_reply"]["decision"]["detail"] == "a bounce (X-Failed-Recipients)"


def account_config(account: Account) -> Any:
    from inbox.accounts.models import parse_config

    return parse_config(account.provider, account.config)


def test_a_delivery_that_died_after_sending_is_not_sent_twice(
    aws: LocalResources, account: Account, smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    from inbox.delivery.queue import OutboundRequest
    from inbox.delivery.sender import LEASE
    from inbox.email.outgoing import outgoing_email
    from inbox.email.sending import file_in_sent, send_smtp
    from inbox.store import dynamo
    from inbox.store.outbound_claims import OutboundClaims

    rules = {"enabled": True, "cooldown_minutes": 0, "rules": [{"trigger": "always", "message": "Merci."}]}
    assert call_api("PUT", f"/v1/accounts/{account.id}/auto-reply", body=rules).status == 200
    mail = customer_mail("Urgent", "urgent@customer.example")
    arrives(account, mail, uid="4")
    drain_inbound(aws)
    request = OutboundRequest.model_validate_json(peek_outbound(aws))

    # A delivery claimed it, sent it and filed it in Sent, then died before recording it.
    table = dynamo.table()
    claims = OutboundClaims(table)
    died = claims.take(request.message_pk, request.message_sk, now=datetime.now(UTC) - 2 * LEASE, lease=LEASE)
    assert died is not None
    outgoing = outgoing_email(account, died.item, request.to, table)
    config = account_config(account)
    send_smtp(config, mail_user.password, outgoing.message, sender=account.address, recipients=[outgoing.to])
    file_in_sent(config, mail_user.password, outgoing.message)
    delivered = len(smtp_server.received)

    # Its lease over, the queue delivers the request again: found in Sent, recorded, not resent.
    assert send_queued(aws) == 1
    assert len(smtp_server.received) == delivered
    (conversation,) = conversations_of(account.id)
    reply = next(m for m in messages_of(conversation["id"]) if m["direction"] == "out")
    assert (reply["status"], reply["message_id"]) == ("sent", outgoing.message_id)


def test_two_auto_responders_of_the_product_facing_each_other_reply_once(
    aws: LocalResources,
    dovecot: LocalDovecot,
    smtp_server: SmtpServer,
    mail_user: MailUser,
    accented_mail_user: MailUser,
) -> None:
    """Two accounts of the product, each the other's correspondent, on one Dovecot/aiosmtpd pair
    (the test delivers what aiosmtpd accepts into the addressee's Dovecot mailbox, as an MTA would),
    both answering everything at once (no cooldown): the first mail gets one auto-reply, and that
    auto-reply none (Auto-Submitted), however many rounds run."""
    from inbox.email import polling
    from mailboxes import append

    with function_variables(aws, "poll_email", "route", "send", "settings_api"):
        users = {mail_user.username: mail_user, accented_mail_user.username: accented_mail_user}
        accounts = {}
        for user in users.values():
            created = create_imap_account(
                host=dovecot.host,
                port=dovecot.port,
                security="none",
                username=user.username,
                password=user.password,
                address=user.username,
                smtp_port=smtp_server.port,
                smtp_security="none",
                backfill_days=0,  # only what arrives from now on
            )
            rules = {
                "enabled": True,
                "cooldown_minutes": 0,
                "rules": [{"trigger": "always", "message": "Absent."}],
            }
            assert call_api("PUT", f"/v1/accounts/{created['id']}/auto-reply", body=rules).status == 200
            accounts[user.username] = created["id"]
        for account_id in accounts.values():
            polling.poll_mailbox(account_id, seconds=30)  # the cursors start at the end of each mailbox

        first = EmailMessage()
        first["From"] = accented_mail_user.username
        first["To"] = mail_user.username
        first["Subject"] = "Bonjour"
        first["Message-ID"] = "<start-of-the-loop@mail-client.example>"  # not on the accounts' domain
        first.set_content("Êtes-vous là ?")
        append(dovecot, mail_user, first.as_bytes())
        start = len(smtp_server.received)
        for _ in range(3):  # rounds: poll both, route, send, deliver what went out
            for account_id in accounts.values():
                polling.poll_mailbox(account_id, seconds=30)
            drain_inbound(aws)
            send_queued(aws)
            for sent in smtp_server.received[start:]:
                for recipient in sent.recipients:
                    append(dovecot, users[recipient], sent.content)
            start = len(smtp_server.received)
        replies = [
            m
            for account_id in accounts.values()
            for conversation in conversations_of(account_id)
            for m in messages_of(conversation["id"])
            if m["direction"] == "out"
        ]
        assert [(r["subject"], r["status"]) for r in replies] == [("Auto: Bonjour", "sent")]
        # The other side received that auto-reply, and left it unanswered as an automatic message.
        (received,) = conversations_of(accounts[accented_mail_user.username])
        assert received["subject"] == "Auto: Bonjour"
        decision = call_api("GET", f"/v1/conversations/{received['id']}").body["routing"]["auto_reply"][
            "decision"
        ]
        assert decision["reason"] == "automatic_message"


def test_an_agents_html_reply_goes_out_in_the_thread_with_the_agents_own_signature_once(
    aws: LocalResources, account: Account, smtp_server: SmtpServer, dovecot: LocalDovecot, mail_user: MailUser
) -> None:
    alice = {"id": "alice", "name": "Alice", "email": "alice@shop.example"}
    assert call_api("POST", "/v1/users", body=alice).status == 201
    default = {"name": "Équipe", "html": "<p>L'équipe Acmé</p>", "default_for_account": True}
    own = {"name": "Alice", "html": "<p><i>Alice, service client</i></p>", "user_ids": ["alice"]}
    for signature in (default, own):
        assert call_api("POST", f"/v1/accounts/{account.id}/signatures", body=signature).status == 201
    mail = customer_mail("Commande 77", "c77@customer.example", References="<c76@customer.example>")
    arrives(account, mail, uid="77")
    drain_inbound(aws)
    (conversation,) = conversations_of(account.id)
    before = len(smtp_server.received)

    html = "<p>Bonjour,</p><p>Votre commande part <b>demain</b>.</p><script>alert(1)</script>"
    answer = call_api(
        "POST", f"/v1/conversations/{conversation['id']}/messages", body={"html": html}, user="alice"
    )

    assert answer.status == 202, answer.body
    assert "<script>" not in answer.body["html"]
    assert answer.body["subject"] == "Re: Commande 77"
    assert send_queued(aws) == 1
    (received,) = smtp_server.received[before:]
    assert list(received.recipients) == ["ana@customer.example"]
    sent = email.message_from_bytes(received.content, policy=policy.default)
    assert str(sent["Subject"]) == "Re: Commande 77"
    assert sent["Auto-Submitted"] is None
    assert str(sent["In-Reply-To"]) == "<c77@customer.example>"
    assert str(sent["References"]).split() == ["<c76@customer.example>", "<c77@customer.example>"]
    plain = sent.get_body(preferencelist=("plain",))
    rich = sent.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    assert "Votre commande part demain." in plain.get_content()
    assert rich.get_content().count("Alice, service client") == 1
    assert "L'équipe Acmé" not in rich.get_content()  # the agent's own signature, not the default
    assert "alert(1)" not in rich.get_content()
    message_id = str(sent["Message-ID"]).strip("<>")
    assert already_in_sent(account_config(account), mail_user.password, message_id)
    reply = next(m for m in messages_of(conversation["id"]) if m["direction"] == "out")
    assert (reply["status"], reply["sent_by"], reply["message_id"]) == ("sent", "alice", message_id)

    # The customer answers the agent: the answer joins the conversation.
    answer_mail = customer_mail("Re: Commande 77", "c78@customer.example", In_Reply_To=f"<{message_id}>")
    arrives(account, answer_mail, uid="78")
    drain_inbound(aws)
    assert [c["id"] for c in conversations_of(account.id)] == [conversation["id"]]


def test_an_email_conversation_started_by_the_team_goes_out_and_its_answer_joins_it(
    aws: LocalResources, account: Account, smtp_server: SmtpServer
) -> None:
    before = len(smtp_server.received)
    body = {"account_id": account.id, "to": "paul@customer.example", "text": "Votre devis est prêt."}

    untitled = call_api("POST", "/v1/conversations", body=body)
    answer = call_api("POST", "/v1/conversations", body={**body, "subject": "Votre devis"})

    assert (untitled.status, untitled.body["error"]["details"][0]["field"]) == (422, "subject")
    assert answer.status == 201, answer.body
    assert send_queued(aws) == 1
    (received,) = smtp_server.received[before:]
    assert list(received.recipients) == ["paul@customer.example"]
    sent = email.message_from_bytes(received.content, policy=policy.default)
    assert str(sent["Subject"]) == "Votre devis"
    assert sent["In-Reply-To"] is None
    message_id = str(sent["Message-ID"]).strip("<>")

    answer_mail = customer_mail("Re: Votre devis", "p2@customer.example", In_Reply_To=f"<{message_id}>")
    arrives(account, answer_mail, uid="90")
    drain_inbound(aws)
    assert [c["id"] for c in conversations_of(account.id)] == [answer.body["id"]]
