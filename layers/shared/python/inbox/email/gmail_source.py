"""The Gmail mailbox source: the messages that arrived in an account's INBOX since its cursor, read
through the Gmail API with the account's access token (PROTOCOLS.md, "Gmail"). Read-only.

The cursor is Gmail's history id the account is synced up to, and while a backfill is under way
where it stands:

    {"history_id": "4242"}
    {"history_id": "4242", "backfill": {"since": "2026-07-01T09:00:00+00:00",
                                        "page": "<messages.list pageToken>" | null,
                                        "handed": ["18f2c3a1b2c3d4e5", ...]}}

A first poll (no cursor) reads the mailbox's `historyId` from `users.getProfile`, then backfills:
`messages.list` of the INBOX with `after:` the start of the backfill, page after page, keeping the
messages whose `internalDate` is within it. `page` is the page being handed over and `handed` the
ids of that page already handed over (at most a page, so the cursor stays small), which lets a
killed poll resume where it stopped. Whatever arrives meanwhile comes next from the history (from
the profile's `historyId`, read before the first page), so a list shifted by new mail loses nothing.

Every poll then reads `history.list` from `history_id` (`messageAdded` records of the INBOX,
oldest first): after each batch `history_id` moves to the record before the first message not yet
handed over, and to the answer's `historyId` once the history is read to its end, so even a quiet
mailbox keeps a recent cursor. A history id Gmail no longer keeps (404) means syncing afresh: a new
backfill over `backfill_days` (the router drops what it already has, by Message-ID).

Messages are fetched one by one (`messages.get?format=raw`); a batch ends at `batch_messages`, or
before the message that would take it over `batch_bytes` (a bigger message is a batch alone), so
memory follows the batch. A message deleted since it was listed is passed over; one listed twice
in a poll is fetched once.

Failures are `PeerError`s, as `inbox.email.gmail_api` words them: `auth` only for the account's
refusal (the token refused after a renewal, the grant revoked), `throttled` for quota.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inbox.accounts.check_report import PeerError
from inbox.email.gmail_api import TIMEOUT_SECONDS, GmailApi, GmailInvalid, GmailMissing
from inbox.email.mailbox import Batch, Limits, RawMail
from inbox.observability import logger

if TYPE_CHECKING:
    from inbox.oauth.tokens import Tokens

# Ids per messages.list and history.list page (Gmail's default): `handed` holds at most one page.
PAGE_SIZE = 100
INBOX = "INBOX"


@dataclass
class Backfill:
    since: datetime  # messages that arrived before it are not imported
    page: str | None = None  # the messages.list page being handed over (None: the first)
    handed: list[str] = field(default_factory=list)  # that page's ids already handed over


@dataclass
class GmailCursor:
    history_id: str
    backfill: Backfill | None = None

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"history_id": self.history_id}
        if self.backfill is not None:
            fill = self.backfill
            value["backfill"] = {
                "since": fill.since.isoformat(),
                "page": fill.page,
                "handed": list(fill.handed),
            }
        return value

    @classmethod
    def from_json(cls, value: object) -> GmailCursor | None:
        """The saved cursor, or None when it is not one (the mailbox is then synced afresh)."""
        if not isinstance(value, dict):
            return None
        history_id, fill = value.get("history_id"), value.get("backfill")
        if not (isinstance(history_id, str) and history_id.isdigit()):
            return None
        if fill is None:
            return cls(history_id)
        if not isinstance(fill, dict):
            return None
        since, page, handed = fill.get("since"), fill.get("page"), fill.get("handed")
        try:
            start = datetime.fromisoformat(since) if isinstance(since, str) else None
        except ValueError:
            start = None
        if start is None or not (page is None or isinstance(page, str)) or not isinstance(handed, list):
            return None
        return cls(history_id, Backfill(_aware(start), page, [str(i) for i in handed]))


class GmailSource:
    """A Gmail account's INBOX as a `MailboxSource` (`inbox.email.mailbox`)."""

    def __init__(self, tokens: Tokens, *, api_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self._tokens = tokens
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout

    def batches(self, cursor: dict[str, Any] | None, limits: Limits) -> Iterator[Batch]:
        """The INBOX's new messages in batches, each with the cursor after it; at least one batch
        when the poll succeeds. Stops at the deadline with a last, empty batch marked `more`."""
        gmail = GmailApi(self._tokens, self._api_url, self._timeout, limits)
        yield from _Poll(gmail, limits).run(GmailCursor.from_json(cursor))


class _Poll:
    """One poll: the cursor as it moves, the batch being filled, what was handed over already."""

    def __init__(self, gmail: GmailApi, limits: Limits) -> None:
        self.gmail, self.limits = gmail, limits
        self.handed: set[str] = set()
        self.carried: RawMail | None = None  # fetched, but over the last batch's bytes: the next one's
        self.last: dict[str, Any] | None = None  # the cursor of the last batch yielded

    def run(self, saved: GmailCursor | None) -> Iterator[Batch]:
        cursor = saved or self.start()
        for _attempt in range(2):
            if cursor.backfill is not None:
                finished = yield from self.backfill(cursor, cursor.backfill)
                if not finished:
                    return
            try:
                finished = yield from self.history(cursor)
            except GmailMissing:
                logger.info("Gmail no longer keeps the history from the cursor: syncing afresh")
                cursor = self.start()
                continue
            if finished and self.last != cursor.to_json():
                yield self.batch([], cursor)
            return
        raise PeerError("protocol", "Gmail answered 404 for the history of a fresh start.")

    def start(self) -> GmailCursor:
        """Where a mailbox synced afresh starts: its history now, after a backfill if one is asked."""
        profile = self.gmail.get("reading the mailbox's profile", "profile")
        history_id = str(profile.get("historyId") or "")
        if not history_id.isdigit():
            raise PeerError("protocol", "Gmail's profile of the mailbox has no historyId.")
        if self.limits.backfill_days == 0:
            return GmailCursor(history_id)
        now = _aware(self.limits.now or datetime.now(UTC))
        return GmailCursor(history_id, Backfill(now - timedelta(days=self.limits.backfill_days)))

    def backfill(self, cursor: GmailCursor, fill: Backfill) -> Generator[Batch, None, bool]:
        """The INBOX's messages that arrived since the backfill's start, page by page; False when
        the deadline stopped the poll."""
        while True:
            params: dict[str, Any] = {"q": f"after:{int(fill.since.timestamp())}", "labelIds": INBOX}
            params |= {"maxResults": PAGE_SIZE} | ({"pageToken": fill.page} if fill.page else {})
            try:
                page = self.gmail.get("listing the messages to backfill", "messages", params)
            except GmailInvalid:
                if fill.page is None:
                    raise
                # A page token Gmail no longer takes: the backfill again from its first page.
                fill.page, fill.handed = None, []
                continue
            handed = set(fill.handed)
            listed = [i for i in _ids(page.get("messages"), lambda m: m) if i not in handed]
            following = page.get("nextPageToken") if isinstance(page.get("nextPageToken"), str) else None
            before = list(fill.handed)

            def advance(
                count: int,
                listed: list[str] = listed,
                before: list[str] = before,
                following: str | None = following,
            ) -> None:
                fill.handed = before + listed[:count]
                if count == len(listed):  # the page is passed: the next one, or the backfill is over
                    fill.page, fill.handed = following, []
                    if following is None:
                        cursor.backfill = None

            finished = yield from self.deliver(
                cursor, listed, advance, lambda mail: mail.arrived_at >= fill.since
            )
            if not finished:
                return False
            if following is None:
                return True

    def history(self, cursor: GmailCursor) -> Generator[Batch, None, bool]:
        """The INBOX's messages added since `history_id`, page by page; False at the deadline."""
        start, page_token = cursor.history_id, None
        while True:
            params: dict[str, Any] = {
                "startHistoryId": start,
                "historyTypes": "messageAdded",
                "labelId": INBOX,
                "maxResults": PAGE_SIZE,
            }
            if page_token:
                params["pageToken"] = page_token
            page = self.gmail.get("reading the mailbox's history", "history", params)
            listed: list[str] = []
            before: list[str] = []  # per message: the history id of the record before its record
            previous = start
            for record in page.get("history") or []:
                if not isinstance(record, dict):
                    continue
                added = _ids(
                    record.get("messagesAdded"), lambda a: a.get("message") if isinstance(a, dict) else None
                )
                listed += added
                before += [previous] * len(added)
                record_id = str(record.get("id") or "")
                previous = record_id if record_id.isdigit() else previous
            following = page.get("nextPageToken") if isinstance(page.get("nextPageToken"), str) else None
            latest = str(page.get("historyId") or "")
            end = previous if following or not latest.isdigit() else latest

            def advance(count: int, before: list[str] = before, end: str = end) -> None:
                cursor.history_id = before[count] if count < len(before) else end

            finished = yield from self.deliver(cursor, listed, advance, lambda mail: True)
            if not finished:
                return False
            if following is None:
                return True
            page_token = following

    def deliver(
        self,
        cursor: GmailCursor,
        listed: list[str],
        advance: Callable[[int], None],
        keep: Callable[[RawMail], bool],
    ) -> Generator[Batch, None, bool]:
        """The `listed` messages in batches; `advance(n)` moves the cursor past the first n."""
        done = 0
        while done < len(listed):
            if self.limits.expired():
                yield self.batch([], cursor, more=True)
                return False
            mails, done = self.gather(listed, done, keep)
            advance(done)
            yield self.batch(mails, cursor)
        advance(len(listed))
        return True

    def gather(
        self, listed: list[str], start: int, keep: Callable[[RawMail], bool]
    ) -> tuple[list[RawMail], int]:
        """The next batch from `listed[start:]`, and how far into `listed` it reaches."""
        mails: list[RawMail] = []
        size, at = 0, start
        while at < len(listed) and len(mails) < self.limits.batch_messages:
            if at > start and self.limits.expired():
                break
            mail = self.take(listed[at])
            if mail is not None and mails and size + len(mail.raw) > self.limits.batch_bytes:
                self.carried = mail
                break
            at += 1
            if mail is not None and keep(mail):
                mails.append(mail)
                size += len(mail.raw)
                self.handed.add(mail.uid)
        return mails, at

    def take(self, message_id: str) -> RawMail | None:
        """The message, fetched unless this poll handed it over already (None: that, or deleted)."""
        if self.carried is not None and self.carried.uid == message_id:
            mail, self.carried = self.carried, None
            return mail
        if message_id in self.handed:
            return None
        try:
            found = self.gmail.get("fetching a message", f"messages/{message_id}", {"format": "raw"})
        except GmailMissing:
            return None  # deleted since it was listed
        return _raw_mail(message_id, found)

    def batch(self, mails: list[RawMail], cursor: GmailCursor, *, more: bool = False) -> Batch:
        self.last = cursor.to_json()
        return Batch(mails, self.last, more)


def _raw_mail(message_id: str, found: dict[str, Any]) -> RawMail:
    """The message of a `messages.get?format=raw` answer (`raw` is base64url RFC 822)."""
    raw, internal, thread = found.get("raw"), found.get("internalDate"), found.get("threadId")
    try:
        if not isinstance(raw, str):
            raise ValueError("no raw")
        content = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        arrived = datetime.fromtimestamp(int(str(internal)) / 1000, UTC)
    except (binascii.Error, ValueError):
        raise PeerError(
            "protocol", f"Gmail's message {message_id} has no readable raw content or internalDate."
        ) from None
    thread_id = thread if isinstance(thread, str) and thread else None
    return RawMail(raw=content, arrived_at=arrived, folder=INBOX, uid=message_id, thread_id=thread_id)


def _ids(entries: object, message: Callable[[Any], Any]) -> list[str]:
    """The message ids in a list of messages (`message` picks each entry's message)."""
    found: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        value = message(entry)
        if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
            found.append(value["id"])
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
