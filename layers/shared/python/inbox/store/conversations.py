"""Conversations, messages, contacts and workloads in the table.

- `pk = CONV#<id>`: a conversation's partition: `sk = CONV` (the conversation), `sk = MSG#<time>#<id>`
  (its messages, in order). The conversation is listed through three indexes:
  `gsi1` `ACCOUNT_CONVS#<account>` / `<status>#<last_message_at>#<id>` (an account's, by status),
  `gsi2` `ASSIGNEE_CONVS#<user>` / same (a user's), `gsi3` `CONVS` / `<last_message_at>#<id>` (all).
- `pk = CONTACT#<account>#<address>, sk = STATE`: the contact's state (open conversation, customer,
  last assignee, last auto-reply): what the router reads first.
- `pk = INBOUND#<account>#<provider message id>, sk = SEEN`: the durable dedupe of inbound messages,
  written in the same transaction as their effects.
- `pk = OUTBOUND#<account>#<provider message id>, sk = SENT`: which message a provider's status
  report is about.
- `pk = WORKLOAD, sk = USER#<id>`: each user's open assigned conversations, changed only by
  conditional writes so concurrent routers balance exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from inbox.conversations import ContactState, Conversation, ConversationSummary, Message
from inbox.errors import NotFound
from inbox.store import dynamo, items
from inbox.store.pagination import Page, decode_cursor, encode_cursor
from inbox.store.schema import PARTITION_KEY, SORT_KEY

WORKLOAD = "WORKLOAD"


def conversation_key(conversation_id: str) -> dict[str, str]:
    return items.key(f"CONV#{conversation_id}", "CONV")


def message_key(message: Message) -> dict[str, str]:
    return items.key(f"CONV#{message.conversation_id}", f"MSG#{message.created_at.isoformat()}#{message.id}")


def contact_key(account_id: str, address: str) -> dict[str, str]:
    return items.key(f"CONTACT#{account_id}#{address.lower()}", "STATE")


def inbound_key(account_id: str, provider_message_id: str) -> dict[str, str]:
    return items.key(f"INBOUND#{account_id}#{provider_message_id}", "SEEN")


def outbound_key(account_id: str, provider_message_id: str) -> dict[str, str]:
    return items.key(f"OUTBOUND#{account_id}#{provider_message_id}", "SENT")


def workload_key(user_id: str) -> dict[str, str]:
    return items.key(WORKLOAD, f"USER#{user_id}")


def conversation_item(conversation: Conversation) -> dict[str, Any]:
    """The conversation with its index keys (which follow its status, assignee and last message)."""
    order = f"{conversation.last_message_at.isoformat()}#{conversation.id}"
    keys: dict[str, str] = {
        **conversation_key(conversation.id),
        "gsi1pk": f"ACCOUNT_CONVS#{conversation.account_id}",
        "gsi1sk": f"{conversation.status}#{order}",
        "gsi3pk": "CONVS",
        "gsi3sk": order,
    }
    if conversation.assignee_id:
        keys.update(
            gsi2pk=f"ASSIGNEE_CONVS#{conversation.assignee_id}", gsi2sk=f"{conversation.status}#{order}"
        )
    return items.to_item(conversation, **keys)


def message_item(message: Message) -> dict[str, Any]:
    raw = json.loads(json.dumps(message.raw), parse_float=Decimal)  # DynamoDB takes no floats
    return items.to_item(message, **message_key(message), raw=raw)


class ConversationStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def contact(self, account_id: str, address: str) -> ContactState | None:
        item = self.table.get_item(Key=contact_key(account_id, address), ConsistentRead=True).get("Item")
        return None if item is None else items.from_item(ContactState, item)

    def get(self, conversation_id: str) -> Conversation:
        item = self.table.get_item(Key=conversation_key(conversation_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"No conversation with id {conversation_id!r}.", code="conversation_not_found")
        return items.from_item(Conversation, item)

    def messages(self, conversation_id: str, *, cursor: str | None, limit: int) -> Page[Message]:
        return items.query_page(
            self.table,
            Message,
            partition=f"CONV#{conversation_id}",
            prefix="MSG#",
            cursor=cursor,
            limit=limit,
        )

    def workloads(self) -> dict[str, tuple[int, datetime | None]]:
        """Each user's open assigned conversations and when they were last assigned one."""
        found: dict[str, tuple[int, datetime | None]] = {}
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": WORKLOAD},
            "ConsistentRead": True,
        }
        while True:
            response = self.table.query(**query)
            for item in response["Items"]:
                last = item.get("last_assigned_at")
                found[item["sk"].removeprefix("USER#")] = (
                    int(item.get("open_assigned", 0)),
                    datetime.fromisoformat(last) if last else None,
                )
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def message_by_provider_id(self, account_id: str, provider_message_id: str) -> dict[str, str] | None:
        """The message key a provider's status report is about, if we sent it."""
        item = self.table.get_item(Key=outbound_key(account_id, provider_message_id)).get("Item")
        return None if item is None else {PARTITION_KEY: item["message_pk"], SORT_KEY: item["message_sk"]}

    def page(
        self,
        *,
        index: str,
        partition: str,
        prefix: str = "",
        cursor: str | None,
        limit: int,
        filters: Sequence[tuple[str, str, Any]] = (),
    ) -> Page[ConversationSummary]:
        """A page of conversations from one index, newest first; `filters` are
        (attribute, operator, value) conditions on the items (`=`, `in`, `contains`)."""
        key_condition = f"{index}pk = :pk" + (f" AND begins_with({index}sk, :prefix)" if prefix else "")
        values: dict[str, Any] = {":pk": partition}
        if prefix:
            values[":prefix"] = prefix
        query: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": key_condition,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        conditions = []
        names: dict[str, str] = {}
        for position, (attribute, operator, value) in enumerate(filters):
            names[f"#f{position}"] = attribute
            if operator == "contains":
                values[f":f{position}"] = value
                conditions.append(f"contains(#f{position}, :f{position})")
            elif operator == "in":
                placeholders = [f":f{position}_{n}" for n in range(len(value))]
                values.update(zip(placeholders, value, strict=True))
                conditions.append(f"#f{position} IN ({', '.join(placeholders)})")
            else:
                values[f":f{position}"] = value
                conditions.append(f"#f{position} = :f{position}")
        if conditions:
            query["FilterExpression"] = " AND ".join(conditions)
            query["ExpressionAttributeNames"] = names
        query["ExpressionAttributeValues"] = values
        start = decode_cursor(cursor, expected_keys={PARTITION_KEY, SORT_KEY, f"{index}pk", f"{index}sk"})
        if start:
            query["ExclusiveStartKey"] = start
        response = self.table.query(**query)
        return Page[ConversationSummary](
            items=[items.from_item(ConversationSummary, item) for item in response.get("Items", [])],
            next_cursor=encode_cursor(response.get("LastEvaluatedKey")),
        )
