"""Response-time samples in the table (`inbox.response_times`), by account and day.

`pk = RESPONSE_TIMES#<account>#<YYYY-MM-DD of the reply, UTC>`,
`sk = <replied_at>#<reply id>#<kind>#<inbound id>`: a period is read day by day, one query per
day partition (a month is 31 queries, reading only that month's samples, never a scan). A sample
is about 300 bytes: a month of 10 000 conversations with three answered messages each (some
40 000 samples, 12 MB) reads about 1 500 read units, eventually consistent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from inbox.response_times import ResponseSample
from inbox.store import dynamo, items


def sample_key(sample: ResponseSample) -> dict[str, str]:
    return items.key(
        f"RESPONSE_TIMES#{sample.account_id}#{_day(sample.replied_at)}",
        f"{sample.replied_at.isoformat()}#{sample.reply_id}#{sample.kind}#{sample.inbound_id}",
    )


def sample_write(sample: ResponseSample) -> dict[str, Any]:
    return items.put(items.to_item(sample, **sample_key(sample)), condition=items.NOT_EXISTS)


class ResponseTimeStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def samples(self, account_id: str, start: datetime, end: datetime) -> list[ResponseSample]:
        """The account's samples of replies in `[start, end)`."""
        found: list[ResponseSample] = []
        day = start
        while _day(day) <= _day(end):
            query: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": f"RESPONSE_TIMES#{account_id}#{_day(day)}"},
            }
            while True:
                response = self.table.query(**query)
                for item in response.get("Items", []):
                    sample = items.from_item(ResponseSample, item)
                    if start <= sample.replied_at < end:
                        found.append(sample)
                if "LastEvaluatedKey" not in response:
                    break
                query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            day += timedelta(days=1)
        return found


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()
