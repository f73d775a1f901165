"""An email account's sync in the table: its poll lease, its cursor, its counters, its quarantine.

In the account's partition (`pk = ACCOUNT#<id>`):
- `sk = SYNC`: the `MailboxSync` the API shows (times, counters, last error);
- `sk = SYNC_CURSOR`: the mailbox source's cursor, written only by the holder of the lease;
- `sk = POLL_LEASE`: who polls the mailbox now, until when (`expires_at` also lets DynamoDB remove
  it): a poll that dies frees the mailbox when its lease runs out;
- `sk = QUARANTINE#<id>`: a quarantined message (ids are time-ordered: listed newest first).
And `pk = QUARANTINED#<account>#<identity>, sk = SEEN`: a message quarantined once stays so,
however often it is delivered again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.email.sync_state import MailboxSync, QuarantinedMail, SyncError
from inbox.errors import NotFound
from inbox.store import dynamo, items, leases
from inbox.store.pagination import Page, encode_cursor

QUARANTINE_PREFIX = "QUARANTINE#"


def _partition(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def sync_key(account_id: str) -> dict[str, str]:
    return items.key(_partition(account_id), "SYNC")


def cursor_key(account_id: str) -> dict[str, str]:
    return items.key(_partition(account_id), "SYNC_CURSOR")


def lease_key(account_id: str) -> dict[str, str]:
    return items.key(_partition(account_id), "POLL_LEASE")


def quarantine_key(mail: QuarantinedMail) -> dict[str, str]:
    return items.key(_partition(mail.account_id), f"{QUARANTINE_PREFIX}{mail.id}")


def quarantined_key(account_id: str, identity: str) -> dict[str, str]:
    return items.key(f"QUARANTINED#{account_id}#{identity}", "SEEN")


def count_write(account_id: str, counter: str) -> dict[str, Any]:
    """The transaction write adding one to the account's `imported` or `quarantined`."""
    return {
        "Update": {
            "Key": sync_key(account_id),
            "UpdateExpression": "ADD #counter :one",
            "ExpressionAttributeNames": {"#counter": counter},
            "ExpressionAttributeValues": {":one": 1},
        }
    }


class LeaseLost(Exception):
    """Another poll holds the mailbox now (this one outlived its lease): it must stop writing."""


class MailboxSyncStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    # The lease

    def acquire_lease(self, account_id: str, holder: str, *, seconds: float) -> bool:
        """Take the mailbox for `seconds` unless another poll holds it; False when one does."""
        return leases.acquire(self.table, lease_key(account_id), holder, seconds=seconds)

    def release_lease(self, account_id: str, holder: str) -> None:
        """Free the mailbox, if this poll still holds it."""
        leases.release(self.table, lease_key(account_id), holder)

    # The cursor

    def cursor(self, account_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key=cursor_key(account_id), ConsistentRead=True).get("Item")
        return None if item is None else dict(items.plain(item["cursor"]))

    def save_cursor(self, account_id: str, cursor: dict[str, Any], *, holder: str) -> None:
        """Save the cursor, in one transaction with a check that `holder` still holds the lease
        (`LeaseLost` otherwise: a poll that outlived its lease never moves a newer poll's cursor)."""

        def lost(reasons: list[str]) -> Exception:
            return LeaseLost(account_id)

        items.transact(
            self.table,
            [
                items.check(lease_key(account_id), "holder = :holder", {":holder": holder}),
                items.put({**cursor_key(account_id), "cursor": cursor}),
            ],
            on_conflict=lost,
        )

    def forget_cursor(self, account_id: str) -> None:
        """Start afresh (new credentials for another mailbox): the next poll backfills."""
        self.table.delete_item(Key=cursor_key(account_id))

    # What the admin sees

    def sync(self, account_id: str) -> MailboxSync:
        item = self.table.get_item(Key=sync_key(account_id)).get("Item")
        return MailboxSync() if item is None else items.from_item(MailboxSync, item)

    def syncs(self, account_ids: list[str]) -> dict[str, MailboxSync]:
        """Each account's sync, in one request per hundred accounts."""
        found: dict[str, MailboxSync] = {}
        for start in range(0, len(account_ids), 100):
            chunk = account_ids[start : start + 100]
            for account_id, item in zip(
                chunk, items.get_many(self.table, [sync_key(a) for a in chunk]), strict=True
            ):
                found[account_id] = MailboxSync() if item is None else items.from_item(MailboxSync, item)
        return found

    def record_poll(self, account_id: str, at: datetime, *, error: SyncError | None) -> None:
        """A poll ended: successfully (`error` None clears the last error) or with `error`."""
        values: dict[str, Any] = {":at": at.isoformat()}
        if error is None:
            expression = "SET last_polled_at = :at, last_success_at = :at REMOVE last_error"
        else:
            expression = "SET last_polled_at = :at, last_error = :error"
            values[":error"] = items.to_item(error)
        self.table.update_item(
            Key=sync_key(account_id), UpdateExpression=expression, ExpressionAttributeValues=values
        )

    # Quarantine

    def quarantine_writes(self, mail: QuarantinedMail) -> list[dict[str, Any]]:
        """The writes of one quarantined message: its record, its once-only marker (first: its
        condition fails when the message was quarantined before), the account's counter."""
        marker = items.put(
            {**quarantined_key(mail.account_id, mail.identity), "quarantine_id": mail.id},
            condition=items.NOT_EXISTS,
        )
        record = items.put(
            items.to_item(mail, **quarantine_key(mail), raw_key=mail.raw_key, identity=mail.identity)
        )
        return [marker, record, count_write(mail.account_id, "quarantined")]

    def quarantine(self, mail: QuarantinedMail) -> bool:
        """Keep `mail` in quarantine; False when that message was quarantined before."""

        def again(reasons: list[str]) -> Exception:
            return _AlreadyQuarantined()

        try:
            items.transact(self.table, self.quarantine_writes(mail), on_conflict=again)
        except _AlreadyQuarantined:
            return False
        return True

    def quarantined(self, account_id: str, *, cursor: str | None, limit: int) -> Page[QuarantinedMail]:
        """The account's quarantined messages, newest first."""
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": _partition(account_id), ":prefix": QUARANTINE_PREFIX},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = items.decode_start(cursor)
        if start:
            query["ExclusiveStartKey"] = start
        response = self.table.query(**query)
        return Page[QuarantinedMail](
            items=[items.from_item(QuarantinedMail, item) for item in response.get("Items", [])],
            next_cursor=encode_cursor(response.get("LastEvaluatedKey")),
        )

    def quarantined_mail(self, account_id: str, quarantine_id: str) -> QuarantinedMail:
        key = items.key(_partition(account_id), f"{QUARANTINE_PREFIX}{quarantine_id}")
        item = self.table.get_item(Key=key).get("Item")
        if item is None:
            raise NotFound(f"No quarantined message with id {quarantine_id!r}.", code="quarantine_not_found")
        return items.from_item(QuarantinedMail, item)


class _AlreadyQuarantined(Exception):
    pass
