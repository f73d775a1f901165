"""The sandbox's Gmail mailboxes: what `users.getProfile`, `messages.list`, `messages.get`,
`history.list` and `messages.send` answer for one mailbox, in Gmail's JSON and error shapes.
Local-only code (not in the Lambda layer); `inbox.local.sandbox.google` serves it over HTTP,
after checking the access token.

A mailbox keeps a history: each message added (delivered, or sent) is a `messageAdded` record
with a greater id, and the mailbox's `historyId` is the latest one. History older than
`oldest_history_id` is gone (Gmail keeps about a week): a `startHistoryId` before it is 404, and
the client must sync afresh. Lists are newest first, as Gmail's; page tokens are opaque to the
client and say where the previous page ended, so a page asked for again after new mail arrived
starts where it did.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http import HTTPStatus
from typing import Any

DEFAULT_PAGE, MAX_PAGE = 100, 500  # Gmail's maxResults for messages.list and history.list
FIRST_HISTORY_ID = 1000


class Refusal(Exception):
    """An error answer: its status, body (JSON, or a page's text) and headers."""

    def __init__(
        self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def gmail_error(status: int, message: str, reason: str, grpc: str) -> Refusal:
    """Gmail's error shape: `{"error": {"code", "message", "errors": [{"reason"}], "status"}}`."""
    error = {
        "code": status,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
        "status": grpc,
    }
    return Refusal(status, {"error": error})


def invalid(message: str) -> Refusal:
    return gmail_error(HTTPStatus.BAD_REQUEST, message, "invalidArgument", "INVALID_ARGUMENT")


def not_found() -> Refusal:
    return gmail_error(HTTPStatus.NOT_FOUND, "Requested entity was not found.", "notFound", "NOT_FOUND")


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    internal_date: int  # ms since the epoch: when it arrived in the mailbox
    labels: tuple[str, ...]
    history_id: int = 0

    def message_id(self) -> str:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        return str(parsed.get("Message-ID", "")).strip().strip("<>")


@dataclass(frozen=True)
class HistoryRecord:
    """A `messageAdded` record: the message as it was added (it may be deleted since)."""

    id: int
    message_id: str
    thread_id: str
    labels: tuple[str, ...]


@dataclass
class Mailbox:
    """One Gmail user: its messages, and the history of what was added to it."""

    address: str
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    history: list[HistoryRecord] = field(default_factory=list)
    history_id: int = FIRST_HISTORY_ID
    oldest_history_id: int = FIRST_HISTORY_ID  # an older startHistoryId is 404
    page_size: int | None = None  # pages never longer than this (Gmail may give fewer than asked)

    def add(
        self, raw: bytes, *, arrived_at: datetime, labels: tuple[str, ...], thread_id: str | None = None
    ) -> StoredMessage:
        """A message arriving (or sent): stored, and recorded in the history."""
        message_id = secrets.token_hex(8)
        stored = StoredMessage(
            message_id, thread_id or message_id, raw, int(arrived_at.timestamp() * 1000), labels
        )
        self.messages[message_id] = stored
        stored.history_id = self.record(stored)
        return stored

    def record(self, message: StoredMessage) -> int:
        """A new `messageAdded` record for `message`; its id."""
        # Ids grow by more than one, as Gmail's do: a client must not count on them being dense.
        self.history_id += 3
        self.history.append(HistoryRecord(self.history_id, message.id, message.thread_id, message.labels))
        return self.history_id

    # --- the API --------------------------------------------------------------------------------

    def profile(self) -> dict[str, Any]:
        return {
            "emailAddress": self.address,
            "messagesTotal": len(self.messages),
            "threadsTotal": len({m.thread_id for m in self.messages.values()}),
            "historyId": str(self.history_id),
        }

    def list_messages(
        self, *, q: str, label_ids: list[str], page_token: str | None, max_results: str
    ) -> dict[str, Any]:
        """`messages.list`: the ids of the messages with every label that match `q`, newest first."""
        matches = _query(q)
        found = sorted(
            (m for m in self.messages.values() if set(label_ids) <= set(m.labels) and matches(m)),
            key=lambda m: (-m.internal_date, m.id),
        )
        after = _position(page_token)
        if after is not None:
            found = [m for m in found if [-m.internal_date, m.id] > after]
        limit = self._limit(max_results)
        page, rest = found[:limit], found[limit:]
        body: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if rest:
            body["nextPageToken"] = _token([-page[-1].internal_date, page[-1].id])
        return body

    def get(self, message_id: str, *, form: str) -> dict[str, Any]:
        """`messages.get` with `format=raw` (the RFC 822 bytes, base64url) or `minimal`."""
        stored = self.messages.get(message_id)
        if stored is None:
            raise not_found()
        answer: dict[str, Any] = {
            "id": stored.id,
            "threadId": stored.thread_id,
            "labelIds": list(stored.labels),
            "snippet": "",
            "sizeEstimate": len(stored.raw),
            "historyId": str(stored.history_id),
            "internalDate": str(stored.internal_date),
        }
        if form == "raw":
            answer["raw"] = base64.urlsafe_b64encode(stored.raw).decode("ascii")
        elif form != "minimal":
            raise invalid(f"The sandbox serves format=raw or minimal, not {form}")
        return answer

    def history_since(
        self, *, start: str, types: list[str], label: str | None, page_token: str | None, max_results: str
    ) -> dict[str, Any]:
        """`history.list`: the records after `start` (oldest first) whose message had `label`."""
        if not start.isdigit():
            raise invalid("Invalid startHistoryId")
        if int(start) < self.oldest_history_id:
            raise not_found()
        after = _position(page_token)
        floor = max(int(start), int(after[0]) if after else 0)
        wanted = not types or "messageAdded" in types  # the only kind of record the sandbox keeps
        records = [r for r in self.history if wanted and r.id > floor and (not label or label in r.labels)]
        limit = self._limit(max_results)
        page, rest = records[:limit], records[limit:]
        body: dict[str, Any] = {"historyId": str(self.history_id)}
        if page:
            body["history"] = [_history_record(r) for r in page]
        if rest:
            body["nextPageToken"] = _token([page[-1].id])
        return body

    def send(self, body: object) -> tuple[StoredMessage, dict[str, Any]]:
        """`messages.send` of `{"raw", "threadId"?}`: the message kept with the SENT label, in the
        given thread (which must exist) or a new one."""
        fields = body if isinstance(body, dict) else {}
        raw, thread = fields.get("raw"), fields.get("threadId")
        try:
            content = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)) if isinstance(raw, str) else b""
        except (binascii.Error, ValueError):
            content = b""
        if not content:
            raise invalid("Invalid value for ByteString")
        if thread is not None and not any(m.thread_id == thread for m in self.messages.values()):
            raise not_found()
        stored = self.add(content, arrived_at=datetime.now(UTC), labels=("SENT",), thread_id=thread)
        return stored, {"id": stored.id, "threadId": stored.thread_id, "labelIds": ["SENT"]}

    def _limit(self, max_results: str) -> int:
        asked = int(max_results) if max_results.isdigit() and int(max_results) > 0 else DEFAULT_PAGE
        limit = min(asked, MAX_PAGE)
        return min(limit, self.page_size) if self.page_size else limit


