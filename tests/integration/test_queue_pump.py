"""The local queue pump against moto's SQS: Lambda's batch semantics, retries and redrive."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from inbox.local.functions import LocalFunction
from inbox.local.pump import QueuePump
from inbox.local.template import EventSource, FunctionResource

CONSUMER_DIR = Path(__file__).parent / "fixtures"


class Harness:
    def __init__(self, tmp_path: Path, *, fifo: bool = False, report_failures: bool = True) -> None:
        self.batches_file = tmp_path / "batches.jsonl"
        self.sqs = boto3.client("sqs")
        suffix = ".fifo" if fifo else ""
        fifo_attributes = {"FifoQueue": "true"} if fifo else {}
        dlq = self.sqs.create_queue(QueueName=f"dead{suffix}", Attributes=fifo_attributes)["QueueUrl"]
        self.dlq_url = dlq
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.queue_url = self.sqs.create_queue(
            QueueName=f"work{suffix}",
            Attributes={
                **fifo_attributes,
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
            },
        )["QueueUrl"]
        self.function = LocalFunction(
            FunctionResource("Consumer", "consumer", "recording_consumer.handler", 30, 128, {}),
            code_dir=CONSUMER_DIR,
            environment={"BATCHES": str(self.batches_file)},
        )
        self.pump = QueuePump(
            EventSource("Work", "Consumer", batch_size=10, report_batch_item_failures=report_failures),
            queue_url=self.queue_url,
            queue_arn="arn:aws:sqs:us-east-1:123456789012:work",
            function=self.function,
        )
        self.pump._sqs = self.sqs

    def send(self, *bodies: str, group: str | None = None) -> None:
        for i, body in enumerate(bodies):
            extra: dict[str, Any] = (
                {"MessageGroupId": group, "MessageDeduplicationId": f"{body}-{i}"} if group else {}
            )
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body, **extra)

    def drain(self, rounds: int = 10) -> None:
        for _ in range(rounds):
            self.pump.pump_once()

    def batches(self) -> list[dict[str, Any]]:
        if not self.batches_file.exists():
            return []
        return [json.loads(line) for line in self.batches_file.read_text().splitlines()]

    def bodies_left(self, url: str) -> list[str]:
        received = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return sorted(m["Body"] for m in received.get("Messages", []))


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with mock_aws():
        made = Harness(tmp_path)
        yield made
        made.function.stop()


@pytest.fixture
def make_harness(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(**options: bool) -> Harness:
        made.append(Harness(tmp_path, **options))
        return made[-1]

    with mock_aws():
        yield make
    for harness in made:
        harness.function.stop()


def test_a_batch_that_succeeds_is_deleted(harness: Harness) -> None:
    harness.send("a", "b", "c")

    harness.drain(rounds=1)

    assert sorted(harness.batches()[0]["bodies"]) == ["a", "b", "c"]
    assert harness.bodies_left(harness.queue_url) == []


def test_a_reported_failure_is_retried_then_moved_to_the_dead_letter_queue(harness: Harness) -> None:
    harness.send("ok", "fail")

    harness.drain()

    deliveries = [body for batch in harness.batches() for body in batch["bodies"]]
    assert deliveries.count("ok") == 1
    assert deliveries.count("fail") == 2  # maxReceiveCount
    assert harness.bodies_left(harness.dlq_url) == ["fail"]
    assert harness.bodies_left(harness.queue_url) == []


def test_a_handler_that_raises_fails_the_whole_batch(harness: Harness) -> None:
    harness.send("boom", "innocent")

    harness.drain()

    assert harness.bodies_left(harness.dlq_url) == ["boom", "innocent"]


def test_without_report_batch_item_failures_a_returned_list_is_ignored(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(report_failures=False)
    harness.send("fail")

    harness.drain()

    assert harness.bodies_left(harness.dlq_url) == []
    assert len(harness.batches()) == 1


def test_a_fifo_group_is_delivered_in_order(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(fifo=True)
    harness.send("1", "2", "3", group="contact-a")

    harness.drain(rounds=3)

    deliveries = [body for batch in harness.batches() for body in batch["bodies"]]
    assert deliveries == ["1", "2", "3"]
    assert {g for batch in harness.batches() for g in batch["groups"]} == {"contact-a"}
