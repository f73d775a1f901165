"""functions/send: outbound WhatsApp messages delivered once through Meta or Twilio (loopback HTTP
stand-ins), each outcome recorded on the message (moto)."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import builders
from builders import call_api, invoke_handler
from inbox.conversations import AUTO_REPLY, Direction, Message, MessageStatus
from inbox.delivery.outcomes import SendResult
from inbox.delivery.queue import OutboundRequest
from inbox.delivery.sender import Outcome, RetryLater, backoff_seconds, deliver
from inbox.ids import new_id
from inbox.local.resources import LocalResources
from inbox.store import dynamo, items
from inbox.store.conversations import ConversationStore, message_item, message_key

TWILIO_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "0123456789abcdef" * 2
META_TOKEN = "EAAG-secret-token"
TWILIO_TOKEN = "twilio-secret"
PHONE_NUMBER_ID = "10987654321"
CONTACT = "+33611223344"
WAMID = "wamid.HBgLMzM2MTEyMjMzNDQVAgARGBI1"
TWILIO_MESSAGES = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
META_MESSAGES = f"/graph/{PHONE_NUMBER_ID}/messages"
REPLY = "Merci ! Nous sommes fermés, nous répondons dès 9 h."


@pytest.fixture
def queue_url(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> str:
    [url] = [
        u
        for logical_id, u in aws.queue_urls.items()
        if logical_id.startswith("OutboundQueue") and "DeadLetters" not in logical_id
    ]
    monkeypatch.setenv("INBOX_OUTBOUND_QUEUE_URL", url)
    return url


@pytest.fixture(autouse=True)
def providers(httpserver: HTTPServer, queue_url: str, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """Graph and Twilio stand-ins on one loopback server."""
    monkeypatch.setenv("INBOX_META_GRAPH_URL", httpserver.url_for("/graph"))
    monkeypatch.setenv("INBOX_TWILIO_API_URL", httpserver.url_for("/twilio"))
    return httpserver


# Builders


def meta_account() -> dict[str, Any]:
    return create_account(
        {
            "provider": "meta_cloud",
            "name": "WhatsApp FR",
            "address": "+33 6 12 34 56 78",
            "config": {"waba_id": "1234567890", "phone_number_id": PHONE_NUMBER_ID},
            "credentials": {"access_token": META_TOKEN},
        }
    )


def twilio_account(**config: str) -> dict[str, Any]:
    return create_account(
        {
            "provider": "twilio",
            "name": "WhatsApp US",
            "address": "+14155550100",
            "config": {"account_sid": TWILIO_SID, **config},
            "credentials": {"auth_token": TWILIO_TOKEN},
        }
    )


def create_account(body: dict[str, Any]) -> dict[str, Any]:
    answer = call_api("POST", "/v1/accounts", body=body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def queued_reply(account: dict[str, Any], text: str = REPLY) -> tuple[Message, OutboundRequest]:
    """An auto-reply stored `queued`, and the outbound-queue request naming it."""
    message = Message(
        id=new_id("msg"),
        conversation_id=new_id("conv"),
        account_id=account["id"],
        direction=Direction.OUT,
        text=text,
        sent_by=AUTO_REPLY,
        status=MessageStatus.QUEUED,
        created_at=datetime.now(UTC),
    )
    dynamo.table().put_item(Item=message_item(message))
    key = message_key(message)
    request = OutboundRequest(
        account_id=account["id"],
        conversation_id=message.conversation_id,
        message_pk=key["pk"],
        message_sk=key["sk"],
        to=CONTACT,
    )
    return message, request


def stored(message: Message) -> dict[str, Any]:
    return dict(dynamo.table().get_item(Key=message_key(message), ConsistentRead=True)["Item"])


def stored_message(message: Message) -> Message:
    return items.from_item(Message, stored(message))


def sqs_record(
    request: OutboundRequest, message_id: str, *, receipt: str = "r", receives: int = 1
) -> dict[str, Any]:
    return builders.sqs_record(
        request.model_dump_json(), message_id, queue="OutboundQueue", receipt=receipt, receives=receives
    )


def queued_record(queue_url: str, request: OutboundRequest) -> dict[str, Any]:
    """The request put on the outbound queue and received, as Lambda would hand it over."""
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queue_url, MessageBody=request.model_dump_json())
    [received] = receive(queue_url)
    return sqs_record(
        request,
        received["MessageId"],
        receipt=received["ReceiptHandle"],
        receives=int(received["Attributes"]["ApproximateReceiveCount"]),
    )


def receive(queue_url: str) -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    )
    return list(answer.get("Messages", []))


def send_function(*records: dict[str, Any]) -> dict[str, Any]:
    return dict(invoke_handler("send", {"Records": list(records)}))


def graph_accepts(httpserver: HTTPServer, wamid: str = WAMID) -> None:
    httpserver.expect_oneshot_request(META_MESSAGES, method="POST").respond_with_json(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": CONTACT, "wa_id": "33611223344"}],
            "messages": [{"id": wamid}],
        }
    )


def graph_error(httpserver: HTTPServer, status: int, error: dict[str, Any], **headers: str) -> None:
    httpserver.expect_oneshot_request(META_MESSAGES, method="POST").respond_with_json(
        {"error": error}, status=status, headers=headers
    )


def provider_calls(httpserver: HTTPServer) -> list[Request]:
    return [request for request, _ in httpserver.log]


# Meta


def test_a_meta_reply_is_sent_as_text_with_the_token_and_recorded_with_its_wamid(
    httpserver: HTTPServer,
) -> None:
    # Given a Meta account and a queued auto-reply
    account = meta_account()
    message, request = queued_reply(account)
    graph_accepts(httpserver)

    # When the sender delivers it
    outcome = deliver(request)

    # Then Graph received the text message, with the account's token
    assert outcome is Outcome.SENT
    [call] = provider_calls(httpserver)
    assert call.headers["Authorization"] == f"Bearer {META_TOKEN}"
    assert call.get_json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CONTACT,
        "type": "text",
        "text": {"body": REPLY},
    }
    # And the message is sent, with Meta's id, and Meta's status reports will find it
    sent = stored_message(message)
    assert (sent.status, sent.provider_message_id, sent.error) == (MessageStatus.SENT, WAMID, None)
    assert sent.sent_at is not None
    assert "sending_since" not in stored(message)
    assert ConversationStore().message_by_provider_id(account["id"], WAMID) == message_key(message)


def test_a_closed_window_fails_the_message_with_meta_code_131047(httpserver: HTTPServer) -> None:
    # Given a contact who last wrote more than 24 hours ago
    account = meta_account()
    message, request = queued_reply(account)
    graph_error(
        httpserver,
        400,
        {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Message failed to send because more than 24 hours have passed since the customer "
                "last replied to this number.",
            },
            "fbtrace_id": "AbCdEf",
        },
    )

    # When the sender delivers a free-text reply
    outcome = deliver(request)

    # Then the message failed, marked as a closed window, with Meta's explanation
    assert outcome is Outcome.FAILED
    failed = stored_message(message)
    assert failed.status is MessageStatus.FAILED
    assert failed.error is not None
    assert (failed.error.code, failed.error.window_closed) == ("131047", True)
    assert "24 hours" in str(failed.error.message)
    assert failed.provider_message_id is None


def test_another_refusal_fails_the_message_with_the_providers_code_and_is_not_retried(
    httpserver: HTTPServer,
) -> None:
    account = meta_account()
    message, request = queued_reply(account)
    graph_error(httpserver, 400, {"message": "(#131026) Message undeliverable", "code": 131026})

    assert deliver(request) is Outcome.FAILED

    error = stored_message(message).error
    assert error is not None
    assert (error.code, error.window_closed) == ("131026", None)


def test_a_rejected_meta_token_fails_the_message_and_puts_the_account_in_error(
    httpserver: HTTPServer,
) -> None:
    # Given a Meta account whose token has expired
    account = meta_account()
    message, request = queued_reply(account)
    graph_error(
        httpserver,
        401,
        {
            "message": "Error validating access token: Session has expired on Tuesday.",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "Xyz",
        },
    )

    # When the sender delivers a reply
    outcome = deliver(request)

    # Then the message failed and the account shows error, saying why (and no token)
    assert outcome is Outcome.CREDENTIALS_REJECTED
    failed = stored_message(message)
    assert failed.status is MessageStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == "credentials_rejected"
    shown = call_api("GET", f"/v1/accounts/{account['id']}").body
    assert shown["status"] == "error"
    assert "Meta refused the account's access token" in shown["status_reason"]
    assert META_TOKEN not in shown["status_reason"]


def test_a_token_the_admin_just_replaced_is_used_at_once_though_the_old_one_was_cached(
    httpserver: HTTPServer,
) -> None:
    # Given a Meta account that has sent with its token (now cached), and the admin giving a new one
    account = meta_account()
    _, first = queued_reply(account)
    graph_accepts(httpserver, "wamid.first")
    assert deliver(first) is Outcome.SENT
    changed = call_api(
        "PATCH", f"/v1/accounts/{account['id']}", body={"credentials": {"access_token": "EAAG-new"}}
    )
    assert changed.status == 200

    # And Meta now refusing the old token
    def graph(request: Request) -> Response:
        if request.headers["Authorization"] == "Bearer EAAG-new":
            return Response('{"messages": [{"id": "wamid.second"}]}', content_type="application/json")
        return Response('{"error": {"code": 190, "message": "Invalid token"}}', status=401)

    httpserver.expect_request(META_MESSAGES, method="POST").respond_with_handler(graph)
    message, second = queued_reply(account)

    # When the sender delivers the next reply
    outcome = deliver(second)

    # Then it is sent with the new token, and the account stays active
    assert outcome is Outcome.SENT
    assert stored_message(message).provider_message_id == "wamid.second"
    tokens = [call.headers["Authorization"] for call in provider_calls(httpserver)]
    assert tokens == [f"Bearer {META_TOKEN}", f"Bearer {META_TOKEN}", "Bearer EAAG-new"]
    assert call_api("GET", f"/v1/accounts/{account['id']}").body["status"] == "active"


# Twilio


def test_a_twilio_reply_is_posted_as_a_form_with_basic_auth_and_recorded_with_its_sid(
    httpserver: HTTPServer,
) -> None:
    # Given a Twilio account and a queued auto-reply
    account = twilio_account()
    message, request = queued_reply(account)
    httpserver.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_json(
        {"sid": "SM" + "1" * 32, "status": "queued"}, status=201
    )

    # When the sender delivers it
    outcome = deliver(request)

    # Then Twilio received the form, authenticated with the account's SID and token
    assert outcome is Outcome.SENT
    [call] = provider_calls(httpserver)
    expected_auth = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert call.headers["Authorization"] == f"Basic {expected_auth}"
    assert call.form.to_dict() == {
        "From": "whatsapp:+14155550100",
        "To": f"whatsapp:{CONTACT}",
        "Body": REPLY,
    }
    # And the message is sent with Twilio's sid, which its status callbacks will name
    assert stored_message(message).provider_message_id == "SM" + "1" * 32
    assert ConversationStore().message_by_provider_id(account["id"], "SM" + "1" * 32) == message_key(message)


def test_a_twilio_messaging_service_sends_instead_of_the_number_and_statuses_come_back_to_the_webhook(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_PUBLIC_URL", "https://api.example.com/")
    account = twilio_account(messaging_service_sid=SERVICE_SID)
    _, request = queued_reply(account)
    httpserver.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_json(
        {"sid": "SM" + "2" * 32}, status=201
    )

    assert deliver(request) is Outcome.SENT

    [call] = provider_calls(httpserver)
    assert call.form.to_dict() == {
        "MessagingServiceSid": SERVICE_SID,
        "To": f"whatsapp:{CONTACT}",
        "Body": REPLY,
        "StatusCallback": f"https://api.example.com/webhooks/whatsapp/twilio/{account['id']}/status",
    }


def test_a_rejected_twilio_token_fails_the_message_and_puts_the_account_in_error(
    httpserver: HTTPServer,
) -> None:
    account = twilio_account()
    message, request = queued_reply(account)
    httpserver.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_json(
        {
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        },
        status=401,
    )

    assert deliver(request) is Outcome.CREDENTIALS_REJECTED

    assert stored_message(message).status is MessageStatus.FAILED
    shown = call_api("GET", f"/v1/accounts/{account['id']}").body
    assert shown["status"] == "error"
    assert "error 20003" in shown["status_reason"]
    assert TWILIO_TOKEN not in shown["status_reason"]


# Exactly once


def test_the_same_request_delivered_twice_calls_the_provider_once(httpserver: HTTPServer) -> None:
    # Given a queued reply, and SQS handing its request over twice in one batch, then again later
    account = meta_account()
    message, request = queued_reply(account)
    graph_accepts(httpserver)

    # When the send function processes them
    first = send_function(sqs_record(request, "m1"), sqs_record(request, "m2"))
    later = send_function(sqs_record(request, "m3"))

    # Then Meta was called once, nothing is retried, and the message is sent once
    assert first == later == {"batchItemFailures": []}
    assert len(provider_calls(httpserver)) == 1
    assert stored_message(message).provider_message_id == WAMID


def test_a_request_arriving_while_its_message_is_being_sent_waits_and_sends_nothing() -> None:
    # Given a delivery in progress (the provider has not answered yet)
    account = meta_account()
    message, request = queued_reply(account)
    calls: list[str] = []
    overlapping: list[RetryLater] = []

    def slow_provider(
        account: Any, credentials: Any, *, to: str, text: str, template: Any = None
    ) -> SendResult:
        calls.append(to)
        # When the same request is delivered again meanwhile
        with pytest.raises(RetryLater) as waiting:
            deliver(request, send=slow_provider)
        overlapping.append(waiting.value)
        return SendResult(WAMID)

    outcome = deliver(request, send=slow_provider)

    # Then only the first called the provider; the second is told to come back after the lease
    assert outcome is Outcome.SENT
    assert calls == [CONTACT]
    [retry] = overlapping
    assert retry.delay is not None
    assert 60 < retry.delay <= 300
    assert stored_message(message).status is MessageStatus.SENT


# Retries


def test_a_throttled_send_is_retried_after_retry_after_and_then_sent(
    httpserver: HTTPServer, queue_url: str
) -> None:
    # Given a queued reply whose request is on the outbound queue, and Meta throttling
    account = meta_account()
    message, request = queued_reply(account)
    record = queued_record(queue_url, request)
    graph_error(
        httpserver, 429, {"message": "(#130429) Rate limit hit", "code": 130429}, **{"Retry-After": "1"}
    )

    # When the send function processes it
    answer = send_function(record)

    # Then the record is reported failed, the message is queued again (not sent) ...
    assert answer == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert stored(message)["status"] == "queued"
    assert "sending_since" not in stored(message)
    assert stored_message(message).provider_message_id is None
    # ... and it is hidden for the second Meta asked for, not the queue's three minutes
    assert receive(queue_url) == []
    time.sleep(1.2)
    [again] = receive(queue_url)
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"

    # When Meta accepts on the retry
    graph_accepts(httpserver)
    retried = sqs_record(request, again["MessageId"], receipt=again["ReceiptHandle"], receives=2)

    # Then it is sent
    assert send_function(retried) == {"batchItemFailures": []}
    assert stored_message(message).status is MessageStatus.SENT
    assert len(provider_calls(httpserver)) == 2


def test_a_provider_outage_puts_the_message_back_and_reports_the_record_failed(
    httpserver: HTTPServer, queue_url: str
) -> None:
    account = twilio_account()
    message, request = queued_reply(account)
    record = queued_record(queue_url, request)
    httpserver.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_response(
        Response("Service Unavailable", status=503)
    )

    answer = send_function(record)

    assert answer == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert stored(message)["status"] == "queued"
    assert receive(queue_url) == []


def test_an_unreachable_provider_puts_the_message_back_for_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Graph refusing connections
    account = meta_account()
    message, request = queued_reply(account)
    monkeypatch.setenv("INBOX_META_GRAPH_URL", "http://127.0.0.1:1")

    # When the sender delivers the reply, Then it is to be retried, and the message is queued again
    with pytest.raises(RetryLater):
        deliver(request)
    assert stored(message)["status"] == "queued"


def test_retries_back_off_from_30_seconds_to_at_most_15_minutes_unless_the_provider_says_when() -> None:
    assert [backoff_seconds(count, None) for count in (1, 2, 3, 4, 5, 9)] == [30, 60, 120, 240, 480, 900]
    assert backoff_seconds(3, 12.2) == 13
    assert backoff_seconds(1, 7200) == 900


# Accounts


def test_a_reply_for_a_paused_account_is_failed_not_sent(httpserver: HTTPServer) -> None:
    # Given an account paused after its auto-reply was queued
    account = meta_account()
    message, request = queued_reply(account)
    assert call_api("POST", f"/v1/accounts/{account['id']}/pause").status == 200

    # When the sender delivers it
    outcome = deliver(request)

    # Then nothing is sent, and the message says why (an auto-reply sent on resume would be stale)
    assert outcome is Outcome.ACCOUNT_PAUSED
    assert provider_calls(httpserver) == []
    failed = stored_message(message)
    assert failed.status is MessageStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == "account_paused"


def test_a_request_for_a_message_that_does_not_exist_is_dropped(httpserver: HTTPServer) -> None:
    account = meta_account()
    _, request = queued_reply(account)
    missing = request.model_copy(update={"message_sk": "MSG#2026-01-01T00:00:00+00:00#msg_gone"})

    assert deliver(missing) is Outcome.NOT_FOUND
    assert provider_calls(httpserver) == []
    assert "Item" not in dynamo.table().get_item(Key={"pk": missing.message_pk, "sk": missing.message_sk})