def _history_record(record: HistoryRecord) -> dict[str, Any]:
    message = {"id": record.message_id, "threadId": record.thread_id}
    return {
        "id": str(record.id),
        "messages": [message],
        "messagesAdded": [{"message": {**message, "labelIds": list(record.labels)}}],
    }


def _query(q: str) -> Callable[[StoredMessage], bool]:
    """A predicate for the part of Gmail's search the product uses: `after:` and `before:`
    (epoch seconds or yyyy/mm/dd, on internalDate) and `rfc822msgid:`; 400 for anything else."""
    after, before, message_id = 0, None, None
    for term in q.split():
        name, _, value = term.partition(":")
        bound = _bound(value)
        if name == "after" and bound is not None:
            after = max(after, bound)
        elif name == "before" and bound is not None:
            before = bound if before is None else min(before, bound)
        elif name == "rfc822msgid" and value:
            message_id = value.strip("<>")
        else:
            raise invalid(f"The sandbox does not search for {term!r}")

    def matches(message: StoredMessage) -> bool:
        return (
            message.internal_date >= after
            and (before is None or message.internal_date < before)
            and (message_id is None or message.message_id() == message_id)
        )

    return matches


def _bound(value: str) -> int | None:
    """A search date in ms: epoch seconds, or yyyy/mm/dd (midnight UTC)."""
    if value.isdigit():
        return int(value) * 1000
    if re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", value):
        year, month, day = (int(part) for part in value.split("/"))
        return int(datetime(year, month, day, tzinfo=UTC).timestamp() * 1000)
    return None


def _token(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode("ascii")


def _position(token: str | None) -> list[Any] | None:
    """Where the previous page ended; 400 for a token the sandbox never gave."""
    if token is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError):
        position = None
    if not isinstance(position, list) or not position:
        raise invalid("Invalid pageToken")
    return position
