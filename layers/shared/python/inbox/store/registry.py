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
    # The claim items of a record's unique keys, each with the error when it is taken.
    claims: Callable[[M], list[Claim]]
    list_partition: str
    list_prefix: str
    list_index: str | None = None  # the global index listing the items, when not the table
    index_keys: Callable[[M], dict[str, str]] = lambda _: {}  # index attributes of the item


@dataclass(frozen=True)
class Claim:
    key: dict[str, str]
    taken: Exception


class Registry(Generic[M]):
    def __init__(self, table: Any, model: type[M], layout: Layout[M]) -> None:
        self.table = table
        self.model = model
        self.layout = layout

    def create(self, record: M, *, extra_writes: Sequence[dict[str, Any]] = ()) -> M:
        """Store a new record (its `id` fresh) and claim its unique keys; 409 when one is taken."""
        claims = self.layout.claims(record)
        writes = [self._claim(record, claim) for claim in claims]
        writes.append(items.put(self._item(record, version=1), condition=items.NOT_EXISTS))
        self._write([*writes, *extra_writes], dict(enumerate(claims)))
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

    def page(self, *, cursor: str | None, limit: int, consistent: bool = False) -> Page[M]:
        return items.query_page(
            self.table,
            self.model,
            partition=self.layout.list_partition,
            prefix=self.layout.list_prefix,
            cursor=cursor,
            limit=limit,
            index=self.layout.list_index,
            live_only=True,
            consistent=consistent,
        )

    def replace(self, before: M, after: M, *, version: int, extra_writes: Sequence[dict[str, Any]] = ()) -> M:
        """Store `after` in place of `before` (read at `version`), moving the claims whose unique
        key changed; 409 if a new key is taken or the record changed meanwhile."""
        writes = [
            items.put(
                self._item(after, version=version + 1),
                condition="version = :seen AND " + _ALIVE,
                values={":seen": version},
            )
        ]
        old_keys = [claim.key for claim in self.layout.claims(before)]
        new_claims = self.layout.claims(after)
        new_keys = [claim.key for claim in new_claims]
        writes += [self._release(before, key) for key in old_keys if key not in new_keys]
        claimed: dict[int, Claim] = {}
        for claim in new_claims:
            if claim.key not in old_keys:
                claimed[len(writes)] = claim
                writes.append(self._claim(after, claim))
        self._write([*writes, *extra_writes], claimed)
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
            *(self._release(record, c.key) for c in self.layout.claims(record)),
        ]
        self._write([*writes, *extra_writes], {})
        return record

    def not_found(self, record_id: str) -> NotFound:
        kind = self.layout.kind
        return NotFound(f"No {kind} with id {record_id!r}.", code=f"{kind}_not_found")

    def _item(self, record: M, *, version: int) -> dict[str, Any]:
        record_id = _record_id(record)
        return items.to_item(
            record, **self.layout.item_key(record_id), **self.layout.index_keys(record), version=version
        )

    def _claim(self, record: M, claim: Claim) -> dict[str, Any]:
        return items.put({**claim.key, "owner_id": _record_id(record)}, condition=items.NOT_EXISTS)

    def _release(self, record: M, key: dict[str, str]) -> dict[str, Any]:
        return items.delete(key, condition="owner_id = :id", values={":id": _record_id(record)})

    def _write(self, writes: list[dict[str, Any]], claims: dict[int, Claim]) -> None:
        """Run the writes; a failed claim is its `taken` error, any other failure a concurrent change."""

        def conflict(reasons: list[str]) -> Exception:
            for index, claim in claims.items():
                if reasons[index] == items.CONDITION_FAILED:
                    return claim.taken
            return Conflict(
                f"The {self.layout.kind} was changed by someone else meanwhile; reload and retry.",
                code=f"{self.layout.kind}_changed",
            )

        items.transact(self.table, writes, on_conflict=conflict)

    def owner(self, claim_key: dict[str, str]) -> str | None:
        """The id of the record holding a unique key (a lookup by name, not a scan)."""
        item = self.table.get_item(Key=claim_key).get("Item")
        return None if item is None else str(item["owner_id"])


_ALIVE = "attribute_not_exists(deleted_at)"


def _record_id(record: BaseModel) -> str:
    return str(record.__dict__["id"])  # every registry model has an `id` field
