"""What every store module does with items: model ↔ item, atomic writes, paged queries."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from inbox.store import dynamo
from inbox.store.pagination import Page, decode_cursor, encode_cursor
from inbox.store.schema import PARTITION_KEY, SORT_KEY

M = TypeVar("M", bound=BaseModel)

CONDITION_FAILED = "ConditionalCheckFailed"
VALIDATION_ERROR = "ValidationError"  # e.g. an item over 400 KB, as a transaction's cancellation reason
TRANSACTION_CONFLICT = "TransactionConflict"
TRANSACTION_CONFLICT_ATTEMPTS = 4
CONTENTION = {TRANSACTION_CONFLICT, "None"}  # "None": that write was fine, another was contended


def to_item(model: BaseModel, **keys: Any) -> dict[str, Any]:
    """The model as a DynamoDB item (JSON types, numbers as Decimal, nulls left out), plus `keys`."""
    body = json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)
    return {**body, **keys}


def from_item(model: type[M], item: dict[str, Any]) -> M:
    """The model an item holds (key and bookkeeping attributes left out)."""
    return model.model_validate({k: plain(v) for k, v in item.items() if k in model.model_fields})


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to int or float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def transact(
    table: Any, writes: list[dict[str, Any]], *, on_conflict: Callable[[list[str]], Exception]
) -> None:
    """Run `writes` (TransactItems without TableName) atomically on `table`; when a condition
    fails, raise what `on_conflict` makes of the per-write cancellation codes.

    A cancellation only by another transaction in progress on one of the items (no condition
    failed) is run again a few times first: it had no effect, and writes that share a version item
    (the team's, an account's) would otherwise fail whenever two happen at once."""
    items = [{kind: {"TableName": table.name, **spec} for kind, spec in write.items()} for write in writes]
    for attempt in range(TRANSACTION_CONFLICT_ATTEMPTS):
        try:
            table.meta.client.transact_write_items(TransactItems=items)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = dynamo.transaction_cancel_reasons(error)
            contention_only = TRANSACTION_CONFLICT in reasons and set(reasons) <= CONTENTION
            if not contention_only or attempt == TRANSACTION_CONFLICT_ATTEMPTS - 1:
                raise on_conflict(reasons) from error
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))


def too_large(error: ClientError) -> bool:
    """Whether DynamoDB refused a write because an item is over its size limit."""
    details = error.response.get("Error", {})
    return details.get("Code") == "ValidationException" and "size" in str(details.get("Message", "")).lower()


def get_many(table: Any, keys: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """The items at `keys` (None where there is none), in their order: one strongly consistent
    BatchGetItem (up to 100 keys; what DynamoDB leaves unprocessed is asked for again)."""
    unique = list({(k[PARTITION_KEY], k[SORT_KEY]): k for k in keys}.values())  # no key twice
    found: dict[tuple[Any, Any], dict[str, Any]] = {}
    request: dict[str, Any] = {table.name: {"Keys": unique, "ConsistentRead": True}}
    while request:
        response = table.meta.client.batch_get_item(RequestItems=request)
        for item in response["Responses"].get(table.name, []):
            found[(item[PARTITION_KEY], item[SORT_KEY])] = item
        request = response.get("UnprocessedKeys") or {}
    return [found.get((k[PARTITION_KEY], k[SORT_KEY])) for k in keys]


def query_page(
    table: Any,
    model: type[M],
    *,
    partition: str,
    prefix: str,
    cursor: str | None,
    limit: int,
    index: str | None = None,
    live_only: bool = False,
    consistent: bool = False,
) -> Page[M]:
    """One page of the items of `partition` whose sort key starts with `prefix`.

    With `index`, the query runs on that global index (`<index>pk` / `<index>sk`); with
    `live_only`, items marked deleted are left out (a page may then hold fewer than `limit`);
    `consistent` reads strongly consistent (on the table only: global indexes cannot).
    """
    pk, sk = (f"{index}pk", f"{index}sk") if index else (PARTITION_KEY, SORT_KEY)
    query: dict[str, Any] = {
        "KeyConditionExpression": f"{pk} = :pk",
        "ExpressionAttributeValues": {":pk": partition},
        "Limit": limit,
    }
    if prefix:
        query["KeyConditionExpression"] += f" AND begins_with({sk}, :prefix)"
        query["ExpressionAttributeValues"][":prefix"] = prefix
    if index:
        query["IndexName"] = index
    if consistent:
        query["ConsistentRead"] = True
    if live_only:
        query["FilterExpression"] = "attribute_not_exists(deleted_at)"
    start = decode_start(cursor, index)
    if start:
        query["ExclusiveStartKey"] = start
    response = table.query(**query)
    return Page[M](
        items=[from_item(model, item) for item in response.get("Items", [])],
        next_cursor=encode_cursor(response.get("LastEvaluatedKey")),
    )


def decode_start(cursor: str | None, index: str | None = None) -> dict[str, Any] | None:
    """The ExclusiveStartKey a cursor of a query on `index` (or the table) stands for."""
    expected = {PARTITION_KEY, SORT_KEY} | ({f"{index}pk", f"{index}sk"} if index else set())
    return decode_cursor(cursor, expected_keys=expected)


def put(
    item: dict[str, Any], *, condition: str | None = None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A transaction `Put` of `item`, optionally conditioned."""
    return _write("Put", {"Item": item}, condition, values)


def delete(
    key: dict[str, Any], *, condition: str | None = None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A transaction `Delete` of the item at `key`, optionally conditioned."""
    return _write("Delete", {"Key": key}, condition, values)


def _write(
    kind: str, spec: dict[str, Any], condition: str | None, values: dict[str, Any] | None
) -> dict[str, Any]:
    if condition:
        spec["ConditionExpression"] = condition
    if values:
        spec["ExpressionAttributeValues"] = values
    return {kind: spec}


def check(key: dict[str, Any], condition: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A transaction `ConditionCheck` on the item at `key`."""
    return _write("ConditionCheck", {"Key": key}, condition, values)


def key(partition: str, sort: str) -> dict[str, str]:
    return {PARTITION_KEY: partition, SORT_KEY: sort}


NOT_EXISTS = "attribute_not_exists(pk)"
LIVE = "attribute_exists(pk) AND attribute_not_exists(deleted_at)"
