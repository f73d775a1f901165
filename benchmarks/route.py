"""DynamoDB and SQS requests per routed message, for a new and for an existing conversation, and
the router's time per message (in-process, moto; the settings' copies warm in the container, and
just after an admin saved them); then the requests per auto-reply the sender delivers (the
provider faked, credentials warm).

    .venv/bin/python benchmarks/route.py [--messages 50]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from local_aws import moto_stack

SATURDAY_NOON = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # outside business hours: auto-replies go out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args(argv)

    from inbox.accounts.models import Channel, Provider
    from inbox.routing import consumer
    from inbox.routing.events import Contact, InboundMessage, MessageType
    from inbox.routing.router import Collaborators, Router
    from routing_setup import create_routing_account

    with moto_stack() as (_, requests):
        account_id = create_routing_account()
        clock = [SATURDAY_NOON]
        router = Router(Collaborators(current=consumer.current, clock=lambda: clock[0]))

        distinct = itertools.count()  # no case replays another's message (a duplicate does less)

        def message(sender: str, n: int) -> InboundMessage:
            return InboundMessage(
                account_id=account_id,
                channel=Channel.WHATSAPP,
                provider=Provider.META_CLOUD,
                provider_message_id=f"wamid.{sender}.{n}.{next(distinct)}",
                contact=Contact(address=sender, name="Bench"),
                sent_at=clock[0],
                received_at=clock[0],
                type=MessageType.TEXT,
                text="Bonjour",
            )

        router.route_message(message("+33690000000", 0))  # warms the settings and team caches
        figures = {}
        from builders import call_api

        for n in range(args.messages):
            call_api(
                "POST",
                "/v1/customers",
                body={"name": f"Customer {n}", "sales_rep_id": "bob", "phones": [f"+3368{n:07d}"]},
            )

        def rules_changed() -> None:
            rules = {"rules": [{"type": "customer_sales_rep"}, {"type": "load_balanced"}]}
            call_api("PUT", f"/v1/accounts/{account_id}/assignment-rules", body=rules)

        senders: dict[str, tuple[Callable[[int], str], Callable[[], object]]] = {
            "new, unknown contact": ("+3369{:07d}".format, lambda: None),
            "new, known customer": ("+3368{:07d}".format, lambda: None),
            "existing": (lambda _: "+33690000000", lambda: None),
            # The first message after an admin's change: the account's settings are read again.
            "existing, rules just saved,": (lambda _: "+33690000000", rules_changed),
        }
        for case, (sender_of, before) in senders.items():
            samples, counts = [], []
            for n in range(args.messages):
                sender = sender_of(n)
                # A later Saturday: closed, past the cooldown, so it is answered.
                clock[0] += timedelta(days=7)
                before()
                requests.reset()
                started = time.perf_counter()
                router.route_message(message(sender, n + 1))
                samples.append((time.perf_counter() - started) * 1000)
                counts.append((requests.total("dynamodb"), requests.total("sqs"), requests.describe()))
            figures[case] = (statistics.median(samples), counts[-1])

        from inbox.delivery.outcomes import SendResult
        from inbox.delivery.queue import OutboundQueue, OutboundRequest
        from inbox.delivery.sender import deliver

        queue = OutboundQueue()
        queued: list[OutboundRequest] = []
        while batch := queue.client.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            queued += [OutboundRequest.model_validate_json(m["Body"]) for m in batch]
            for m in batch:
                queue.client.delete_message(QueueUrl=queue.url, ReceiptHandle=m["ReceiptHandle"])
        sent = iter(range(len(queued)))

        def provider(*_: object, **__: object) -> SendResult:
            return SendResult(provider_message_id=f"wamid.bench.{next(sent)}")

        deliver(queued[0], send=provider)  # warms the credentials (and any account cache)
        samples, counts = [], []
        for request in queued[1 : args.messages + 1]:
            requests.reset()
            started = time.perf_counter()
            deliver(request, send=provider)
            samples.append((time.perf_counter() - started) * 1000)
            counts.append((requests.total("dynamodb"), requests.total(), requests.describe()))
        delivery = (statistics.median(samples), counts[-1])

    print(f"Routing one inbound WhatsApp message (auto-reply sent), median of {args.messages}:")
    for case, (ms, (dynamodb, sqs, described)) in figures.items():
        print(
            f"  {case} conversation: {dynamodb} DynamoDB + {sqs} SQS = {dynamodb + sqs} requests, "
            f"{ms:5.1f} ms  ({described})"
        )
    ms, (dynamodb, total, described) = delivery
    print(f"Delivering one auto-reply: {dynamodb} DynamoDB = {total} requests, {ms:5.1f} ms  ({described})")
    print("  (time is mostly moto emulating DynamoDB in-process; the requests are what AWS would see)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
