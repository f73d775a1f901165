"""Conversations, messages and contacts in the table, and the router's writes to them.

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
- `pk = MAILREF#<account>#<sha256 of a Message-ID>, sk = THREAD`: the conversation an email with
  that Message-ID belongs to; a reply naming it (In-Reply-To, References) joins that conversation.
- Workloads (`pk = WORKLOAD`): `store.workloads`.

The routing of one message is one transaction (`ConversationStore.commit_routing`) of the writes
built here and in `store.workloads`, the dedupe record first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from inbox.conversations import AutoReplyRecord, ContactState, Conversation, ConversationSummary, Message
from inbox.errors import Conflict, NotFound
from inbox.store import dynamo, items
from inbox.store.pagination import Page, decode_cursor, encode_cursor
from inbox.store.schema import PARTITION_KEY, SORT_KEY
from inbox.store.workloads import Workloads, read_workloads
from inbox.timeline import ConversationEvent


class AlreadyRouted(Exception):
    """The message was routed before (its dedupe record exists): nothing was written."""


class RecordTooLarge(Exception):
    """An item of the routing is over DynamoDB's 400 KB: nothing was written."""


class RoutingContended(Exception):
    """A concurrent change (a workload, the conversation) failed a condition: nothing was written;
    decide again on fresh reads."""


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


def mail_ref_key(account_id: str, message_id: str) -> dict[str, str]:
    digest = hashlib.sha256(message_id.encode()).hexdigest()
    return items.key(f"MAILREF#{account_id}#{digest}", "THREAD")


def mail_ref_write(account_id: str, message_id: str, conversation_id: str) -> dict[str, Any]:
    """Remember which conversation the email with this Message-ID is in (for its replies)."""
    return items.put({**mail_ref_key(account_id, message_id), "conversation_id": conversation_id})


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
    # The list filter by label reads the ids (`contains`); the labels keep their name and colour.
    return items.to_item(conversation, **keys, label_ids=[label.id for label in conversation.labels])


def conversation_write(conversation: Conversation, version: str) -> dict[str, Any]:
    """The conversation as changed, if it is still the one read (`version`: its `updated_at` as
    stored); its index keys follow its status, assignee and last message."""
    return items.put(
        conversation_item(conversation), condition="updated_at = :version", values={":version": version}
    )


def free_contact_write(store: ConversationStore, conversation: Conversation) -> dict[str, Any] | None:
    """The contact no longer in `conversation` (closed): its next message opens a new one. None
    when the contact's state points elsewhere already."""
    key = contact_key(conversation.account_id, conversation.contact.address)
    item = store.table.get_item(Key=key, ConsistentRead=True).get("Item")
    if item is None or item.get("open_conversation_id") != conversation.id:
        return None
    return {
        "Update": {
            "Key": key,
            "UpdateExpression": "REMOVE open_conversation_id",
            "ConditionExpression": "open_conversation_id = :id",
            "ExpressionAttributeValues": {":id": conversation.id},
        }
    }


def claim_contact_write(conversation: Conversation) -> dict[str, Any]:
    """The contact back in `conversation` (reopened), unless it has another open one meanwhile."""
    return {
        "Update": {
            "Key": contact_key(conversation.account_id, conversation.contact.address),
            "UpdateExpression": "SET open_conversation_id = :id",
            "ConditionExpression": "attribute_exists(pk) AND "
            "(attribute_not_exists(open_conversation_id) OR open_conversation_id = :id)",
            "ExpressionAttributeValues": {":id": conversation.id},
        }
    }


def message_item(message: Message) -> dict[str, Any]:
    raw = json.loads(json.dumps(message.raw), parse_float=Decimal)  # DynamoDB takes no floats
    item = items.to_item(message, **message_key(message), raw=raw)
    # What the API never shows but reads back: where the raw mail and each attachment are kept,
    # the provider's thread.
    if message.raw_key:
        item["raw_key"] = message.raw_key
    if message.thread_id:
        item["thread_id"] = message.thread_id
    if message.template is not None:
        item["template"] = items.to_item(message.template)
    if message.attachments:
        item["attachments"] = [{**items.to_item(a), "key": a.key} for a in message.attachments]
    return item


def event_key(event: ConversationEvent) -> dict[str, str]:
    return items.key(f"CONV#{event.conversation_id}", f"EVENT#{event.at.isoformat()}#{event.id}")


def event_write(event: ConversationEvent) -> dict[str, Any]:
    return items.put(items.to_item(event, **event_key(event)), condition=items.NOT_EXISTS)


