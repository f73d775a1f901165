"""Leases in the table: "this holder has that thing until then", for work that must not run twice
at once (polling one mailbox, refreshing one account's token). A holder that dies frees the thing
when its lease runs out; `expires_at` lets DynamoDB remove the item afterwards.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from inbox.store.schema import TTL_ATTRIBUTE


def acquire(table: Any, key: dict[str, str], holder: str, *, seconds: float) -> bool:
    """Take the lease at `key` for `seconds` unless another holder has it; False when one does."""
    now = time.time()
    try:
        table.put_item(
            Item={
                **key,
                "holder": holder,
                "until": _decimal(now + seconds),
                TTL_ATTRIBUTE: int(now + seconds) + 60,
            },
            ConditionExpression="attribute_not_exists(pk) OR #until < :now OR holder = :holder",
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues={":now": _decimal(now), ":holder": holder},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def release(table: Any, key: dict[str, str], holder: str) -> None:
    """Free the lease, if `holder` still has it."""
    try:
        table.delete_item(
            Key=key, ConditionExpression="holder = :holder", ExpressionAttributeValues={":holder": holder}
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))
