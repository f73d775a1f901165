"""One tick of the email-poll schedule with many accounts: how long the fan-out takes to page
through them and queue one poll job per active email account (in-process moto, the AWS requests it
makes), against the poll function's 120 s timeout.

    .venv/bin/python benchmarks/email_fan_out.py [--accounts 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from local_aws import moto_stack

FUNCTION_TIMEOUT_SECONDS = 120


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args(argv)

    from inbox.accounts.models import Account, AccountStatus, Channel, Provider
    from inbox.email.polling import fan_out
    from inbox.ids import new_id
    from inbox.store.accounts import AccountStore

    with moto_stack() as (_, requests):
        store = AccountStore()
        now = datetime.now(UTC)
        for n in range(args.accounts):
            store.create(
                Account(
                    id=new_id("acc"),
                    channel=Channel.EMAIL,
                    provider=Provider.IMAP,
                    name=f"Desk {n}",
                    address=f"desk{n}@shop.example",
                    # One in ten paused: the fan-out skips them.
                    status=AccountStatus.PAUSED if n % 10 == 0 else AccountStatus.ACTIVE,
                    config={
                        "imap_host": "imap.shop.example",
                        "smtp_host": "smtp.shop.example",
                        "username": "u",
                    },
                    has_credentials=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        requests.reset()
        started = time.perf_counter()
        queued = fan_out()
        elapsed = time.perf_counter() - started
    print(
        f"fan-out over {args.accounts} accounts: {queued} jobs queued in {elapsed:.2f} s "
        f"({elapsed / FUNCTION_TIMEOUT_SECONDS:.1%} of the function's timeout)\n"
        f"requests: {requests.describe()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