def replied_write(conversation: Conversation, at: datetime) -> dict[str, Any]:
    """The conversation after a reply: its last message and the lists' order follow; its status
    (read with it, part of the index keys) must still be the one read."""
    order = f"{at.isoformat()}#{conversation.id}"
    values: dict[str, Any] = {
        ":t": at.isoformat(),
        ":status": conversation.status.value,
        ":status_order": f"{conversation.status}#{order}",
        ":order": order,
    }
    expression = "SET last_message_at = :t, updated_at = :t, gsi1sk = :status_order, gsi3sk = :order"
    if conversation.assignee_id:
        expression += ", gsi2sk = :status_order"
    return {
        "Update": {
            "Key": conversation_key(conversation.id),
            "UpdateExpression": expression,
            "ConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }
    }


def seen_write(
    account_id: str,
    provider_message_id: str,
    *,
    conversation_id: str,
    message_id: str,
    pending_reply: BaseModel | None = None,
) -> dict[str, Any]:
    """The dedupe record of an inbound message, remembering the auto-reply handed to the queue."""
    seen: dict[str, Any] = {
        **inbound_key(account_id, provider_message_id),
        "conversation_id": conversation_id,
        "message_id": message_id,
    }
    if pending_reply is not None:
        seen["pending_reply"] = pending_reply.model_dump()
    return items.put(seen, condition=items.NOT_EXISTS)


def new_conversation_write(conversation: Conversation) -> dict[str, Any]:
    return items.put(conversation_item(conversation), condition=items.NOT_EXISTS)


def new_message_write(message: Message) -> dict[str, Any]:
    return items.put(message_item(message), condition=items.NOT_EXISTS)


def new_contact_write(state: ContactState) -> dict[str, Any]:
    """The contact's state for a conversation the team starts: it must have no open one (a
    message of theirs routed meanwhile opened one: start again, or reply there)."""
    return items.put(
        items.to_item(state, **contact_key(state.account_id, state.address)),
        condition="attribute_not_exists(pk) OR attribute_not_exists(open_conversation_id)",
    )


def contact_write(account_id: str, state: ContactState) -> dict[str, Any]:
    return items.put(items.to_item(state, **contact_key(account_id, state.address)))


def touch_write(
    conversation_id: str,
    sent_at: datetime,
    window: datetime | None,
    now: datetime,
    record: AutoReplyRecord,
    *,
    reopening: bool = False,
) -> dict[str, Any]:
    """The update of a conversation by a new inbound message: open (`reopening`: an email answer
    in a closed thread, which must still be closed; else it must still be open), its last message
    and indexes follow, and the WhatsApp service window (`window`; None for email)."""
    order = f"{sent_at.isoformat()}#{conversation_id}"
    values: dict[str, Any] = {
        ":t": sent_at.isoformat(),
        ":now": now.isoformat(),
        ":open": "open",
        ":open_order": f"open#{order}",
        ":order": order,
        ":record": items.to_item(record),
    }
    expression = (
        "SET #status = :open, last_message_at = :t, last_inbound_at = :t, updated_at = :now, "
        "gsi1sk = :open_order, gsi2sk = :open_order, gsi3sk = :order, routing.auto_reply = :record"
    )
    if window is not None:
        expression += ", window_expires_at = :w"
        values[":w"] = window.isoformat()
    return {
        "Update": {
            "Key": conversation_key(conversation_id),
            "UpdateExpression": expression,
            "ConditionExpression": "#status = :expected",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {**values, ":expected": "closed" if reopening else "open"},
        }
    }


class ConversationStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def contact(self, account_id: str, address: str) -> ContactState | None:
        item = self.table.get_item(Key=contact_key(account_id, address), ConsistentRead=True).get("Item")
        return None if item is None else items.from_item(ContactState, item)

    def get(self, conversation_id: str) -> Conversation:
        return self.read(conversation_id)[0]

    def read(self, conversation_id: str) -> tuple[Conversation, str]:
        """The conversation and its version (its `updated_at` as stored, for `conversation_write`)."""
        item = self.table.get_item(Key=conversation_key(conversation_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"No conversation with id {conversation_id!r}.", code="conversation_not_found")
        return items.from_item(Conversation, item), str(item["updated_at"])

    def messages(self, conversation_id: str, *, cursor: str | None, limit: int) -> Page[Message]:
        return items.query_page(
            self.table,
            Message,
            partition=f"CONV#{conversation_id}",
            prefix="MSG#",
            cursor=cursor,
            limit=limit,
        )

    def newest_first(self, conversation_id: str, *, before: datetime | None = None) -> Iterator[Message]:
        """The conversation's messages from the newest back (those created before `before`), read
        a page at a time as the caller goes on."""
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": f"CONV#{conversation_id}", ":prefix": "MSG#"},
            "ScanIndexForward": False,
            "Limit": 25,
            "ConsistentRead": True,
        }
        while True:
            response = self.table.query(**query)
            for item in response.get("Items", []):
                message = items.from_item(Message, item)
                if before is None or message.created_at < before:
                    yield message
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def events(self, conversation_id: str, *, cursor: str | None, limit: int) -> Page[ConversationEvent]:
        return items.query_page(
            self.table,
            ConversationEvent,
            partition=f"CONV#{conversation_id}",
            prefix="EVENT#",
            cursor=cursor,
            limit=limit,
        )

    def claim_contact_write(self, conversation: Conversation) -> dict[str, Any]:
        return claim_contact_write(conversation)

    def commit(self, writes: Sequence[dict[str, Any]]) -> None:
        """Writes of one change, all or none; a failed condition is `Conflict` (`conversation_changed`)."""

        def conflict(reasons: list[str]) -> Exception:
            return Conflict(
                "The conversation changed meanwhile: read it again and retry.", code="conversation_changed"
            )

        items.transact(self.table, list(writes), on_conflict=conflict)

    def thread_of(self, account_id: str, message_ids: Sequence[str]) -> str | None:
        """The conversation of the first of `message_ids` the account has a message of (a reply's
        In-Reply-To first, then its References from the latest): one batch read."""
        wanted = list(dict.fromkeys(message_ids))[:100]
        if not wanted:
            return None
        found = items.get_many(self.table, [mail_ref_key(account_id, m) for m in wanted])
        for item in found:
            if item is not None:
                return str(item["conversation_id"])
        return None

    def message(self, conversation_id: str, message_id: str) -> Message:
        """One message of a conversation (its sort key starts with its time: the partition is read
        with a filter on the id, a conversation being a bounded number of messages)."""
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "FilterExpression": "id = :id",
            "ExpressionAttributeValues": {
                ":pk": f"CONV#{conversation_id}",
                ":prefix": "MSG#",
                ":id": message_id,
            },
        }
        while True:
            response = self.table.query(**query)
            if response.get("Items"):
                return items.from_item(Message, response["Items"][0])
            if "LastEvaluatedKey" not in response:
                raise NotFound(f"No message with id {message_id!r}.", code="message_not_found")
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def workloads(self) -> Workloads:
        """Each user's open assigned conversations and when they were last assigned one."""
        return read_workloads(self.table)

    def commit_routing(self, seen: dict[str, Any], writes: Sequence[dict[str, Any]]) -> None:
        """The routing of one message, all at once: `seen` (`seen_write`) first, whose condition
        makes a replay `AlreadyRouted`; any other failed condition is `RoutingContended`."""

        def conflict(reasons: list[str]) -> Exception:
            if reasons and reasons[0] == items.CONDITION_FAILED:
                return AlreadyRouted()
            if items.VALIDATION_ERROR in reasons:
                return RecordTooLarge("an item of the message is over DynamoDB's 400 KB")
            return RoutingContended(reasons)

        try:
            items.transact(self.table, [seen, *writes], on_conflict=conflict)
        except ClientError as error:
            if not items.too_large(error):
                raise
            raise RecordTooLarge(error.response["Error"].get("Message", "item too large")) from error

    def was_routed(self, account_id: str, provider_message_id: str) -> bool:
        """Whether the inbound message was routed already (its dedupe record exists)."""
        key = inbound_key(account_id, provider_message_id)
        return "Item" in self.table.get_item(Key=key, ProjectionExpression="pk")

    def pending_reply(self, account_id: str, provider_message_id: str) -> dict[str, Any] | None:
        """The auto-reply the routing of this inbound message handed to the queue, if any."""
        seen = self.table.get_item(Key=inbound_key(account_id, provider_message_id)).get("Item") or {}
        pending = seen.get("pending_reply")
        return items.plain(pending) if pending else None

    def advance_status(
        self, key: dict[str, str], *, status: str, rank: int, at: datetime, error: BaseModel | None
    ) -> bool:
        """Set the message's delivery status if it ranks above the one it has (never backwards);
        False when nothing changed (a lower or equal rank, or no such message)."""
        values: dict[str, Any] = {":status": status, ":rank": rank, ":at": at.isoformat()}
        expression = "SET #status = :status, status_rank = :rank, status_at = :at"
        if error is not None:
            expression += ", #error = :error"
            values[":error"] = items.to_item(error)
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(status_rank) OR status_rank < :rank)",
                ExpressionAttributeNames={"#status": "status", **({"#error": "error"} if error else {})},
                ExpressionAttributeValues=values,
            )
        except ClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def fail_queued(self, message: Message, error: BaseModel) -> None:
        """A queued message that will never be sent (its hand-over failed): `failed` with `error`,
        unless a sender took it meanwhile."""
        try:
            self.table.update_item(
                Key=message_key(message),
                UpdateExpression="SET #status = :failed, #error = :error",
                ConditionExpression="#status = :queued",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":failed": "failed",
                    ":queued": "queued",
                    ":error": items.to_item(error),
                },
            )
        except ClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

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
