"""The Office 365 mailbox source: new messages of the account's Inbox, through Graph's delta query
(PROTOCOLS.md, "Microsoft 365"), read-only.

A round of `GET /v1.0/me/mailFolders/inbox/messages/delta` lists the Inbox's messages page by page
(`@odata.nextLink`) and ends with an `@odata.deltaLink`; getting that link later lists what was
created since. The cursor remembers where the sync stands:

    {"link": "/v1.0/me/mailFolders('inbox')/messages/delta?$deltatoken=…",
     "handed": ["AAMkAGI2…"], "since": "2026-07-01T09:00:00+00:00"}

- `link`: the page to read next, relative to INBOX_MICROSOFT_GRAPH_URL: between polls the last
  round's deltaLink; within a round (a poll stopped at its deadline or killed) the page being
  handed over. Graph's links are absolute on its own host: only their path and query are kept, so
  every request, and the token with it, goes to the configured URL.
- `handed`: the ids of that page's messages already handed over: the page is read again and they
  are passed over, so a poll killed mid-page loses nothing and fetches little twice (the router
  drops what it already has, by Message-ID, anyway).
- `since`: while a backfill round is under way, the messages that arrived before it are passed
  over (`receivedDateTime`; the round asks Graph to filter too).

The first poll, and any poll whose sync state Graph lost (410 Gone, `syncStateNotFound`,
`resyncRequired`), starts a round filtered on `receivedDateTime ge` now minus `backfill_days`:
the messages that arrived in the backfill are imported, then only what is created (the round asks
`changeType=created`: read flags and moves out do not come back). With `backfill_days` 0 the round
imports nothing and only sets the deltaLink. Removed items (`@removed`) are passed over; the MIME of
each message is `GET /v1.0/me/messages/{id}/$value`, and one deleted meanwhile (404) is skipped.

Requests use the account's access token (`inbox.oauth.tokens`); a 401 renews it once. Throttling
(429, or 503 with Retry-After) is waited out when Graph asks for a few seconds and the deadline
allows, else it ends the poll as `throttled` with Graph's Retry-After. Every failure is a
`PeerError`: `auth` only when Microsoft refuses the account's access, never for throttling or an
outage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from inbox.accounts.check_report import CheckError, PeerError, network_error
from inbox.email.mailbox import Batch, Limits, RawMail
from inbox.oauth.grants import GrantRevoked, TokenUnavailable
from inbox.oauth.tokens import Tokens
from inbox.provider_errors import Unavailable
from inbox.whatsapp import provider_http
from inbox.whatsapp.provider_http import Answer

MICROSOFT = "Microsoft"
INBOX = "INBOX"
DELTA = "/v1.0/me/mailFolders/inbox/messages/delta"
FIELDS = "id,receivedDateTime,conversationId"
# Messages per delta page asked of Graph (it may send fewer); also bounds `handed` in the cursor.
PAGE_SIZE = 50
TIMEOUT_SECONDS = 30.0
# Throttling worth waiting for within a poll: at most this long, this many times.
MAX_WAIT_SECONDS = 5.0
WAITS = 3
# Graph's codes for a delta token it no longer knows (besides the 410 itself).
SYNC_LOST = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
REFUSED = "Microsoft refused the account's access: reconnect the account."


@dataclass
class Position:
    """Where the sync stands (the cursor, see the module)."""

    link: str
    handed: list[str] = field(default_factory=list)
    since: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        since = self.since.isoformat() if self.since else None
        return {"link": self.link, "handed": list(self.handed), "since": since}

    @classmethod
    def from_json(cls, value: object) -> Position | None:
        """The saved position, or None when it is not one (the mailbox is then backfilled)."""
        if not isinstance(value, dict):
            return None
        link, handed, since = value.get("link"), value.get("handed", []), value.get("since")
        if not (isinstance(link, str) and link.startswith("/v1.0/") and isinstance(handed, list)):
            return None
        try:
            start = datetime.fromisoformat(since) if isinstance(since, str) else None
        except ValueError:
            start = None
        return cls(link, [str(id_) for id_ in handed], start)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_link: str | None  # within the round
    delta_link: str | None  # the round is over


class SyncLost(Exception):
    """Graph no longer knows the delta state the link stands for: start a round afresh."""


class GraphSource:
    """An Office 365 account's Inbox as a `MailboxSource` (`inbox.email.mailbox`)."""

    def __init__(self, tokens: Tokens, *, graph_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self._tokens = tokens
        self._graph_url = graph_url.rstrip("/")
        self._timeout = timeout

    def batches(self, cursor: dict[str, Any] | None, limits: Limits) -> Iterator[Batch]:
        """The Inbox's new messages in delta order, in batches with the cursor after each; at least
        one batch when the poll succeeds. Stops at the deadline with a last batch marked `more`.
        Every failure is a `PeerError`."""
        graph = _Graph(self._tokens, self._graph_url, self._timeout, limits)
        yield from _Poll(graph, limits).run(Position.from_json(cursor))


class _Poll:
    """One poll: the position as it moves, and the messages not handed over yet."""

    def __init__(self, graph: _Graph, limits: Limits) -> None:
        self.graph = graph
        self.limits = limits
        self.mails: list[RawMail] = []
        self.size = 0

    def run(self, saved: Position | None) -> Iterator[Batch]:
        position = saved or self.fresh()
        resynced = saved is None
        while True:
            if self.limits.expired():
                yield self.batch(position, more=True)
                return
            try:
                page = self.graph.page(position.link)
            except SyncLost:
                if resynced:
                    raise PeerError(
                        "protocol", "Microsoft Graph lost the Inbox's sync state of a round it just started."
                    ) from None
                position, resynced = self.fresh(), True
                continue
            finished = yield from self.hand_over(page, position)
            if not finished:
                return
            if page.delta_link is not None:
                position = Position(self.graph.relative(page.delta_link))
                break
            if page.next_link is None:
                raise PeerError(
                    "protocol", "Microsoft Graph ended a delta page without a next or delta link."
                )
            position = Position(self.graph.relative(page.next_link), since=position.since)
        yield self.batch(position)

    def fresh(self) -> Position:
        """A new round over the messages that arrived in the backfill (none when it is 0 days:
        the round then only sets the deltaLink)."""
        now = self.limits.now or datetime.now(UTC)
        now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        since = (now - timedelta(days=self.limits.backfill_days)).astimezone(UTC).replace(microsecond=0)
        query = {
            "$select": FIELDS,
            "$filter": f"receivedDateTime ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            "changeType": "created",
        }
        return Position(f"{DELTA}?{urlencode(query, quote_via=quote, safe='$,:')}", since=since)

    def hand_over(self, page: Page, position: Position) -> Generator[Batch, None, bool]:
        """The page's new messages, in batches; False when the deadline stopped the poll."""
        handed = set(position.handed)
        for item in page.items:
            message_id = item.get("id")
            if "@removed" in item or not isinstance(message_id, str) or message_id in handed:
                continue
            arrived = _received(item.get("receivedDateTime"))
            if position.since is not None and arrived is not None and arrived < position.since:
                continue
            if self.limits.expired():
                yield self.batch(position, more=True)
                return False
            raw = self.graph.mime(message_id)
            if raw is None:  # deleted since the page was listed
                continue
            if self.mails and self.size + len(raw) > self.limits.batch_bytes:
                yield self.batch(position)
            thread = item.get("conversationId")
            self.mails.append(
                RawMail(
                    raw=raw,
                    arrived_at=arrived or datetime.now(UTC),
                    folder=INBOX,
                    uid=message_id,
                    thread_id=thread if isinstance(thread, str) else None,
                )
            )
            self.size += len(raw)
            position.handed.append(message_id)
            if len(self.mails) >= self.limits.batch_messages:
                yield self.batch(position)
        return True

    def batch(self, position: Position, *, more: bool = False) -> Batch:
        mails, self.mails, self.size = self.mails, [], 0
        return Batch(mails, position.to_json(), more)


class _Graph:
    """Graph's answers for one poll: the access token, renewed once when refused, throttling
    waited out within bounds, every failure as a `PeerError`."""

    def __init__(self, tokens: Tokens, graph_url: str, timeout: float, limits: Limits) -> None:
        self.tokens = tokens
        self.graph_url = graph_url
        self.timeout = timeout
        self.limits = limits
        self._token: str | None = None

    def page(self, link: str) -> Page:
        """One delta page. Raises `SyncLost` when Graph no longer knows the link's state."""
        headers = {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
        answer = self.get(link, "reading the Inbox's changes", headers=headers, passing=(400, 404, 410))
        if answer.status == 410 or (not answer.ok and _error_code(answer).lower() in SYNC_LOST):
            raise SyncLost
        if not answer.ok:
            raise self.refused(answer, "reading the Inbox's changes")
        body = _json(answer.content)
        items = body.get("value")
        if not isinstance(items, list):
            raise PeerError("protocol", "Microsoft Graph answered a delta page without messages.")
        next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
        return Page(
            [item for item in items if isinstance(item, dict)],
            next_link if isinstance(next_link, str) else None,
            delta_link if isinstance(delta_link, str) else None,
        )

    def mime(self, message_id: str) -> bytes | None:
        """The message as Outlook keeps it (RFC 822), or None when it is gone."""
        answer = self.get(
            f"/v1.0/me/messages/{quote(message_id, safe='')}/$value", "reading a message", passing=(404,)
        )
        return answer.content if answer.ok else None

    def relative(self, link: str) -> str:
        """A link Graph gave (absolute, on its own host) as a path under the configured URL."""
        parts = urlsplit(link)
        start = parts.path.find("/v1.0/")
        if start < 0:
            raise PeerError("protocol", "Microsoft Graph gave a delta link outside its v1.0 API.")
        return parts.path[start:] + (f"?{parts.query}" if parts.query else "")

    def get(
        self, path: str, step: str, *, headers: dict[str, str] | None = None, passing: tuple[int, ...] = ()
    ) -> Answer:
        """Graph's answer to `GET {graph_url}{path}`: a success or a status in `passing`; raises
        `PeerError` for the rest, after renewing a refused token once and waiting out a short
        throttling."""
        renewed = False
        waits = 0
        while True:
            token = self.token()
            answer = self.exchange(path, step, token, headers or {})
            if answer.ok or answer.status in passing:
                return answer
            if answer.status == 401 and not renewed:
                renewed = True
                self._token = self.renewed(token)
                continue
            if self.throttling(answer) and waits < WAITS and self.may_wait(answer.retry_after):
                waits += 1
                time.sleep(answer.retry_after or 0)
                continue
            raise self.refused(answer, step)

    def exchange(self, path: str, step: str, token: str, headers: dict[str, str]) -> Answer:
        try:
            return provider_http.exchange(
                MICROSOFT,
                step,
                "GET",
                self.graph_url + path,
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {token}", **headers},
            )
        except Unavailable as unavailable:
            failure = _unreachable(unavailable, self.graph_url, self.timeout)
            raise PeerError(failure.code, failure.message) from None

    def token(self) -> str:
        if self._token is None:
            self._token = self.access(self.tokens.get)
        return self._token

    def renewed(self, refused: str) -> str:
        return self.access(lambda: self.tokens.renew(refused))

    @staticmethod
    def access(obtain: Callable[[], str]) -> str:
        try:
            return obtain()
        except GrantRevoked as revoked:
            raise PeerError("auth", revoked.reason) from None
        except TokenUnavailable as unavailable:
            if unavailable.retry_after is not None:
                raise PeerError(
                    "throttled",
                    f"Microsoft's sign-in asked to wait: {unavailable.why}.",
                    retry_after=unavailable.retry_after,
                ) from None
            raise PeerError("connect", f"No Microsoft access token now: {unavailable.why}.") from None

    @staticmethod
    def throttling(answer: Answer) -> bool:
        return answer.status == 429 or (answer.status == 503 and answer.retry_after is not None)

    def may_wait(self, seconds: float | None) -> bool:
        return (
            seconds is not None
            and seconds <= MAX_WAIT_SECONDS
            and time.monotonic() + seconds < self.limits.deadline
        )

    def refused(self, answer: Answer, step: str) -> PeerError:
        """The failure an answer other than a success means (the token masked in its words)."""
        said = provider_http.mask(_error_message(answer), (self._token or "",))
        words = f": {said.rstrip('.')}" if said else ""
        if answer.status == 401:
            provider_http.log(MICROSOFT, step, "credentials refused", answer.status)
            return PeerError("auth", REFUSED)
        if answer.status == 403:
            provider_http.log(MICROSOFT, step, "access denied", answer.status)
            return PeerError(
                "auth",
                f"Microsoft Graph denied {step}{words}. Reconnect the account and allow reading mail.",
            )
        if self.throttling(answer):
            provider_http.log(MICROSOFT, step, "throttled", answer.status)
            return PeerError(
                "throttled",
                f"Microsoft Graph asked to slow down while {step} (HTTP {answer.status}).",
                retry_after=answer.retry_after,
            )
        if answer.status >= 500:
            provider_http.log(MICROSOFT, step, "try later", answer.status)
            return PeerError("connect", f"Microsoft Graph failed while {step} (HTTP {answer.status}){words}.")
        provider_http.log(MICROSOFT, step, "refused", answer.status)
        return PeerError("protocol", f"Microsoft Graph answered HTTP {answer.status} while {step}{words}.")


def _unreachable(unavailable: Unavailable, url: str, timeout: float) -> CheckError:
    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or 443
    if unavailable.timed_out:
        return CheckError(
            code="timeout", message=f"No answer from Microsoft Graph ({host}) within {timeout:g} seconds."
        )
    if unavailable.network_cause is not None:
        found = network_error(unavailable.network_cause, host, port, timeout)
        if found is not None:
            return found
    return CheckError(code="connect", message=f"Could not reach Microsoft Graph at {host}.")


def _received(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json(content: bytes) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(answer: Answer) -> dict[str, Any]:
    error = _json(answer.content).get("error")
    return error if isinstance(error, dict) else {}


def _error_code(answer: Answer) -> str:
    code = _error(answer).get("code")
    return code if isinstance(code, str) else ""


def _error_message(answer: Answer) -> str | None:
    message = _error(answer).get("message")
    return message if isinstance(message, str) and message else None
