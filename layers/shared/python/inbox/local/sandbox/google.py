"""The sandbox's Google: the consent page, the OAuth token endpoint and the Gmail API of a few
mailboxes (`inbox.local.sandbox.gmail`), answered as Google documents them. Local-only code (not
in the Lambda layer), for the tests and `inbox dev`'s sandbox. One WSGI application, since the
three never share a path (point all three base URLs at it):

    GET  /o/oauth2/v2/auth                      consent (INBOX_GOOGLE_ACCOUNTS_URL)
    POST /token                                 code and refresh grants (INBOX_GOOGLE_OAUTH_URL)
    GET  /gmail/v1/users/me/profile             (INBOX_GMAIL_API_URL, as every path below)
    GET  /gmail/v1/users/me/messages            ?q=after:|before:|rfc822msgid: &labelIds= &pageToken=
    GET  /gmail/v1/users/me/messages/{id}       ?format=raw|minimal
    GET  /gmail/v1/users/me/history             ?startHistoryId= &historyTypes=messageAdded &labelId=
    POST /gmail/v1/users/me/messages/send       {"raw", "threadId"?}

The consent page consents at once, as the mailbox's user would: it redirects to `redirect_uri` with
a single-use code (`login_hint` picks the mailbox, else `signs_in`, else the first one added), or
with `error=access_denied` when `deny_consent` is set. The code grant answers a refresh token only
for `access_type=offline`, as Google does. The Gmail API wants a live access token (401 otherwise)
with a mail scope (403 `insufficientPermissions`).

Knobs for tests: `deliver`, `delete`, `list_again`, `grant`, `revoke`, `expire_access_tokens`,
`refuse_access`, `rotate_refresh_token`, `expire_history`, `throttle`, `fail`, and the attributes
`access_token_seconds`, `granted_scopes`, `deny_consent`, `signs_in` (a mailbox's `page_size` caps
its pages). Counters: `refreshes`, `exchanges`, `requests` (per path, `calls(prefix)`). Every
request is served under one lock, so the state is consistent whatever the threads.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from inbox.local.sandbox.gmail import Mailbox, Refusal, StoredMessage, gmail_error

GMAIL_MODIFY = "https://www.googleapis.com/auth/gmail.modify"
GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
GMAIL_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
FULL_MAIL = "https://mail.google.com/"
READING = frozenset({GMAIL_MODIFY, GMAIL_READONLY, FULL_MAIL})
SENDING = frozenset({GMAIL_MODIFY, GMAIL_SEND, GMAIL_COMPOSE, FULL_MAIL})
REVOKED = "Token has been expired or revoked."
USERS = "/gmail/v1/users/<user>"


@dataclass
class Grant:
    """What a consent gave: a refresh token's mailbox and scopes."""

    address: str
    scopes: frozenset[str]
    revoked: bool = False
    rotate: bool = False  # the next refresh answers a new refresh token


@dataclass
class Access:
    """An access token's mailbox, scopes and end."""

    address: str
    scopes: frozenset[str]
    expires_at: float  # time.time()
    revoked: bool = False


@dataclass(frozen=True)
class PendingCode:
    address: str
    scopes: frozenset[str]
    redirect_uri: str
    offline: bool


@dataclass
class Fault:
    """The next `remaining` requests under `path` answered `status` (a throttle, an outage)."""

    remaining: int
    status: int
    path: str
    retry_after: int | None = None
    reason: str | None = None  # Gmail's 403 quota reasons: rateLimitExceeded, userRateLimitExceeded


def oauth_error(status: int, error: str, description: str) -> Refusal:
    """The token endpoint's error shape: `{"error", "error_description"}`."""
    return Refusal(status, {"error": error, "error_description": description})


class GoogleSandbox:
    """Google for the sandbox: a WSGI application (call it) holding the mailboxes and grants."""

    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.access_token_seconds = 3599
        # What a consent grants whatever was asked (None: what was asked): boxes the admin unticked,
        # scopes granted earlier that `include_granted_scopes` brings along.
        self.granted_scopes: set[str] | None = None
        self.deny_consent = False
        self.signs_in: str | None = None  # who consents when the URL has no login_hint
        self.refreshes = 0
        self.exchanges = 0
        self.requests: Counter[str] = Counter()
        self._mailboxes: dict[str, Mailbox] = {}
        self._refusing: set[str] = set()
        self._grants: dict[str, Grant] = {}
        self._access: dict[str, Access] = {}
        self._codes: dict[str, PendingCode] = {}
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._routes = Map(
            [
                Rule("/o/oauth2/v2/auth", methods=["GET"], endpoint=self._consent),
                Rule("/token", methods=["POST"], endpoint=self._token),
                Rule(f"{USERS}/profile", methods=["GET"], endpoint=self._profile),
                Rule(f"{USERS}/messages", methods=["GET"], endpoint=self._list),
                Rule(f"{USERS}/messages/send", methods=["POST"], endpoint=self._send),
                Rule(f"{USERS}/messages/<message_id>", methods=["GET"], endpoint=self._message),
                Rule(f"{USERS}/history", methods=["GET"], endpoint=self._history),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.requests[request.path] += 1
            try:
                self._injected_fault(request.path)
                endpoint, arguments = self._routes.bind_to_environ(environ).match()
                response: Response = endpoint(request, **arguments)
            except Refusal as refusal:
                response = _answer(refusal.body, refusal.status, refusal.headers)
            except HTTPException as error:
                status = error.code or HTTPStatus.NOT_FOUND
                response = _answer(gmail_error(status, error.name, "notFound", "NOT_FOUND").body, status)
        return response(environ, start_response)

    # --- knobs ----------------------------------------------------------------------------------

    def add_mailbox(self, address: str) -> Mailbox:
        with self._lock:
            return self._mailboxes.setdefault(address, Mailbox(address))

    def deliver(
        self,
        address: str,
        raw: bytes,
        *,
        arrived_at: datetime | None = None,
        labels: tuple[str, ...] = ("INBOX",),
        thread_id: str | None = None,
    ) -> str:
        """A message arriving in the mailbox (`arrived_at`: its internalDate, default now); its id."""
        with self._lock:
            mailbox = self.add_mailbox(address)
            moment = arrived_at or datetime.now(UTC)
            return mailbox.add(raw, arrived_at=moment, labels=labels, thread_id=thread_id).id

    def delete(self, address: str, message_id: str) -> None:
        """The user deleted the message for good (its history record stays, as Gmail's does)."""
        with self._lock:
            self._mailboxes[address].messages.pop(message_id, None)

    def list_again(self, address: str, message_id: str) -> None:
        """Another `messageAdded` record for a message already listed: a client fetches it once."""
        with self._lock:
            mailbox = self._mailboxes[address]
            mailbox.record(mailbox.messages[message_id])

    def grant(self, address: str, scopes: frozenset[str] = frozenset({GMAIL_MODIFY})) -> str:
        """A refresh token for the mailbox, as if its user had consented earlier."""
        with self._lock:
            self.add_mailbox(address)
            return self._new_grant(address, scopes)

    def revoke(self, address: str) -> None:
        """The user removed the app's access: its refresh tokens answer invalid_grant, its access
        tokens 401."""
        with self._lock:
            for grant in self._grants.values():
                grant.revoked = grant.revoked or grant.address == address
            self.expire_access_tokens(address)

    def expire_access_tokens(self, address: str) -> None:
        """The mailbox's access tokens issued so far stop working (a refresh gives one that works)."""
        with self._lock:
            for access in self._access.values():
                access.revoked = access.revoked or access.address == address

    def refuse_access(self, address: str, refusing: bool = True) -> None:
        """Gmail refuses every access token of the mailbox (401), new ones too."""
        with self._lock:
            (self._refusing.add if refusing else self._refusing.discard)(address)

    def rotate_refresh_token(self, address: str) -> None:
        """The next refresh of the mailbox's grants answers a new refresh token (the old one stays
        valid, as Google's does)."""
        with self._lock:
            for grant in self._grants.values():
                grant.rotate = grant.rotate or grant.address == address

    def expire_history(self, address: str) -> None:
        """Forget the mailbox's history so far: an earlier startHistoryId is now 404."""
        with self._lock:
            mailbox = self._mailboxes[address]
            mailbox.oldest_history_id = mailbox.history_id

    def throttle(
        self,
        count: int,
        *,
        retry_after: int | None = 1,
        quota_reason: str | None = None,
        path: str = "/gmail/",
    ) -> None:
        """The next `count` requests under `path` are over quota: 429 with Retry-After, or, given a
        `quota_reason` (`rateLimitExceeded`, `userRateLimitExceeded`), Gmail's 403."""
        status = HTTPStatus.FORBIDDEN if quota_reason else HTTPStatus.TOO_MANY_REQUESTS
        with self._lock:
            self._faults.append(Fault(count, status, path, retry_after, quota_reason))

    def fail(self, count: int, *, status: int = HTTPStatus.SERVICE_UNAVAILABLE, path: str = "/") -> None:
        """The next `count` requests under `path` fail with `status` (a 5xx)."""
        with self._lock:
            self._faults.append(Fault(count, status, path))

    def sent(self, address: str) -> list[StoredMessage]:
        with self._lock:
            return [m for m in self._mailboxes[address].messages.values() if "SENT" in m.labels]

    def messages(self, address: str) -> list[StoredMessage]:
        """Every message of the mailbox, received or sent, oldest first."""
        with self._lock:
            return list(self._mailboxes[address].messages.values())

    def calls(self, prefix: str) -> int:
        """How many requests were served so far whose path starts with `prefix`."""
        with self._lock:
            return sum(count for path, count in self.requests.items() if path.startswith(prefix))

    def _injected_fault(self, path: str) -> None:
        fault = next((f for f in self._faults if f.remaining > 0 and path.startswith(f.path)), None)
        if fault is None:
            return
        fault.remaining -= 1
        if fault.status == HTTPStatus.TOO_MANY_REQUESTS:
            refusal = gmail_error(
                fault.status,
                "Too many concurrent requests for user.",
                "rateLimitExceeded",
                "RESOURCE_EXHAUSTED",
            )
        elif fault.reason:
            refusal = gmail_error(fault.status, "User Rate Limit Exceeded", fault.reason, "PERMISSION_DENIED")
        elif path == "/token":
            # Google's front ends answer an outage with an HTML page, not OAuth JSON.
            refusal = Refusal(
                fault.status, f"<html><title>Error {fault.status} (Server Error)!!1</title></html>"
            )
        else:
            refusal = gmail_error(
                fault.status, "The service is currently unavailable.", "backendError", "UNAVAILABLE"
            )
        if fault.retry_after is not None:
            refusal.headers["Retry-After"] = str(fault.retry_after)
        raise refusal

    # --- consent and tokens ---------------------------------------------------------------------

    def _consent(self, request: Request) -> Response:
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != self.client_id:
            raise Refusal(
                HTTPStatus.UNAUTHORIZED, "Error 401: invalid_client. The OAuth client was not found."
            )
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            raise Refusal(HTTPStatus.BAD_REQUEST, "Error 400: redirect_uri_mismatch")
        if args.get("response_type") != "code" or not args.get("scope"):
            raise Refusal(
                HTTPStatus.BAD_REQUEST, "Error 400: invalid_request (response_type=code and a scope)"
            )
        state = {"state": args["state"]} if "state" in args else {}
        if self.deny_consent:
            return _redirect(redirect_uri, {"error": "access_denied", **state})
        address = args.get("login_hint") or self.signs_in or next(iter(self._mailboxes), None)
        if address is None or address not in self._mailboxes:
            raise Refusal(HTTPStatus.BAD_REQUEST, f"No Google account {address} in the sandbox.")
        asked = frozenset(args["scope"].split())
        granted = frozenset(self.granted_scopes) if self.granted_scopes is not None else asked
        code = "4/0" + secrets.token_urlsafe(32)
        self._codes[code] = PendingCode(address, granted, redirect_uri, args.get("access_type") == "offline")
        return _redirect(redirect_uri, {**state, "code": code, "scope": " ".join(sorted(granted))})

    def _token(self, request: Request) -> Response:
        form, basic = request.form, request.authorization
        client_id = form.get("client_id") or (basic.username if basic else None)
        client_secret = form.get("client_secret") or (basic.password if basic else None) or ""
        if client_id != self.client_id or not secrets.compare_digest(client_secret, self.client_secret):
            raise oauth_error(HTTPStatus.UNAUTHORIZED, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return _answer(self._code_grant(form.get("code", ""), form.get("redirect_uri", "")))
        if grant_type == "refresh_token":
            return _answer(self._refresh_grant(form.get("refresh_token", "")))
        raise oauth_error(
            HTTPStatus.BAD_REQUEST, "unsupported_grant_type", f"Invalid grant_type: {grant_type}"
        )

    def _code_grant(self, code: str, redirect_uri: str) -> dict[str, Any]:
        pending = self._codes.pop(code, None)  # single use, even when refused below
        if pending is None:
            raise oauth_error(HTTPStatus.BAD_REQUEST, "invalid_grant", "Malformed auth code.")
        if redirect_uri != pending.redirect_uri:
            raise oauth_error(HTTPStatus.BAD_REQUEST, "redirect_uri_mismatch", "Bad Request")
        self.exchanges += 1
        answer = self._issue(pending.address, pending.scopes)
        if pending.offline:
            answer["refresh_token"] = self._new_grant(pending.address, pending.scopes)
        return answer

    def _refresh_grant(self, refresh_token: str) -> dict[str, Any]:
        grant = self._grants.get(refresh_token)
        if grant is None or grant.revoked:
            raise oauth_error(HTTPStatus.BAD_REQUEST, "invalid_grant", REVOKED)
        self.refreshes += 1
        answer = self._issue(grant.address, grant.scopes)
        if grant.rotate:
            grant.rotate = False
            answer["refresh_token"] = self._new_grant(grant.address, grant.scopes)
        return answer

    def _new_grant(self, address: str, scopes: frozenset[str]) -> str:
        token = "1//" + secrets.token_urlsafe(32)
        self._grants[token] = Grant(address, scopes)
        return token

    def _issue(self, address: str, scopes: frozenset[str]) -> dict[str, Any]:
        token = "ya29." + secrets.token_urlsafe(48)
        self._access[token] = Access(address, scopes, time.time() + self.access_token_seconds)
        return {
            "access_token": token,
            "expires_in": self.access_token_seconds,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }

    # --- Gmail API ------------------------------------------------------------------------------

    def _mailbox(self, request: Request, user: str, needs: frozenset[str]) -> Mailbox:
        """The mailbox of the request's access token, which must be live (401) and carry one of
        the scopes `needs` (403); `user` is `me` or the mailbox's address."""
        header = request.headers.get("Authorization", "")
        access = self._access.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
        if (
            access is None
            or access.revoked
            or access.expires_at <= time.time()
            or access.address in self._refusing
        ):
            refusal = gmail_error(
                HTTPStatus.UNAUTHORIZED,
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                "authError",
                "UNAUTHENTICATED",
            )
            refusal.headers["WWW-Authenticate"] = (
                'Bearer realm="https://accounts.google.com/", error="invalid_token"'
            )
            raise refusal
        mailbox = self._mailboxes[access.address]
        if user not in ("me", mailbox.address):
            raise gmail_error(
                HTTPStatus.FORBIDDEN,
                f"Delegation denied for {mailbox.address}",
                "forbidden",
                "PERMISSION_DENIED",
            )
        if not access.scopes & needs:
            raise gmail_error(
                HTTPStatus.FORBIDDEN,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
                "PERMISSION_DENIED",
            )
        return mailbox

    def _profile(self, request: Request, user: str) -> Response:
        return _answer(self._mailbox(request, user, READING).profile())

    def _list(self, request: Request, user: str) -> Response:
        mailbox = self._mailbox(request, user, READING)
        args = request.args
        listed = mailbox.list_messages(
            q=args.get("q", ""),
            label_ids=args.getlist("labelIds"),
            page_token=args.get("pageToken"),
            max_results=args.get("maxResults", ""),
        )
        return _answer(listed)

    def _message(self, request: Request, user: str, message_id: str) -> Response:
        mailbox = self._mailbox(request, user, READING)
        return _answer(mailbox.get(message_id, form=request.args.get("format", "full")))

    def _history(self, request: Request, user: str) -> Response:
        mailbox = self._mailbox(request, user, READING)
        args = request.args
        records = mailbox.history_since(
            start=args.get("startHistoryId", ""),
            types=args.getlist("historyTypes"),
            label=args.get("labelId"),
            page_token=args.get("pageToken"),
            max_results=args.get("maxResults", ""),
        )
        return _answer(records)

    def _send(self, request: Request, user: str) -> Response:
        mailbox = self._mailbox(request, user, SENDING)
        _, answer = mailbox.send(request.get_json(silent=True))
        return _answer(answer)


def _redirect(uri: str, params: dict[str, str]) -> Response:
    """A 302 to `uri` with `params` added to its query."""
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return Response(status=HTTPStatus.FOUND, headers={"Location": urlunsplit(parts._replace(query=query))})


def _answer(
    body: dict[str, Any] | str, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response:
    if isinstance(body, str):
        return Response(body, status=status, headers=headers, content_type="text/html; charset=utf-8")
    extra = {"Cache-Control": "no-store", **(headers or {})}
    return Response(
        json.dumps(body), status=status, headers=extra, content_type="application/json; charset=utf-8"
    )
