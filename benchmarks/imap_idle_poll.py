"""What an IMAP poll with nothing new costs, for a big and a small mailbox: the commands it sends
after LOGIN (goal: at most 3, whatever the size) and its time (goal: the big mailbox's idle poll
within 1.2x the small one's). Also the first poll's backfill of the big mailbox, for scale.

A private Dovecot on loopback (tests/dovecot.py): run as root, like the IMAP tests.

    .venv/bin/python benchmarks/imap_idle_poll.py [--messages 10000] [--polls 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dovecot import LocalDovecot, new_mailbox, start_dovecot  # noqa: E402
from inbox.accounts.models import ImapConfig  # noqa: E402
from inbox.email.imap_source import ImapSource  # noqa: E402
from inbox.email.mailbox import Batch, Limits  # noqa: E402
from mail_peers import MailUser  # noqa: E402
from mailboxes import commands_sent, fill_maildir, mail  # noqa: E402

SETTLE_SECONDS = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000, help="in the big mailbox")
    parser.add_argument("--polls", type=int, default=20, help="idle polls of each mailbox")
    args = parser.parse_args(argv)

    with start_dovecot([]) as server:
        sizes = {"big": args.messages, "small": 10}
        sources, cursors = {}, {}
        for name, count in sizes.items():
            user = new_mailbox(server, name)
            started = time.perf_counter()
            fill_maildir(server, user, (mail(f"{name} {n}") for n in range(count)))
            filled = time.perf_counter() - started
            sources[name] = _source(server, user)
            started = time.perf_counter()
            batches = _poll(sources[name], None)
            seconds = time.perf_counter() - started
            imported = sum(len(batch.mails) for batch in batches)
            assert imported == count, (name, imported)
            cursors[name] = batches[-1].cursor
            print(
                f"{name} mailbox: {count} messages written in {filled:.2f} s; first poll (backfill) "
                f"imported {imported} in {len(batches)} batches, {seconds:.2f} s"
            )

        # Dovecot rescans a maildir directory changed within the last second or so (mtimes count
        # whole seconds): an idle mailbox is one nothing was written to just now.
        time.sleep(SETTLE_SECONDS)
        for name in sizes:
            _poll(sources[name], cursors[name])  # warm: the first opens after the backfill
        commands: dict[str, list[str]] = {}
        samples: dict[str, list[float]] = {name: [] for name in sizes}
        for _ in range(args.polls):
            for name in sizes:  # interleaved, so any drift of the machine falls on both alike
                with commands_sent() as sent:
                    started = time.perf_counter()
                    batches = _poll(sources[name], cursors[name])
                    samples[name].append(time.perf_counter() - started)
                assert [len(batch.mails) for batch in batches] == [0], batches
                commands[name] = sent[sent.index("LOGIN") + 1 :]

    print(f"Idle poll (nothing new), median of {args.polls}:")
    for name in sizes:
        median = statistics.median(samples[name]) * 1000
        print(
            f"  {name:5} ({sizes[name]:>6} messages): {median:6.2f} ms, "
            f"{len(commands[name])} commands after LOGIN: {' '.join(commands[name])}"
        )
    ratio = statistics.median(samples["big"]) / statistics.median(samples["small"])
    most = max(len(sent) for sent in commands.values())
    print(f"  time ratio big/small: {ratio:.2f} (goal <= 1.2); commands after LOGIN: {most} (goal <= 3)")
    return 0


def _source(server: LocalDovecot, user: MailUser) -> ImapSource:
    config = ImapConfig(
        imap_host=server.host,
        imap_port=server.port,
        imap_security="none",
        smtp_host="smtp.example.com",
        username=user.username,
    )
    return ImapSource(config, user.password)


def _poll(source: ImapSource, cursor: dict[str, Any] | None) -> list[Batch]:
    return list(source.batches(cursor, Limits(deadline=time.monotonic() + 120)))


if __name__ == "__main__":
    sys.exit(main())
