"""inbox.email.api_sending: the Gmail API and Graph's sendMail (loopback HTTP stand-ins), each
answer mapped to a send outcome, the access token in none of them."""

from __future__ import annotations

import base64
import email
import json
import socket
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from inbox.delivery.outcomes import CredentialsRejected, SendLater, SendRefused, SendResult
from inbox.email.api_sending import send_gmail, send_graph

TOKEN = "ya29.secret-access-token"
MESSAGE_ID = "20240101.abc123@shop.example"
SUBJECT = "Re: Votre commande"
GMAIL_SEND = "/gmail/v1/users/me/messages/send"
GRAPH_SEND = "/v1.0/me/sendMail"


def outgoing(message_id: str | None = MESSAGE_ID) -> EmailMessage:
    message = EmailMessage()
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    message["From"] = "Boutique <support@shop.example>"
    message["To"] = "client@example.org"
    message["Subject"] = SUBJECT
    message.set_content("Bonjour, votre commande est partie.")
    return message


def gmail(httpserver: HTTPServer, thread_id: str | None = None, timeout: float = 30) -> SendResult:
    return send_gmail(
        TOKEN, outgoing(), thread_id=thread_id, api_url=httpserver.url_for("/"), timeout=timeout
    )


def graph(httpserver: HTTPServer, timeout: float = 30) -> SendResult:
    return send_graph(TOKEN, outgoing(), graph_url=httpserver.url_for("/"), timeout=timeout)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def only_request(httpserver: HTTPServer) -> Request:
    [(request, _)] = httpserver.log
    return request


# Gmail


def test_gmail_sends_the_raw_message_in_the_given_thread(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(GMAIL_SEND, method="POST").respond_with_json(
        {"id": "18c0ffee", "threadId": "thread-1", "labelIds": ["SENT"]}
    )

    result = gmail(httpserver, thread_id="thread-1")

    assert result == SendResult(provider_message_id=MESSAGE_ID)
    request = only_request(httpserver)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = json.loads(request.get_data())
    assert set(body) == {"raw", "threadId"}
    assert body["threadId"] == "thread-1"
    sent = parsed(base64.urlsafe_b64decode(body["raw"]))
    assert sent["Subject"] == SUBJECT
    assert sent["Message-ID"] == f"<{MESSAGE_ID}>"
    assert sent.get_content().strip() == "Bonjour, votre commande est partie."


def test_gmail_without_a_thread_sends_no_thread_id(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(GMAIL_SEND, method="POST").respond_with_json({"id": "18c0ffee"})

    assert gmail(httpserver).provider_message_id == MESSAGE_ID

    body = json.loads(only_request(httpserver).get_data())
    assert set(body) == {"raw"}
    assert parsed(base64.urlsafe_b64decode(body["raw"]))["Message-ID"] == f"<{MESSAGE_ID}>"


# Graph


def test_graph_sends_the_mime_message_base64_as_text(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(GRAPH_SEND, method="POST").respond_with_data("", status=202)

    assert graph(httpserver) == SendResult(provider_message_id=MESSAGE_ID)

    request = only_request(httpserver)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("text/plain")
    sent = parsed(base64.b64decode(request.get_data(), validate=True))
    assert sent["Subject"] == SUBJECT
    assert sent["Message-ID"] == f"<{MESSAGE_ID}>"


# Outcomes, both providers

Send = Callable[[HTTPServer], SendResult]
PROVIDERS = [
    pytest.param(gmail, GMAIL_SEND, "gmail", "Google", id="gmail"),
    pytest.param(graph, GRAPH_SEND, "graph", "Microsoft", id="graph"),
]


def answer_error(httpserver: HTTPServer, path: str, status: int, body: Any, **headers: str) -> None:
    httpserver.expect_oneshot_request(path, method="POST").respond_with_json(
        body, status=status, headers=headers
    )


@pytest.mark.parametrize(("send", "path", "prefix", "provider"), PROVIDERS)
def test_401_is_credentials_rejected(
    httpserver: HTTPServer, send: Send, path: str, prefix: str, provider: str
) -> None:
    answer_error(httpserver, path, 401, {"error": {"code": 401, "message": f"Bad token {TOKEN}"}})

    with pytest.raises(CredentialsRejected) as rejected:
        send(httpserver)

    assert provider in rejected.value.reason
    assert "reconnect the account" in rejected.value.reason
    assert TOKEN not in str(rejected.value)


@pytest.mark.parametrize(("send", "path", "prefix", "provider"), PROVIDERS)
def test_429_is_send_later_after_retry_after(
    httpserver: HTTPServer, send: Send, path: str, prefix: str, provider: str
) -> None:
    answer_error(httpserver, path, 429, {"error": {"message": "Too many requests"}}, **{"Retry-After": "17"})

    with pytest.raises(SendLater) as later:
        send(httpserver)

    assert later.value.retry_after == 17
    assert TOKEN not in str(later.value)


@pytest.mark.parametrize(("send", "path", "prefix", "provider"), PROVIDERS)
def test_500_is_send_later(httpserver: HTTPServer, send: Send, path: str, prefix: str, provider: str) -> None:
    answer_error(httpserver, path, 500, {"error": {"message": f"Backend error for {TOKEN}"}})

    with pytest.raises(SendLater) as later:
        send(httpserver)

    assert later.value.retry_after is None
    assert TOKEN not in str(later.value)


@pytest.mark.parametrize(("send", "path", "prefix", "provider"), PROVIDERS)
def test_400_is_refused_with_the_providers_words(
    httpserver: HTTPServer, send: Send, path: str, prefix: str, provider: str
) -> None:
    words = f"Invalid To header (token {TOKEN})"
    answer_error(httpserver, path, 400, {"error": {"code": "ErrorInvalidRecipients", "message": words}})

    with pytest.raises(SendRefused) as refused:
        send(httpserver)

    assert refused.value.code == f"{prefix}_400"
    assert refused.value.message == "Invalid To header (token [hidden])"
    assert TOKEN not in str(refused.value)


@pytest.mark.parametrize(
    "send_to",
    [
        pytest.param(
            lambda url: send_gmail(TOKEN, outgoing(), thread_id=None, api_url=url, timeout=2), id="gmail"
        ),
        pytest.param(lambda url: send_graph(TOKEN, outgoing(), graph_url=url, timeout=2), id="graph"),
    ],
)
def test_no_answer_is_send_later(send_to: Callable[[str], SendResult]) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(SendLater) as later:
        send_to(f"http://127.0.0.1:{port}")

    assert later.value.retry_after is None
    assert TOKEN not in str(later.value)


def test_a_message_without_message_id_is_refused_before_any_request(httpserver: HTTPServer) -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        send_gmail(TOKEN, outgoing(None), thread_id=None, api_url=httpserver.url_for("/"))
    with pytest.raises(ValueError, match="Message-ID"):
        send_graph(TOKEN, outgoing(None), graph_url=httpserver.url_for("/"))

    assert httpserver.log == []
