"""Labels in the table.

Items (one partition, `LABELS`, so a list is one query):
- `sk = LABEL#<id>`: the label, with `version` for conditional updates; a deleted label keeps its
  item with `deleted_at` set (conversations keep showing it) and is filtered out of lists.
- `sk = NAME#<name key>`: the claim on a name. Created and released in the same transaction as
  the label change, conditioned on absence, so uniqueness holds under concurrent writers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from inbox.errors import Conflict, FieldProblem, NotFound
from inbox.ids import new_id
from inbox.labels import Label, LabelCreate, LabelUpdate, name_key
from inbox.store import dynamo
from inbox.store.pagination import DEFAULT_LIMIT, Page, decode_cursor, encode_cursor
from inbox.store.schema import PARTITION_KEY, SORT_KEY

PARTITION = "LABELS"
LABEL_PREFIX = "LABEL#"
NAME_PREFIX = "NAME#"
_LABEL_FIELDS = ("name", "description", "color", "created_at", "updated_at", "deleted_at")


class LabelStore:
    def __init__(self, table: Any | None = None) -> None:
        self._table = table if table is not None else dynamo.table()

    def create(self, data: LabelCreate, *, now: datetime | None = None) -> Label:
        stamp = now or datetime.now(UTC)
        label = Label(id=new_id("lbl"), created_at=stamp, updated_at=stamp, **data.model_dump())
        self._transact(
            [
                self._claim_name(label),
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": _to_item(label, version=1),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ],
            on_conflict=lambda _: _name_taken(label.name),
        )
        return label

    def get(self, label_id: str, *, include_deleted: bool = False) -> Label:
        """The label; a deleted one only when `include_deleted` (for conversations' history)."""
        item = self._table.get_item(Key=_label_key(label_id), ConsistentRead=True).get("Item")
        if item is None or (item.get("deleted_at") and not include_deleted):
            raise _not_found(label_id)
        return _from_item(item)

    def page(self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Label]:
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "FilterExpression": "attribute_not_exists(deleted_at)",
            "ExpressionAttributeValues": {":pk": PARTITION, ":prefix": LABEL_PREFIX},
            "Limit": limit,
        }
        start = decode_cursor(cursor, expected_keys={PARTITION_KEY, SORT_KEY})
        if start:
            query["ExclusiveStartKey"] = start
        response = self._table.query(**query)
        return Page[Label](
            items=[_from_item(item) for item in response.get("Items", [])],
            next_cursor=encode_cursor(response.get("LastEvaluatedKey")),
        )

    def update(self, label_id: str, changes: LabelUpdate, *, now: datetime | None = None) -> Label:
        current_item = self._table.get_item(Key=_label_key(label_id), ConsistentRead=True).get("Item")
        if current_item is None or current_item.get("deleted_at"):
            raise _not_found(label_id)
        current = _from_item(current_item)
        updated = current.model_copy(
            update={**changes.model_dump(exclude_unset=True), "updated_at": now or datetime.now(UTC)}
        )
        version = int(current_item["version"])
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": _to_item(updated, version=version + 1),
                    "ConditionExpression": "version = :seen AND attribute_not_exists(deleted_at)",
                    "ExpressionAttributeValues": {":seen": version},
                }
            },
        ]
        renamed = name_key(updated.name) != name_key(current.name)
        if renamed:
            writes += [self._release_name(current), self._claim_name(updated)]

        def conflict(reasons: list[str]) -> Exception:
            # Write 2 is the claim on the new name; any other failed condition is a concurrent change.
            if renamed and reasons[2] == "ConditionalCheckFailed":
                return _name_taken(updated.name)
            return _changed_meanwhile()

        self._transact(writes, on_conflict=conflict)
        return updated

    def delete(self, label_id: str, *, now: datetime | None = None) -> None:
        current = self.get(label_id)
        stamp = (now or datetime.now(UTC)).isoformat()
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table.name,
                        "Key": _label_key(label_id),
                        "UpdateExpression": "SET deleted_at = :now, version = version + :one",
                        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(deleted_at)",
                        "ExpressionAttributeValues": {":now": stamp, ":one": 1},
                    }
                },
                self._release_name(current),
            ],
            on_conflict=lambda _: _not_found(label_id),
        )

    def _claim_name(self, label: Label) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": {**_name_key_item(label.name), "label_id": label.id},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _release_name(self, label: Label) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table.name,
                "Key": _name_key_item(label.name),
                "ConditionExpression": "label_id = :id",
                "ExpressionAttributeValues": {":id": label.id},
            }
        }

    def _transact(
        self, writes: list[dict[str, Any]], *, on_conflict: Callable[[list[str]], Exception]
    ) -> None:
        """Run the writes atomically; when a condition fails, raise what `on_conflict` makes of
        the per-write cancellation reasons."""
        try:
            self._table.meta.client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            raise on_conflict(dynamo.transaction_cancel_reasons(error)) from error


def _label_key(label_id: str) -> dict[str, str]:
    return {PARTITION_KEY: PARTITION, SORT_KEY: f"{LABEL_PREFIX}{label_id}"}


def _name_key_item(name: str) -> dict[str, str]:
    return {PARTITION_KEY: PARTITION, SORT_KEY: f"{NAME_PREFIX}{name_key(name)}"}


def _to_item(label: Label, *, version: int) -> dict[str, Any]:
    item: dict[str, Any] = {**_label_key(label.id), "id": label.id, "version": version}
    for name in _LABEL_FIELDS:
        value = getattr(label, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        if value is not None:
            item[name] = value
    return item


def _from_item(item: dict[str, Any]) -> Label:
    return Label.model_validate({"id": item["id"], **{k: item[k] for k in _LABEL_FIELDS if k in item}})


def _not_found(label_id: str) -> NotFound:
    return NotFound(f"No label with id {label_id!r}.", code="label_not_found")


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"A label named {name!r} already exists (names are compared without regard to case).",
        code="label_name_taken",
        details=[FieldProblem("name", "already used by another label")],
    )


def _changed_meanwhile() -> Conflict:
    return Conflict(
        "The label was changed by someone else meanwhile; reload and retry.", code="label_changed"
    )
