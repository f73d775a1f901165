"""The first sync of a mailbox: messages per second from a private Dovecot into the inbound queue
(raw mail in the bucket, a reference queued; moto in-process), and the poll's peak Python memory for
a mailbox of N and of 3N messages (goal: bounded by the batch, the same for both).

A private Dovecot on loopback (tests/dovecot.py): run as root, like the IMAP tests.

    .venv/bin/python benchmarks/email_first_sync.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Sequence

from local_aws import moto_stack

from dovecot import new_mailbox, start_dovecot
from mailboxes import fill_maildir, mail

SETTLE_SECONDS = 2
BODY = "Bonjour, voici ma question sur la commande. " * 40  # about 2 KB, a typical short mail


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args(argv)

    from inbox import aws
    from inbox.email import polling
    from inbox.settings import settings
    from mail_flow import create_imap_account

    with start_dovecot([]) as server, moto_stack():
        results = {}
        for count in (args.messages, 3 * args.messages):
            user = new_mailbox(server, f"sync{count}")
            fill_maildir(server, user, [mail(f"Question {n}", body=BODY) for n in range(count)])
            time.sleep(SETTLE_SECONDS)  # an idle mailbox, as a real one is between deliveries
            account = create_imap_account(
                host=server.host,
                port=server.port,
                security="none",
                username=user.username,
                password=user.password,
                address=f"sync{count}@shop.example",
            )
            tracemalloc.start()
            started = time.perf_counter()
            result = polling.poll_mailbox(account["id"], seconds=600)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            if result.handed_over != count or result.more:
                print(f"FAILED: {result} for {count} messages")
                return 1
            results[count] = (elapsed, peak)
            # Empty the queue between runs (what the router would consume).
            sqs = aws.client("sqs")
            url = settings().require("inbound_queue_url")
            sqs.purge_queue(QueueUrl=url)

        small, big = args.messages, 3 * args.messages
        rate = small / results[small][0]
        print(
            f"first sync of {small} messages: {results[small][0]:.2f} s, "
            f"{rate:.0f} msg/s into the inbound queue (goal >= 100)"
        )
        print(f"first sync of {big} messages: {results[big][0]:.2f} s, {big / results[big][0]:.0f} msg/s")
        print(
            f"peak Python memory of the poll: {results[small][1] / 1e6:.1f} MB for {small} messages, "
            f"{results[big][1] / 1e6:.1f} MB for {big} (ratio {results[big][1] / results[small][1]:.2f}; "
            "goal: bounded by the batch, about 1)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
