"""The webhook's time per signed Meta POST of 1 and of 100 messages (in-process, moto), and its
cold import time beside `import boto3` alone.

    .venv/bin/python benchmarks/webhook.py [--runs 30]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import cold_start
from local_aws import moto_stack

APP_SECRET = os.urandom(16).hex()
PHONE_NUMBER_ID = "100000000000001"


def payload(messages: int) -> bytes:
    now = str(int(time.time()))
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "33180000000",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {"profile": {"name": f"Contact {i}"}, "wa_id": f"3361234{i:04d}"}
                                for i in range(messages)
                            ],
                            "messages": [
                                {
                                    "from": f"3361234{i:04d}",
                                    "id": f"wamid.{os.urandom(12).hex()}",
                                    "timestamp": now,
                                    "type": "text",
                                    "text": {"body": f"Bonjour n°{i}"},
                                }
                                for i in range(messages)
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def signed_event(body: bytes) -> dict[str, Any]:
    from builders import webhook_event

    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return webhook_event(
        "POST",
        "/webhooks/whatsapp/meta",
        route_path="/webhooks/whatsapp/meta",
        body=body,
        headers={"x-hub-signature-256": signature},
    )


def time_posts(runs: int) -> dict[int, tuple[float, str]]:
    """Median milliseconds per POST and the AWS requests of one POST, by messages per POST."""
    import boto3

    from builders import call_api, call_webhook

    figures = {}
    with moto_stack() as (_, requests):
        os.environ["INBOX_META_APP_SECRET"] = APP_SECRET
        call_api(
            "POST",
            "/v1/accounts",
            body={
                "provider": "meta_cloud",
                "name": "Bench",
                "address": "+33180000000",
                "config": {"waba_id": "200000000000001", "phone_number_id": PHONE_NUMBER_ID},
                "credentials": {"access_token": "bench-token"},
            },
        )
        for size in (1, 100):
            samples = []
            for run in range(runs):
                # moto's FIFO deduplication scans the whole queue: a fresh queue keeps it fair.
                fresh = boto3.client("sqs").create_queue(
                    QueueName=f"bench-{size}-{run}.fifo", Attributes={"FifoQueue": "true"}
                )
                os.environ["INBOX_INBOUND_QUEUE_URL"] = fresh["QueueUrl"]
                event = signed_event(payload(size))
                requests.reset()
                started = time.perf_counter()
                answer = call_webhook(event)
                samples.append((time.perf_counter() - started) * 1000)
                assert answer["statusCode"] == 200, answer
            figures[size] = (statistics.median(samples), requests.describe())
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    imports = cold_start.measure(
        [
            t
            for t in cold_start.targets()
            if t.label.endswith((cold_start.BASELINE, "webhook_whatsapp/handler.py"))
        ],
        runs=7,
    )
    print("Cold import, fresh interpreter, median of 7:")
    print(cold_start.table(imports))
    posts = time_posts(args.runs)
    print(f"\nSigned Meta POST through the handler (moto in-process), median of {args.runs}:")
    for size, (ms, made) in posts.items():
        print(
            f"  {size:>3} message(s) per POST: {ms:7.1f} ms ({ms / size:5.2f} ms a message); requests: {made}"
        )
    print("  (most of that time is moto emulating SQS FIFO in-process; the requests are what AWS would see)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
