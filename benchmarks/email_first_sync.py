"""The first sync of a mailbox: messages per second from a private Dovecot into the inbound queue
(raw mail in the bucket, a reference queued), against the local stack's AWS (moto in its own
process, as `inbox dev` runs it), and the poll's peak Python memory (tracemalloc) for a mailbox of
N and of 3N messages: the goal is memory bounded by the batch, the same for both.

A private Dovecot on loopback (tests/dovecot.py): run as root, like the IMAP tests.

    .venv/bin/python benchmarks/email_first_sync.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)

from dovecot import new_mailbox, start_dovecot  # noqa: E402
from mailboxes import fill_maildir, mail  # noqa: E402

SETTLE_SECONDS = 2
BODY = "Bonjour, voici ma question sur la commande. " * 40  # about 2 KB, a typical short mail


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args(argv)

    from inbox.email import polling
    from inbox.local import resources
    from inbox.local.aws_server import AwsServer
    from inbox.local.stack import synthesize
    from inbox.local.template import Template, resolve
    from mail_flow import create_imap_account

    server_aws = AwsServer()
    os.environ["AWS_ENDPOINT_URL"] = server_aws.start()
    try:
        template = Template.load(synthesize(ROOT))
        created = resources.create_all(template, api_url="http://bench.test")
        for function in template.functions():
            if function.name in ("poll_email", "settings_api"):
                for name, value in resolve(dict(function.environment), created.lookup).items():
                    if name.startswith("INBOX_") and name != "INBOX_PUBLIC_URL":
                        os.environ[name] = str(value)
        results = {}
        with start_dovecot([]) as server:
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
                started = time.perf_counter()
                result = polling.poll_mailbox(account["id"], seconds=600)
                elapsed = time.perf_counter() - started
                if result.handed_over != count or result.more:
                    print(f"FAILED: {result} for {count} messages")
                    return 1
                # The same first sync again, on a fresh account of the same mailbox, under tracemalloc
                # (which slows it down: its time is not the figure).
                again = create_imap_account(
                    host=server.host,
                    port=server.port,
                    security="none",
                    username=user.username,
                    password=user.password,
                    address=f"again{count}@shop.example",
                )
                tracemalloc.start()
                polling.poll_mailbox(again["id"], seconds=600)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                results[count] = (elapsed, peak)
    finally:
        server_aws.stop()

    small, big = args.messages, 3 * args.messages
    print(
        f"first sync of {small} messages: {results[small][0]:.2f} s, "
        f"{small / results[small][0]:.0f} msg/s into the inbound queue (goal >= 100)"
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
