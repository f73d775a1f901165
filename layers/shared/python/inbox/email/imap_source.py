"""The IMAP mailbox source: new messages of an account's folders since its cursor, read-only.

The cursor keeps, per folder, the UIDVALIDITY its UIDs belong to and the last UID handed over
(PROTOCOLS.md, "IMAP and SMTP"):

    {"folders": {"INBOX": {"uidvalidity": 1700000000, "last_uid": 4242, "since": null}}}

A poll with nothing new costs LOGIN, EXAMINE per folder and LOGOUT, however big the mailbox: EXAMINE
says the next UID, and nothing above the cursor means nothing to fetch. A folder seen for the first
time, or whose UIDVALIDITY changed (its old UIDs mean nothing), is backfilled: the messages that
arrived in the last `backfill_days` (INTERNALDATE), `since` remembering the bound until the folder
is caught up. New messages are fetched in batches bounded in count and bytes (sizes known before
bodies are fetched), so memory follows the batch, never the mailbox. The source never changes the
mailbox: EXAMINE, SEARCH and FETCH `BODY.PEEK[]` only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from inbox.accounts.check_report import PeerError
from inbox.accounts.models import ImapConfig
from inbox.email.imap import FolderStatus, ImapSession
from inbox.email.mailbox import Batch, Limits, RawMail

# A SEARCH covers at most this many UIDs (its answer stays well under imaplib's 1 MB line limit).
SEARCH_WINDOW = 10_000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class FolderCursor:
    uidvalidity: int
    last_uid: int
    since: datetime | None = None  # backfilling: messages that arrived before it are passed over

    def to_json(self) -> dict[str, Any]:
        since = self.since.isoformat() if self.since else None
        return {"uidvalidity": self.uidvalidity, "last_uid": self.last_uid, "since": since}

    @classmethod
    def from_json(cls, value: object) -> FolderCursor | None:
        """The saved cursor, or None when it is not one (the folder is then backfilled)."""
        if not isinstance(value, dict):
            return None
        uidvalidity, last_uid, since = value.get("uidvalidity"), value.get("last_uid"), value.get("since")
        if not (isinstance(uidvalidity, int) and isinstance(last_uid, int) and last_uid >= 0):
            return None
        try:
            start = _aware(datetime.fromisoformat(since)) if isinstance(since, str) else None
        except ValueError:
            start = None
        return cls(uidvalidity, last_uid, start)


class ImapSource:
    """An IMAP account's folders as a `MailboxSource` (`inbox.email.mailbox`)."""

    def __init__(
        self, config: ImapConfig, password: str, *, connect_timeout: float = 15, command_timeout: float = 30
    ) -> None:
        self._config = config
        self._password = password
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout

    def batches(self, cursor: dict[str, Any] | None, limits: Limits) -> Iterator[Batch]:
        """The new messages of each configured folder, in folder order then UID order, in batches
        with the cursor after each; at least one batch when the poll succeeds. Stops at the
        deadline with a last, empty batch marked `more`. Every failure is a `PeerError`."""
        saved = (cursor or {}).get("folders")
        saved = saved if isinstance(saved, dict) else {}
        cursors: dict[str, FolderCursor] = {}
        for name in self._config.folders:  # a folder no longer configured leaves the cursor
            if (folder := FolderCursor.from_json(saved.get(name))) is not None:
                cursors[name] = folder
        session = ImapSession.open(
            self._config, self._password, timeout=self._connect_timeout, command_timeout=self._command_timeout
        )
        with session:
            yield from _Poll(session, cursors, limits).run(self._config.folders)
            with suppress(PeerError):  # the poll is done: a server hanging up on LOGOUT changes nothing
                session.logout()


