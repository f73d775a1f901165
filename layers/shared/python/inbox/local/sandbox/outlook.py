"""The sandbox's Outlook mailboxes: what Microsoft Graph answers for one signed-in user (`/me`),
their Inbox's delta query, a message's MIME, Sent Items, and `sendMail`, in Graph's JSON and
error shapes. Local-only code (not in the Lambda layer); `inbox.local.sandbox.microsoft` serves it
over HTTP, after checking the access token.

Every message delivered or deleted is a change with a greater sequence number. A delta round
lists, when it starts, either the Inbox (an initial round: filtered on `receivedDateTime ge|gt`,
restricted to `$select`) or the changes after the round it continues (its `$deltatoken`): created
messages, and `@removed` ones. The listing is fixed for the round; its pages are `$skiptoken`
links, the last one carries the `$deltatoken` of the next round, and what changes meanwhile comes
in that next round, so nothing is missed. `changeType=created` (or `deleted`) on the initial round
keeps only those changes, in every later round too, as Graph encodes the query in its tokens.
Tokens are opaque; `expire_sync_state` makes every token issued so far unknown (410
`syncStateNotFound`), as Graph does with a state kept too long.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http import HTTPStatus
from typing import Any
from uuid import uuid4

DEFAULT_PAGE = 10  # Graph's page of a message delta without `Prefer: odata.maxpagesize`
FIELDS = ("id", "receivedDateTime", "conversationId", "internetMessageId", "subject", "isRead")
RECEIVED_FILTER = re.compile(r"\s*receivedDateTime\s+(ge|gt)\s+(\S+)\s*", re.IGNORECASE)
MESSAGE_ID_FILTER = re.compile(r"\s*internetMessageId\s+eq\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
INBOX, SENT_ITEMS = "inbox", "sentitems"


class Refusal(Exception):
    """An error answer: its status, body (JSON, or a page's text) and headers."""

    def __init__(
        self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def graph_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Refusal:
    """Graph's error shape: `{"error": {"code", "message", "innerError": {...}}}`."""
    inner = {"date": _stamp(datetime.now(UTC)), "request-id": str(uuid4()), "client-request-id": str(uuid4())}
    return Refusal(status, {"error": {"code": code, "message": message, "innerError": inner}}, headers)


def sync_state_lost() -> Refusal:
    return graph_error(
        HTTPStatus.GONE, "syncStateNotFound", "The sync state generation is not found or has expired."
    )


@dataclass
class StoredMail:
    id: str
    raw: bytes
    received_at: datetime
    conversation_id: str
    folder: str

    def fields(self) -> dict[str, Any]:
        headers = message_from_bytes(self.raw, policy=policy.default)
        return {
            "id": self.id,
            "receivedDateTime": _stamp(self.received_at),
            "conversationId": self.conversation_id,
            "internetMessageId": str(headers.get("Message-ID", "") or ""),
            "subject": str(headers.get("Subject", "") or ""),
            "isRead": False,
        }


@dataclass(frozen=True)
class Query:
    """What the initial request of a sync asked, kept in every token of that sync."""

    since: datetime | None = None
    strictly_after: bool = False
    select: tuple[str, ...] = FIELDS
    created: bool = True
    deleted: bool = True

    def admits(self, mail: StoredMail) -> bool:
        if self.since is None:
            return True
        return mail.received_at > self.since if self.strictly_after else mail.received_at >= self.since


@dataclass
class Round:
    """A round being paged through (a `$skiptoken`): its listing, where the page starts, and the
    change it will continue from."""

    query: Query
    listing: list[tuple[str, bool]]  # (message id, removed)
    offset: int
    upto: int
    generation: int


@dataclass(frozen=True)
class Continuation:
    """A `$deltatoken`: the next round lists the changes after `upto`."""

    query: Query
    upto: int
    generation: int


@dataclass
class Mailbox:
    """One user's mailbox. `page_size` caps the pages it answers (whatever the client prefers)."""

    address: str
    user_principal_name: str
    mail: str | None
    display_name: str
    object_id: str = field(default_factory=lambda: str(uuid4()))
    page_size: int = 1000
    messages: dict[str, StoredMail] = field(default_factory=dict)
    changes: list[tuple[int, str, bool]] = field(default_factory=list)  # (sequence, id, removed)
    sequence: int = 0
    generation: int = 0
    _rounds: dict[str, Round] = field(default_factory=dict, init=False, repr=False)
    _continuations: dict[str, Continuation] = field(default_factory=dict, init=False, repr=False)

    def deliver(
        self, raw: bytes, *, received_at: datetime, conversation_id: str | None, folder: str = INBOX
    ) -> StoredMail:
        mail = StoredMail(
            "AAMkAD" + secrets.token_urlsafe(33) + "=",
            raw,
            received_at.astimezone(UTC).replace(microsecond=0),  # Graph keeps whole seconds
            conversation_id or "AAQkAD" + secrets.token_urlsafe(24) + "=",
            folder,
        )
        self.messages[mail.id] = mail
        self._change(mail.id, removed=False)
        return mail

    def delete(self, message_id: str) -> None:
        if self.messages.pop(message_id, None) is not None:
            self._change(message_id, removed=True)

    def expire_sync_state(self) -> None:
        self.generation += 1

    def me(self, select: str | None) -> dict[str, Any]:
        user = {
            "id": self.object_id,
            "displayName": self.display_name,
            "mail": self.mail,
            "userPrincipalName": self.user_principal_name,
        }
        if select:
            wanted = {name.strip() for name in select.split(",")}
            user = {name: value for name, value in user.items() if name in wanted or name == "id"}
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", **user}

    def delta(self, args: dict[str, str], prefer: str, link: str) -> dict[str, Any]:
        """One page of the Inbox's delta: the round its token names, or a new one. `link` is
        the URL the page's next/delta link starts with."""
        if "$skiptoken" in args:
            current = self._rounds.get(args["$skiptoken"])
            if current is None or current.generation != self.generation:
                raise sync_state_lost()
        elif "$deltatoken" in args:
            continued = self._continuations.get(args["$deltatoken"])
            if continued is None or continued.generation != self.generation:
                raise sync_state_lost()
            current = self._changes_after(continued)
        else:
            query = _query(args)
            listing = [(m.id, False) for m in self.messages.values() if m.folder == INBOX and query.admits(m)]
            current = Round(query, listing, 0, self.sequence, self.generation)
        size = min(_preferred_page(prefer), self.page_size)
        page = current.listing[current.offset : current.offset + size]
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(message)",
            "value": [self._item(message_id, removed, current.query) for message_id, removed in page],
        }
        if current.offset + size < len(current.listing):
            token = secrets.token_urlsafe(24)
            self._rounds[token] = Round(
                current.query, current.listing, current.offset + size, current.upto, self.generation
            )
            body["@odata.nextLink"] = f"{link}?$skiptoken={token}"
        else:
            token = secrets.token_urlsafe(24)
            self._continuations[token] = Continuation(current.query, current.upto, self.generation)
            body["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
        return body

    def mime(self, message_id: str) -> bytes:
        mail = self.messages.get(message_id)
        if mail is None:
            raise graph_error(
                HTTPStatus.NOT_FOUND, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return mail.raw

    def send(self, body: bytes) -> StoredMail:
        """`sendMail` with a MIME message (base64, as a text/plain body): filed in Sent Items."""
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise graph_error(
                HTTPStatus.BAD_REQUEST,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            ) from None
        headers = message_from_bytes(raw, policy=policy.default)
        if not (headers.get("To") or headers.get("Cc") or headers.get("Bcc")):
            raise graph_error(
                HTTPStatus.BAD_REQUEST, "ErrorInvalidRecipients", "At least one recipient isn't valid."
            )
        return self.deliver(raw, received_at=datetime.now(UTC), conversation_id=None, folder=SENT_ITEMS)

    def folder_messages(self, folder: str, args: dict[str, str]) -> dict[str, Any]:
        """A folder's messages, newest first, `$filter=internetMessageId eq '<...>'` and `$top`."""
        found = [m for m in self.messages.values() if m.folder == folder.lower()]
        wanted = args.get("$filter")
        if wanted:
            matched = MESSAGE_ID_FILTER.fullmatch(wanted)
            if matched is None:
                raise _invalid_filter()
            message_id = matched.group(1).replace("''", "'")
            found = [m for m in found if m.fields()["internetMessageId"] == message_id]
        found.sort(key=lambda m: m.received_at, reverse=True)
        top = int(args["$top"]) if args.get("$top", "").isdigit() else DEFAULT_PAGE
        select = _select(args.get("$select"))
        return {"value": [_selected(m.fields(), select) for m in found[:top]]}

    def _change(self, message_id: str, *, removed: bool) -> None:
        self.sequence += 1
        self.changes.append((self.sequence, message_id, removed))

    def _changes_after(self, continued: Continuation) -> Round:
        latest: dict[str, bool] = {}
        for sequence, message_id, removed in self.changes:
            if sequence > continued.upto:
                latest.pop(message_id, None)  # the last change of a message is where it lists
                latest[message_id] = removed
        query = continued.query
        listing = []
        for message_id, removed in latest.items():
            mail = self.messages.get(message_id)
            if removed and query.deleted:
                listing.append((message_id, True))
            elif mail is not None and mail.folder == INBOX and query.created and query.admits(mail):
                listing.append((message_id, False))
        return Round(query, listing, 0, self.sequence, self.generation)

    def _item(self, message_id: str, removed: bool, query: Query) -> dict[str, Any]:
        mail = self.messages.get(message_id)
        if removed or mail is None:  # deleted since the round listed it: its removal shows now
            return {
                "@odata.type": "#microsoft.graph.message",
                "id": message_id,
                "@removed": {"reason": "deleted"},
            }
        item = {"@odata.type": "#microsoft.graph.message", "@odata.etag": f'W/"{secrets.token_hex(8)}"'}
        return {**item, **_selected(mail.fields(), query.select)}


def _query(args: dict[str, str]) -> Query:
    since, strictly_after = None, False
    if args.get("$filter"):
        matched = RECEIVED_FILTER.fullmatch(args["$filter"])
        if matched is None:
            raise _invalid_filter()
        try:
            since = datetime.fromisoformat(matched.group(2))
        except ValueError:
            raise _invalid_filter() from None
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        strictly_after = matched.group(1).lower() == "gt"
    kinds = {kind.strip().lower() for kind in args.get("changeType", "").split(",") if kind.strip()}
    if kinds - {"created", "updated", "deleted"}:
        raise graph_error(
            HTTPStatus.BAD_REQUEST, "ErrorInvalidUrlQuery", "The changeType value is not valid."
        )
    created, deleted = ("created" in kinds, "deleted" in kinds) if kinds else (True, True)
    return Query(since, strictly_after, _select(args.get("$select")), created, deleted)


def _select(value: str | None) -> tuple[str, ...]:
    if not value:
        return FIELDS
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _selected(fields: dict[str, Any], select: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name in select or name == "id"}


def _preferred_page(prefer: str) -> int:
    matched = re.search(r"odata\.maxpagesize=(\d+)", prefer)
    return max(1, int(matched.group(1))) if matched else DEFAULT_PAGE


def _invalid_filter() -> Refusal:
    return graph_error(
        HTTPStatus.BAD_REQUEST,
        "ErrorInvalidUrlQueryFilter",
        "The query filter contains one or more invalid nodes.",
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
