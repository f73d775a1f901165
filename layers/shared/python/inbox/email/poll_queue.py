"""The email-poll queue (FIFO): one poll job per message, the only code that sends to it.

A job's group is its account, so one account's polls run one at a time; its deduplication id is
the reason and a stamp (`tick` and the minute, `sync` and the second, `continue` and the poll), so
a tick fired twice, or a double-clicked "sync now", queues one poll.
"""

from __future__ import annotations

from typing import Any

from inbox import aws
from inbox.model import Model
from inbox.settings import settings

JOBS_BATCH = 10


class PollJob(Model):
    """A message of the email-poll queue: poll this account (`reason`: tick, sync, continue)."""

    account_id: str
    reason: str = "tick"


class PollJobs:
    """The email-poll queue (FIFO): one group per account, deduplicated by `dedupe`."""

    def __init__(self, client: Any | None = None, url: str | None = None) -> None:
        self.client = client if client is not None else aws.client("sqs")
        self.url = url or settings().require("email_poll_queue_url")

    def queue(self, account_ids: list[str], *, reason: str, dedupe: str) -> None:
        for start in range(0, len(account_ids), JOBS_BATCH):
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": PollJob(account_id=account_id, reason=reason).model_dump_json(),
                    "MessageGroupId": account_id,
                    "MessageDeduplicationId": f"{reason}-{account_id}-{dedupe}",
                }
                for n, account_id in enumerate(account_ids[start : start + JOBS_BATCH])
            ]
            response = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"{len(response['Failed'])} poll jobs could not be queued")