class _Poll:
    """One poll of one session: the cursors as they move, and what was handed out."""

    def __init__(self, session: ImapSession, cursors: dict[str, FolderCursor], limits: Limits) -> None:
        self.session = session
        self.cursors = cursors
        self.limits = limits
        self.yielded = False
        self.unsaved = False  # the cursor moved since the last batch

    def run(self, folders: list[str]) -> Iterator[Batch]:
        for folder in folders:
            finished = yield from self.folder(folder)
            if not finished:
                return
        if self.unsaved or not self.yielded:
            yield self.batch([])

    def batch(self, mails: list[RawMail], *, more: bool = False) -> Batch:
        self.yielded, self.unsaved = True, False
        folders = {name: cursor.to_json() for name, cursor in self.cursors.items()}
        return Batch(mails, {"folders": folders}, more)

    def folder(self, name: str) -> Generator[Batch, None, bool]:
        """The folder's new messages, in batches; False when the deadline stopped the poll."""
        status = self.session.examine(name)
        top = self.highest_uid(status)
        cursor = self.cursors.get(name)
        if cursor is None or cursor.uidvalidity != status.uidvalidity:
            cursor = self.cursors[name] = self.start(status, top)
            self.unsaved = True
        pending: deque[int] = deque()
        sizes: dict[int, int] = {}
        scanned = cursor.last_uid  # every UID up to here is in `pending` or handed over
        while pending or scanned < top:
            if self.limits.expired():
                yield self.batch([], more=True)
                return False
            if not pending:
                end = min(scanned + SEARCH_WINDOW, top)
                pending.extend(self.search(scanned + 1, end, cursor.since))
                scanned = end
                if not pending:
                    self.advance(cursor, scanned)
                    continue
            chunk, passed = self.plan(pending, sizes)
            mails = [
                RawMail(raw=raw, arrived_at=arrived, folder=name, uid=str(uid))
                for uid, raw, arrived in self.session.uid_fetch(chunk)
                if cursor.since is None or arrived >= cursor.since
            ]
            self.advance(cursor, passed if pending else scanned)
            if not pending and scanned >= top:
                self.caught_up(cursor)
            if mails or chunk:
                yield self.batch(mails)
        self.caught_up(cursor)
        return True

    def start(self, status: FolderStatus, top: int) -> FolderCursor:
        """Where a folder seen afresh starts: before the first message that arrived within the
        backfill, or at the end (no backfill, or nothing in it)."""
        if self.limits.backfill_days == 0:
            return FolderCursor(status.uidvalidity, top)
        since = _aware(self.limits.now or datetime.now(UTC)) - timedelta(days=self.limits.backfill_days)
        # SEARCH SINCE compares dates in the server's time zone: a day early, and the exact bound
        # applied to each message's INTERNALDATE.
        found = self.session.uid_search(f"SINCE {_imap_date(since - timedelta(days=1))}")
        if not found:
            return FolderCursor(status.uidvalidity, top)
        return FolderCursor(status.uidvalidity, min(found) - 1, since)

    def highest_uid(self, status: FolderStatus) -> int:
        """The highest UID in the folder now (as far as this poll goes)."""
        if status.uidnext is not None:
            return status.uidnext - 1
        if status.exists == 0:
            return 0
        # `UID *` is the highest UID; a server that does not say UIDNEXT costs one more command.
        return max(self.session.uid_search("UID *"), default=0)

    def search(self, first: int, last: int, since: datetime | None) -> list[int]:
        criteria = f"UID {first}:{last}"
        if since is not None:
            criteria += f" SINCE {_imap_date(since - timedelta(days=1))}"
        # Kept within the range: a server may answer the highest UID for a range above it.
        return [uid for uid in self.session.uid_search(criteria) if first <= uid <= last]

    def plan(self, pending: deque[int], sizes: dict[int, int]) -> tuple[list[int], int]:
        """The next batch's UIDs, taken from `pending` within the limits (a message bigger than
        `batch_bytes` goes alone), and the highest UID passed (messages gone meanwhile included)."""
        ahead = [uid for uid in islice(pending, self.limits.batch_messages) if uid not in sizes]
        sizes.update(self.session.uid_sizes(ahead))
        chunk: list[int] = []
        total = passed = 0
        while pending and len(chunk) < self.limits.batch_messages:
            uid = pending[0]
            size = sizes.get(uid)
            if size is not None and chunk and total + size > self.limits.batch_bytes:
                break
            passed = pending.popleft()
            if size is not None:  # else expunged since the SEARCH
                chunk.append(uid)
                total += sizes.pop(uid)
        return chunk, passed

    def advance(self, cursor: FolderCursor, last_uid: int) -> None:
        if last_uid > cursor.last_uid:
            cursor.last_uid = last_uid
            self.unsaved = True

    def caught_up(self, cursor: FolderCursor) -> None:
        """Nothing left above the cursor: a backfill is over, what comes next is imported."""
        if cursor.since is not None:
            cursor.since = None
            self.unsaved = True


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _imap_date(moment: datetime) -> str:
    """`7-Jul-2026`: IMAP's date (RFC 3501 `date`), whatever the locale."""
    return f"{moment.day}-{_MONTHS[moment.month - 1]}-{moment.year}"
