"""The queue pump: feeds each SQS-triggered function the batches Lambda's event source mapping
would, and deletes what the function reports done.

Failure semantics follow Lambda's: a handler that raises fails the whole batch; with
`ReportBatchItemFailures` only the listed messages fail (an unknown id fails the batch). Failed
messages stay on the queue, come back after the queue's visibility timeout, and SQS itself moves
them to the dead-letter queue after the template's `maxReceiveCount` (moto implements redrive).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

import boto3

from inbox.local.functions import FunctionError, LocalFunction
from inbox.local.template import REGION, EventSource

log = logging.getLogger("local.pump")
IDLE_WAIT_SECONDS = (0.02, 1.0)  # first and longest wait after an empty receive


class QueuePump:
    """`pollers` threads receive batches side by side (Lambda polls a queue with several at once;
    SQS itself keeps a FIFO group's messages in order by hiding them while some are in flight)."""

    def __init__(
        self,
        source: EventSource,
        *,
        queue_url: str,
        queue_arn: str,
        function: LocalFunction,
        pollers: int = 1,
    ) -> None:
        self.source = source
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.function = function
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"pump-{function.name}-{n}", daemon=True)
            for n in range(pollers)
        ]
        self._sqs: Any = None

    def start(self) -> None:
        self._sqs = boto3.client("sqs", region_name=REGION)
        for thread in self._threads:
            thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        idle = IDLE_WAIT_SECONDS[0]
        while not self._stop.is_set():
            try:
                received = self.pump_once()
            except Exception:
                log.exception("pump for %s failed; retrying", self.function.name)
                received = 0
            if received:
                idle = IDLE_WAIT_SECONDS[0]
                continue
            # No long poll (it would hold the local AWS's one lock): wait a little more each time.
            self._stop.wait(idle)
            idle = min(idle * 2, IDLE_WAIT_SECONDS[1])

    def pump_once(self) -> int:
        """Receive one batch, invoke the function, delete what succeeded; the batch's size."""
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self.function.invoke(event)
        except FunctionError as error:
            log.error("%s failed a batch of %d, all to retry: %s", self.function.name, len(messages), error)
            return len(messages)
        failed = self._failed_ids(result, {m["MessageId"] for m in messages})
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        if failed:
            log.info(
                "%s: %d of %d messages failed and will be retried",
                self.function.name,
                len(failed),
                len(messages),
            )
        return len(messages)

    def _failed_ids(self, result: Any, batch: set[str]) -> set[str]:
        if not self.source.report_batch_item_failures:
            return set()
        failures = (result or {}).get("batchItemFailures") or [] if isinstance(result, dict) else []
        ids = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
        if not ids <= batch:
            # Lambda treats an invalid identifier as a failure of the whole batch.
            log.warning(
                "%s reported unknown message ids %s: the whole batch fails", self.function.name, ids - batch
            )
            return batch
        return {i for i in ids if i}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }
