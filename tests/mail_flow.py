"""Mail through the product in one process: an IMAP account made through the API, the stack's
variables for the functions, and the inbound queue drained into the route function."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any

from builders import call_api, invoke_handler, sqs_record
from inbox import aws
from inbox.email.poll_queue import PollJob
from inbox.local.resources import LocalResources
from inbox.local.template import resolve


@contextlib.contextmanager
def function_variables(resources: LocalResources, *functions: str) -> Iterator[None]:
    """The variables the template gives these functions that name resources (queues, bucket),
    resolved against the local resources: what the test's own process then sees too."""
    wanted: dict[str, str] = {}
    for function in resources.template.functions():
        if function.name in functions:
            for name, value in resolve(dict(function.environment), resources.lookup).items():
                if name.startswith("INBOX_") and name != "INBOX_PUBLIC_URL":
                    wanted[name] = str(value)
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def create_imap_account(
    *,
    host: str = "127.0.0.1",
    port: int = 993,
    username: str = "support@shop.example",
    password: str = "secret",
    address: str = "support@shop.example",
    security: str = "ssl",
    **config: Any,
) -> dict[str, Any]:
    answer = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "imap",
            "name": "Support",
            "address": address,
            "config": {
                "imap_host": host,
                "imap_port": port,
                "imap_security": security,
                "smtp_host": host,
                "username": username,
                **config,
            },
            "credentials": {"password": password},
        },
    )
    assert answer.status == 201, answer.body
    return dict(answer.body)


def poll(account_id: str) -> dict[str, Any]:
    """One job of the email-poll queue, run by the poll_email function."""
    record = sqs_record(
        PollJob(account_id=account_id).model_dump_json(), f"job-{time.monotonic_ns()}", group_id=account_id
    )
    result: dict[str, Any] = invoke_handler("poll_email", {"Records": [record]}, timeout_seconds=120)
    return result


def account(account_id: str) -> dict[str, Any]:
    """The account as the API answers it."""
    answer = call_api("GET", f"/v1/accounts/{account_id}")
    assert answer.status == 200, answer.body
    return dict(answer.body)


def queue_url(resources: LocalResources, prefix: str) -> str:
    (url,) = [u for lid, u in resources.queue_urls.items() if lid.startswith(prefix) and "Dead" not in lid]
    return url


def drain_inbound(resources: LocalResources, *, deliveries: int = 1) -> int:
    """Route everything on the inbound queue (each message delivered `deliveries` times, as a
    queue may); how many queue messages were routed."""
    sqs = aws.client("sqs")
    url = queue_url(resources, "InboundQueue")
    routed = 0
    while True:
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not received:
            return routed
        records = [
            sqs_record(
                m["Body"],
                m["MessageId"],
                queue="inbound.fifo",
                group_id=m["Attributes"].get("MessageGroupId"),
                receipt=m["ReceiptHandle"],
            )
            for m in received
        ]
        for _ in range(deliveries):
            result = invoke_handler("route", {"Records": records}, timeout_seconds=60)
            assert result == {"batchItemFailures": []}, result
        for message in received:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        routed += len(received)


def send_queued(resources: LocalResources) -> int:
    """Run the send function on what the outbound queue holds; how many it sent."""
    sqs = aws.client("sqs")
    url = queue_url(resources, "OutboundQueue")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    messages = received.get("Messages", [])
    records = [sqs_record(m["Body"], m["MessageId"], receipt=m["ReceiptHandle"]) for m in messages]
    if records:
        assert invoke_handler("send", {"Records": records}, timeout_seconds=30) == {"batchItemFailures": []}
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return len(records)


def peek_outbound(resources: LocalResources) -> str:
    """The body of the one request on the outbound queue, left there (visible again at once)."""
    sqs = aws.client("sqs")
    (message,) = sqs.receive_message(QueueUrl=queue_url(resources, "OutboundQueue"), VisibilityTimeout=0)[
        "Messages"
    ]
    return str(message["Body"])


def conversations_of(account_id: str) -> list[dict[str, Any]]:
    answer = call_api("GET", "/v1/conversations", query=f"account_id={account_id}&limit=200")
    assert answer.status == 200, answer.body
    return list(answer.body["items"])


def messages_of(conversation_id: str) -> list[dict[str, Any]]:
    answer = call_api("GET", f"/v1/conversations/{conversation_id}/messages", query="limit=200")
    assert answer.status == 200, answer.body
    return list(answer.body["items"])


def quarantine_of(account_id: str) -> list[dict[str, Any]]:
    answer = call_api("GET", f"/v1/accounts/{account_id}/quarantine", query="limit=200")
    assert answer.status == 200, answer.body
    return list(answer.body["items"])


def inbound_messages(account_id: str) -> list[dict[str, Any]]:
    """Every inbound message of the account, as the API answers them."""
    return [
        message
        for conversation in conversations_of(account_id)
        for message in messages_of(conversation["id"])
        if message["direction"] == "in"
    ]


def body_of(answer: dict[str, Any]) -> bytes:
    import base64

    body = answer.get("body") or ""
    return base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()


def as_json(answer: dict[str, Any]) -> Any:
    return json.loads(body_of(answer))
