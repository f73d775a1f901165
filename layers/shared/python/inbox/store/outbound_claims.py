"""Claims on outbound messages: the message item is the lock of its delivery.

A delivery claims a message with one conditional write (`queued` → `sending`, stamped
`sending_since`); a claim whose holder died is a lease that ends (`lease`), after which the message
may be claimed again. Every write after the claim is conditioned on still holding it, so a holder
whose lease was taken over records nothing. Sent, it also writes the lookup item its status reports
use (`store.conversations.outbound_key`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from inbox.conversations import MessageStatus
from inbox.store import items
from inbox.store.conversations import outbound_key
from inbox.store.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

# The claimed state between `queued` and `sent` (read as `queued` by the API).
SENDING = MessageStatus.SENDING.value


class OutboundClaim:
    """A message this delivery holds (`sending`, stamped `claimed_at`)."""

    def __init__(
        self,
        table: Any,
        key: dict[str, str],
        item: dict[str, Any],
        claimed_at: str,
        *,
        recovered: bool = False,
    ) -> None:
        self.table = table
        self.key = key
        self.item = item  # the message as claimed
        self.claimed_at = claimed_at
        # Taken over from a delivery whose lease ran out: it may have sent the message and died
        # before recording it (a channel that can tell, email's Sent folder, checks first).
        self.recovered = recovered

    def sent(
        self,
        *,
        account_id: str,
        conversation_id: str,
        provider_message_id: str,
        now: datetime,
        keep: timedelta,
    ) -> bool:
        """Record the message `sent` with the provider's id, and its lookup item (kept `keep`);
        False when the claim was lost before (nothing was written)."""
        lookup = {
            **outbound_key(account_id, provider_message_id),
            "message_pk": self.key[PARTITION_KEY],
            "message_sk": self.key[SORT_KEY],
            "conversation_id": conversation_id,
            TTL_ATTRIBUTE: int((now + keep).timestamp()),
        }
        update = self._update(
            "SET #status = :sent, provider_message_id = :provider_id, sent_at = :now REMOVE sending_since",
            {":sent": MessageStatus.SENT.value, ":provider_id": provider_message_id, ":now": stamp(now)},
        )
        try:
            items.transact(self.table, [{"Update": update}, items.put(lookup)], on_conflict=_LostClaim)
        except _LostClaim:
            return False
        return True

    def fail(self, error: BaseModel) -> bool:
        """Record the message `failed` with `error`; False when the claim was lost before."""
        return self._write(
            self._update(
                "SET #status = :failed, #error = :error REMOVE sending_since",
                {":failed": MessageStatus.FAILED.value, ":error": items.to_item(error)},
                names={"#error": "error"},
            )
        )

    def release(self) -> bool:
        """Back to `queued`, for a later delivery to claim; False when the claim was lost before."""
        return self._write(
            self._update(
                "SET #status = :queued REMOVE sending_since", {":queued": MessageStatus.QUEUED.value}
            )
        )

    def _update(
        self, expression: str, values: dict[str, Any], names: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return {
            "Key": self.key,
            "UpdateExpression": expression,
            "ConditionExpression": "#status = :sending AND sending_since = :claimed_at",
            "ExpressionAttributeNames": {"#status": "status", **(names or {})},
            "ExpressionAttributeValues": {":sending": SENDING, ":claimed_at": self.claimed_at, **values},
        }

    def _write(self, update: dict[str, Any]) -> bool:
        try:
            self.table.update_item(**update)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True


class OutboundClaims:
    def __init__(self, table: Any) -> None:
        self.table = table

    def take(
        self, message_pk: str, message_sk: str, *, now: datetime, lease: timedelta
    ) -> OutboundClaim | None:
        """The claim of a `queued` message (or one whose claim is older than `lease`); None when it
        cannot be taken (absent, handled, or held: `message` says which)."""
        key = items.key(message_pk, message_sk)
        claimed_at = stamp(now)
        try:
            item = self.table.update_item(
                Key=key,
                UpdateExpression="SET #status = :sending, sending_since = :now",
                ConditionExpression="#status = :queued OR (#status = :sending AND sending_since < :expired)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sending": SENDING,
                    ":queued": MessageStatus.QUEUED.value,
                    ":now": claimed_at,
                    ":expired": stamp(now - lease),
                },
                ReturnValues="ALL_OLD",
            )["Attributes"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return None
        recovered = item.get("status") == SENDING
        claimed = {**item, "status": SENDING, "sending_since": claimed_at}
        return OutboundClaim(self.table, key, claimed, claimed_at, recovered=recovered)

    def message(self, message_pk: str, message_sk: str) -> dict[str, Any] | None:
        """The message item as it is now (strongly consistent), None when there is none."""
        item: dict[str, Any] | None = self.table.get_item(
            Key=items.key(message_pk, message_sk), ConsistentRead=True
        ).get("Item")
        return item


def stamp(moment: datetime) -> str:
    # One fixed format, so that stamps compare as strings in DynamoDB conditions.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class _LostClaim(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(reasons)
