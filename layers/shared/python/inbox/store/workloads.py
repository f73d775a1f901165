"""Workloads in the table: each user's open assigned conversations, for balanced assignment.

- `pk = WORKLOAD, sk = USER#<id>`: `open_assigned` and `last_assigned_at`, changed only by
  conditional writes so concurrent routers balance exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.store import items

WORKLOAD = "WORKLOAD"

# User id → (open assigned conversations, when the user was last assigned one).
Workloads = dict[str, tuple[int, datetime | None]]


def workload_key(user_id: str) -> dict[str, str]:
    return items.key(WORKLOAD, f"USER#{user_id}")


def read_workloads(table: Any) -> Workloads:
    """Every user's workload, strongly consistent (users never assigned one are absent)."""
    found: Workloads = {}
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": WORKLOAD},
        "ConsistentRead": True,
    }
    while True:
        response = table.query(**query)
        for item in response["Items"]:
            last = item.get("last_assigned_at")
            found[item["sk"].removeprefix("USER#")] = (
                int(item.get("open_assigned", 0)),
                datetime.fromisoformat(last) if last else None,
            )
        if "LastEvaluatedKey" not in response:
            return found
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def count_assignment(user_id: str, now: datetime, seen: Workloads | None) -> dict[str, Any]:
    """The transaction write of one more open conversation for the user. When the choice was made
    on workloads (`seen`), the write is conditioned on the count it saw, so two routers choosing
    from the same counts cannot both win (the loser decides again on fresh counts)."""
    update: dict[str, Any] = {
        "Key": workload_key(user_id),
        "UpdateExpression": "ADD open_assigned :one SET last_assigned_at = :now",
        "ExpressionAttributeValues": {":one": 1, ":now": now.isoformat()},
    }
    if seen is not None:
        count = seen.get(user_id)
        if count is None:
            update["ConditionExpression"] = "attribute_not_exists(open_assigned)"
        else:
            update["ConditionExpression"] = "open_assigned = :seen"
            update["ExpressionAttributeValues"][":seen"] = count[0]
    return {"Update": update}


def uncount_assignment(user_id: str) -> dict[str, Any]:
    """The transaction write of one open conversation fewer for the user (taken from them, or
    closed). Unconditioned: the conversation's own condition, in the same transaction, makes
    each change count once."""
    return {
        "Update": {
            "Key": workload_key(user_id),
            "UpdateExpression": "ADD open_assigned :minus_one",
            "ExpressionAttributeValues": {":minus_one": -1},
        }
    }
