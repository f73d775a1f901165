"""The outbound queue: messages to deliver (auto-replies now, agents' replies later).

A request names the stored message; the sender claims it (`queued` → `sending`) before calling
the provider, so a redelivered request never sends twice.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from inbox import aws
from inbox.model import Model
from inbox.settings import settings


class OutboundRequest(Model):
    account_id: str
    conversation_id: str
    message_pk: str
    message_sk: str
    to: str  # the contact's address (E.164 on WhatsApp)


class NotPostponed(Exception):
    """SQS would not hide the message: it comes back after the queue's own visibility timeout."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class OutboundQueue:
    def __init__(self, client: Any | None = None, url: str | None = None) -> None:
        self.client = client if client is not None else aws.client("sqs")
        self.url = url or settings().require("outbound_queue_url")

    def send(self, request: OutboundRequest) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=request.model_dump_json())

    def postpone(self, receipt_handle: str, seconds: int) -> None:
        """Hide a received message for `seconds`, its next attempt then; `NotPostponed` if SQS refuses."""
        try:
            self.client.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except ClientError as error:
            raise NotPostponed(error.response["Error"]["Code"]) from error
