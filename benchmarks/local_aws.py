"""What the benchmarks share: the stack's tables and queues in moto, and a count of the AWS
requests the code under measure makes (botocore's `before-call` event, on every client)."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "inbox",
        "POWERTOOLS_METRICS_NAMESPACE": "Inbox",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


class RequestCount:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, event_name: str, **_: Any) -> None:
        self.calls[event_name.split(".", 1)[1]] += 1

    def reset(self) -> None:
        self.calls.clear()

    def total(self, service: str | None = None) -> int:
        return sum(n for op, n in self.calls.items() if service is None or op.startswith(f"{service}."))

    def describe(self) -> str:
        return ", ".join(f"{n} {op}" for op, n in sorted(self.calls.items())) or "none"


@contextmanager
def moto_stack() -> Iterator[tuple[Any, RequestCount]]:
    """The stack's resources in in-process moto (tuned as the local stack's), with INBOX_* variables
    pointing at them, and the request counter attached to the session every client is made from."""
    import boto3
    from moto import mock_aws

    from inbox.local import resources
    from inbox.local.aws_server import cheaper_sqs
    from inbox.local.stack import synthesize
    from inbox.local.template import Template

    template = Template.load(synthesize(ROOT))
    counter = RequestCount()
    cheaper_sqs()  # moto's own costs as the local stack's AWS has them, not the product's
    with mock_aws():
        # moto resets boto3's default session when it starts: attach to the one clients use from now.
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call", counter)
        created = resources.create_all(template, api_url="http://bench.test")
        (table,) = created.tables.values()
        os.environ["INBOX_TABLE_NAME"] = table
        for prefix, variable in (
            ("InboundQueue", "INBOX_INBOUND_QUEUE_URL"),
            ("OutboundQueue", "INBOX_OUTBOUND_QUEUE_URL"),
            ("EmailPollQueue", "INBOX_EMAIL_POLL_QUEUE_URL"),
        ):
            os.environ[variable] = next(
                u
                for lid, u in created.queue_urls.items()
                if lid.startswith(prefix) and "DeadLetters" not in lid
            )
        (bucket,) = created.buckets.values()
        os.environ["INBOX_MAIL_BUCKET"] = bucket
        yield created, counter
