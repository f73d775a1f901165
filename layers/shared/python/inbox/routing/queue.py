"""The inbound queue (FIFO): normalized events from the channels to the router.

The only code that sends to it. One SQS message per event, in order, in batches of ten;
`MessageGroupId` keeps one contact's events in order, `MessageDeduplicationId` (from the
provider's ids) lets SQS drop a provider's retries within its five-minute window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from inbox import aws
from inbox.routing.events import AnyEvent, QueuedEvent, deduplication_id, group_id
from inbox.settings import settings

Event = AnyEvent
BATCH = 10
MAX_BATCH_BYTES = 256 * 1024
SEND_ATTEMPTS = 3


class QueueRefused(RuntimeError):
    """Some events could not be queued after retries; the caller must not acknowledge them."""


class InboundQueue:
    def __init__(self, client: Any | None = None, url: str | None = None) -> None:
        self.client = client if client is not None else aws.client("sqs")
        self.url = url or settings().require("inbound_queue_url")

    def publish(self, events: Sequence[Event]) -> None:
        """Queue every event, in order; raises `QueueRefused` if SQS keeps refusing some."""
        entries = [
            {
                "Id": str(i),
                "MessageBody": QueuedEvent(event=event).model_dump_json(),
                "MessageGroupId": group_id(event),
                "MessageDeduplicationId": deduplication_id(event),
            }
            for i, event in enumerate(events)
        ]
        for batch in _batches(entries):
            self._send(batch)

    def _send(self, batch: list[dict[str, Any]]) -> None:
        pending = batch
        for _ in range(SEND_ATTEMPTS):
            try:
                response = self.client.send_message_batch(QueueUrl=self.url, Entries=pending)
            except (ClientError, BotoCoreError) as error:
                raise QueueRefused(f"SQS refused the batch: {type(error).__name__}") from error
            failed = {f["Id"] for f in response.get("Failed", [])}
            pending = [entry for entry in pending if entry["Id"] in failed]
            if not pending:
                return
        raise QueueRefused(f"{len(pending)} events could not be queued")


def _batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    size = 0
    for entry in entries:
        entry_size = len(entry["MessageBody"].encode())
        if not batches or len(batches[-1]) == BATCH or size + entry_size > MAX_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry_size
    return batches
