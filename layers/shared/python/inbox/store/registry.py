"""A registry: items of one kind, each unique by a key derived from it (a label's name, a user's
email, an account's address), kept unique by DynamoDB itself.

Each item has a *claim* item (its unique key) created, moved and released in the same transaction
as the item, conditioned on absence, so two writers racing for one name cannot both win. Items are
never removed: a deleted item keeps its record with `deleted_at` (what referred to it still shows
it) and leaves lists; its claim is released so the name can be used again. Every write is
conditioned on the `version` it read, so a concurrent change is a conflict, not a lost update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from inbox.errors import Conflict, NotFound
from inbox.store import items
from inbox.store.pagination import Page

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Layout(Generic[M]):
    """Where a kind's items, claims and list live, and what its errors say."""

    kind: str  # "label", in messages and error codes
    item_key: Callable[[str], dict[str, str]]
    claim_key: Callable[[M], dict[str, str]]  # the unique key's claim item
    list_partition: str
    list_prefix: str
    list_index: str | None = None  # the global index listing the items, when not the table
    index_keys: Callable[[M], dict[str, str]] = lambda _: {}  # index attributes of the item
    taken: Callable[[M], Exception] | None = None


class Registry(Generic[M]):
    def __init__(self, table: Any, model: type[M], layout: Layout[M]) -> None:
        self.table = table
        self.model = model
        self.layout = layout

    def create(self, record: M) -> M:
        """Store a new record (its `id` fresh) and claim its unique key; 409 when taken."""
        self._write(
            [self._claim(record), items.put(self._item(record, version=1), condition=items.NOT_EXISTS)],
            record,
            claim_index=0,
        )
        return record

    def get(self, record_id: str, *, include_deleted: bool = False) -> M:
        record, _ = self.read(record_id, include_deleted=include_deleted)
        return record

    def read(self, record_id: str, *, include_deleted: bool = False) -> tuple[M, int]:
        """The record and the version it was read at."""
        item = self.table.get_item(Key=self.layout.item_key(record_id), ConsistentRead=True).get("Item")
        if item is None or (item.get("deleted_at") and not include_deleted):
            raise self.not_found(record_id)
        return items.from_item(self.model, item), int(item.get("version", 0))

    def page(self, *, cursor: str | None, limit: int) -> Page[M]:
        return items.query_page(
            self.table,
            self.model,
            partition=self.layout.list_partition,
            prefix=self.layout.list_prefix,
            cursor=cursor,
            limit=limit,
            index=self.layout.list_index,
            live_only=True,
        )

    def replace(self, before: M, after: M, *, version: int, extra_writes: Sequence[dict[str, Any]] = ()) -> M:
        """Store `after` in place of `before` (read at `version`), moving the claim if the unique
        key changed; 409 if the new key is taken or the record changed meanwhile."""
        writes = [
            items.put(
                self._item(after, version=version + 1),
                condition="version = :seen AND " + _ALIVE,
                values={":seen": version},
            )
        ]
        moved = self.layout.claim_key(after) != self.layout.claim_key(before)
        if moved:
            writes += [self._release(before), self._claim(after)]
        self._write([*writes, *extra_writes], after, claim_index=2 if moved else None)
        return after

    def delete(self, record_id: str, *, extra_writes: Sequence[dict[str, Any]] = ()) -> M:
        """Mark the record deleted (kept for history) and release its unique key."""
        record, version = self.read(record_id)
        writes = [
            {
                "Update": {
                    "Key": self.layout.item_key(record_id),
                    "UpdateExpression": "SET deleted_at = :now, version = :next",
                    "ConditionExpression": "version = :seen AND " + _ALIVE,
                    "ExpressionAttributeValues": {
                        ":now": datetime.now(UTC).isoformat(),
                        ":next": version + 1,
                        ":seen": version,
                    },
                }
            },
            self._release(record),
        ]
        self._write([*writes, *extra_writes], record, claim_index=None)
        return record

    def not_found(self, record_id: str) -> NotFound:
        kind = self.layout.kind
        return NotFound(f"No {kind} with id {record_id!r}.", code=f"{kind}_not_found")

    def _item(self, record: M, *, version: int) -> dict[str, Any]:
        record_id = _record_id(record)
        return items.to_item(
            record, **self.layout.item_key(record_id), **self.layout.index_keys(record), version=version
        )

    def _claim(self, record: M) -> dict[str, Any]:
        return items.put(
            {**self.layout.claim_key(record), "owner_id": _record_id(record)},
            condition=items.NOT_EXISTS,
        )

    def _release(self, record: M) -> dict[str, Any]:
        return items.delete(
            self.layout.claim_key(record), condition="owner_id = :id", values={":id": _record_id(record)}
        )

    def _write(self, writes: list[dict[str, Any]], record: M, *, claim_index: int | None) -> None:
        def conflict(reasons: list[str]) -> Exception:
            claim_failed = claim_index is not None and reasons[claim_index] == items.CONDITION_FAILED
            if claim_failed and self.layout.taken is not None:
                return self.layout.taken(record)
            return Conflict(
                f"The {self.layout.kind} was changed by someone else meanwhile; reload and retry.",
                code=f"{self.layout.kind}_changed",
            )

        items.transact(self.table, writes, on_conflict=conflict)


_ALIVE = "attribute_not_exists(deleted_at)"


def _record_id(record: BaseModel) -> str:
    return str(record.__dict__["id"])  # every registry model has an `id` field
