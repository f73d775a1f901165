"""The sandbox's Microsoft: the identity platform's OpenID configuration, consent page and token
endpoint (what MSAL calls; their wire formats in `inbox.local.sandbox.entra`), and Microsoft
Graph's mail API of a few mailboxes (`inbox.local.sandbox.outlook`), answered as Microsoft
documents them. Local-only code (not in
the Lambda layer), for the tests and `inbox dev`'s sandbox. One WSGI application, since the
identity platform's paths start with a tenant and Graph's with `/v1.0` (point both
INBOX_MICROSOFT_LOGIN_URL and INBOX_MICROSOFT_GRAPH_URL at it). MSAL accepts only https
authorities: serve it over TLS with a CA the product trusts (INBOX_CA_BUNDLE).

    GET  /{tenant}/v2.0/.well-known/openid-configuration  what MSAL reads to build an application
    GET  /{tenant}/discovery/v2.0/keys                    no keys (ID tokens are unsigned, below)
    GET  /{tenant}/oauth2/v2.0/authorize                  consent
    POST /{tenant}/oauth2/v2.0/token                      authorization_code (PKCE), refresh_token
    GET  /v1.0/me                                         ?$select=
    GET  /v1.0/me/mailFolders/inbox/messages/delta        also mailFolders('inbox'): ?$select=
                                                          &$filter=receivedDateTime ge … &changeType=
                                                          | ?$skiptoken= | ?$deltatoken=
    GET  /v1.0/me/messages/{id}/$value                    the MIME message
    GET  /v1.0/me/mailFolders/sentitems/messages          ?$filter=internetMessageId eq '…' &$top=
    POST /v1.0/me/sendMail                                the MIME message, base64 (text/plain)

`{tenant}` is `common`, `organizations`, the sandbox tenant's id or its domain (another one is
AADSTS90002). The consent page consents at once, as the mailbox's user would: it redirects to
`redirect_uri` with a single-use code and `client_info` (`login_hint` picks the mailbox, else
`signs_in`, else the first one added), or with `error=access_denied` when `deny_consent` is set.
The token endpoint checks the client's secret, and for a code its redirect URI and PKCE verifier;
it answers Microsoft's fields (`access_token`, `expires_in`, `ext_expires_in`, `scope`,
`refresh_token` when `offline_access` was asked, `id_token` for `openid`, `client_info`), always
with a new refresh token (Microsoft rotates them; the old ones stay valid until revoked). The ID
token carries the claims MSAL reads (aud, iss, tid, oid, sub, nonce, exp, preferred_username) and
is unsigned (`alg: none`): MSAL decodes ID tokens and never verifies them. Refusals are
`{"error", "error_description": "AADSTS…", "error_codes"}`. Graph wants a live access token (401
`InvalidAuthenticationToken`) with the permission of the call (403 `ErrorAccessDenied`).

Knobs for tests: `add_mailbox`, `deliver`, `delete`, `revoke`, `expire_access_tokens`,
`expire_sync_state`, `throttle`, `fail`, and the attributes `access_token_seconds`,
`granted_scopes`, `deny_consent`, `signs_in`, `link_base` (Graph's links on another host, as the
real ones are on graph.microsoft.com); a mailbox's `page_size` caps its delta pages. Counters:
`refreshes`, `exchanges`, `requests` (per path; `calls(fragment)`). Every request is served under
one lock, so the state is consistent whatever the threads.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import uuid4

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from inbox.local.sandbox.entra import (
    RESERVED,
    REVOCATIONS,
    Access,
    Grant,
    PendingCode,
    client_info,
    id_token,
    openid_configuration,
    permission,
    pkce_verified,
    resources,
    sts_error,
)
from inbox.local.sandbox.outlook import INBOX, SENT_ITEMS, Mailbox, Refusal, graph_error

READING = frozenset({"mail.read", "mail.readwrite"})
SENDING = frozenset({"mail.send"})
PROFILE = frozenset({"user.read", *READING})
CODE_SECONDS = 600
INBOX_DELTA = "/v1.0/me/mailFolders('inbox')/messages/delta"


@dataclass
class Fault:
    """The next `remaining` requests whose path contains `path` answered `status`."""

    remaining: int
    status: int
    path: str
    retry_after: int | None = None


class MicrosoftSandbox:
    """Microsoft for the sandbox: a WSGI application (call it) holding the mailboxes and grants."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        tenant_id: str | None = None,
        tenant_domain: str = "sandbox.onmicrosoft.com",
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.tenant_id = tenant_id or str(uuid4())
        self.tenant_domain = tenant_domain
        self.access_token_seconds = 3599
        self.granted_scopes: set[str] | None = None  # a consent grants only these permissions (short names)
        self.deny_consent = False
        self.signs_in: str | None = None  # who consents when the URL has no login_hint
        self.link_base: str | None = None  # where Graph's links point (default: this application)
        self.refreshes = 0
        self.exchanges = 0
        self.requests: Counter[str] = Counter()
        self._mailboxes: dict[str, Mailbox] = {}
        self._grants: dict[str, Grant] = {}
        self._access: dict[str, Access] = {}
        self._codes: dict[str, PendingCode | None] = {}  # None: redeemed
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._routes = Map(
            [
                Rule(
                    "/<tenant>/v2.0/.well-known/openid-configuration",
                    methods=["GET"],
                    endpoint=self._configuration,
                ),
                Rule("/<tenant>/discovery/v2.0/keys", methods=["GET"], endpoint=self._keys),
                Rule("/<tenant>/oauth2/v2.0/authorize", methods=["GET"], endpoint=self._consent),
                Rule("/<tenant>/oauth2/v2.0/token", methods=["POST"], endpoint=self._token),
                Rule("/v1.0/me", methods=["GET"], endpoint=self._me),
                Rule("/v1.0/me/mailFolders/<folder>/messages/delta", methods=["GET"], endpoint=self._delta),
                Rule(
                    "/v1.0/me/mailFolders('<folder>')/messages/delta", methods=["GET"], endpoint=self._delta
                ),
                Rule("/v1.0/me/mailFolders/<folder>/messages", methods=["GET"], endpoint=self._folder),
                Rule("/v1.0/me/messages/<message_id>/$value", methods=["GET"], endpoint=self._mime),
                Rule("/v1.0/me/sendMail", methods=["POST"], endpoint=self._send),
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
                unknown = graph_error(
                    status, "BadRequest", f"Resource not found for the segment '{request.path}'."
                )
                response = _answer(unknown.body, status)
        return response(environ, start_response)

    # --- knobs ----------------------------------------------------------------------------------

    def add_mailbox(
        self,
        address: str,
        *,
        user_principal_name: str | None = None,
        mail: str | None = "",
        display_name: str | None = None,
    ) -> Mailbox:
        """A user of the sandbox tenant (`mail` None: a user without a mailbox address, whose
        `/me` says only the principal name)."""
        with self._lock:
            key = address.lower()
            if key not in self._mailboxes:
                self._mailboxes[key] = Mailbox(
                    address,
                    user_principal_name or address,
                    address if mail == "" else mail,
                    display_name or address.split("@")[0].title(),
                )
            return self._mailboxes[key]

    def deliver(
        self,
        address: str,
        raw: bytes,
        *,
        received_at: datetime | None = None,
        conversation_id: str | None = None,
    ) -> str:
        """A message arriving in the mailbox's Inbox (`received_at`: its receivedDateTime, default
        now); its Graph id."""
        with self._lock:
            mailbox = self.add_mailbox(address)
            moment = received_at or datetime.now(UTC)
            return mailbox.deliver(raw, received_at=moment, conversation_id=conversation_id).id

    def delete(self, address: str, message_id: str) -> None:
        """The user deleted the message (the next delta round lists it `@removed`)."""
        with self._lock:
            self._mailbox(address).delete(message_id)

    def revoke(self, address: str, *, error: str = "invalid_grant") -> None:
        """The mailbox's consent is gone: its refresh tokens answer `error` (`invalid_grant`, or
        `interaction_required` for a policy that wants the user to sign in), its access tokens 401."""
        if error not in REVOCATIONS:
            raise ValueError(f"revoke with one of {sorted(REVOCATIONS)}")
        with self._lock:
            for grant in self._grants.values():
                if grant.address.lower() == address.lower():
                    grant.revoked = error
            self.expire_access_tokens(address)

    def expire_access_tokens(self, address: str) -> None:
        """The mailbox's access tokens issued so far stop working (a refresh gives one that works)."""
        with self._lock:
            for access in self._access.values():
                access.revoked = access.revoked or access.address.lower() == address.lower()

    def expire_sync_state(self, address: str) -> None:
        """Every delta and skip token of the mailbox issued so far answers 410."""
        with self._lock:
            self._mailbox(address).expire_sync_state()

    def throttle(self, count: int, *, retry_after: int | None = 1, path: str = "/v1.0/") -> None:
        """The next `count` requests whose path contains `path` answer 429 with Retry-After."""
        with self._lock:
            self._faults.append(Fault(count, HTTPStatus.TOO_MANY_REQUESTS, path, retry_after))

    def fail(
        self,
        count: int,
        *,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        path: str = "/v1.0/",
        retry_after: int | None = None,
    ) -> None:
        """The next `count` requests whose path contains `path` fail with `status` (a 5xx)."""
        with self._lock:
            self._faults.append(Fault(count, status, path, retry_after))

    def sent(self, address: str) -> list[bytes]:
        """What the mailbox sent, oldest first (the MIME messages)."""
        with self._lock:
            return [m.raw for m in self._mailbox(address).messages.values() if m.folder == SENT_ITEMS]

    def calls(self, fragment: str) -> int:
        """How many requests were served so far whose path contains `fragment`."""
        with self._lock:
            return sum(count for path, count in self.requests.items() if fragment in path)

    def _mailbox(self, address: str) -> Mailbox:
        return self._mailboxes[address.lower()]

    def _injected_fault(self, path: str) -> None:
        fault = next((f for f in self._faults if f.remaining > 0 and f.path in path), None)
        if fault is None:
            return
        fault.remaining -= 1
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if path.startswith("/v1.0/"):
            if fault.status == HTTPStatus.TOO_MANY_REQUESTS:
                raise graph_error(
                    fault.status,
                    "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.",
                    headers,
                )
            raise graph_error(
                fault.status, "serviceNotAvailable", "The service is temporarily unavailable.", headers
            )
        refusal = sts_error(90033, fault.status)
        refusal.headers.update(headers)
        raise refusal

    # --- the identity platform ------------------------------------------------------------------

    def _configuration(self, request: Request, tenant: str) -> Response:
        self._known_tenant(tenant)
        return _answer(openid_configuration(_root(request), tenant, self.tenant_id), HTTPStatus.OK)

    def _keys(self, request: Request, tenant: str) -> Response:
        self._known_tenant(tenant)
        return _answer({"keys": []}, HTTPStatus.OK)

    def _consent(self, request: Request, tenant: str) -> Response:
        self._known_tenant(tenant)
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != self.client_id:
            raise Refusal(
                HTTPStatus.BAD_REQUEST,
                f"AADSTS700016: Application with identifier '{args.get('client_id')}' was not found "
                f"in the directory '{self.tenant_domain}'.",
            )
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            raise Refusal(
                HTTPStatus.BAD_REQUEST, "AADSTS50011: The redirect URI specified in the request is not valid."
            )
        if args.get("response_type") != "code" or not args.get("scope"):
            raise Refusal(
                HTTPStatus.BAD_REQUEST,
                "AADSTS900144: The request body must contain response_type=code and a scope.",
            )
        state = {"state": args["state"]} if "state" in args else {}
        if self.deny_consent:
            denied = "AADSTS65004: User declined to consent to access the app."
            return _redirect(redirect_uri, {"error": "access_denied", "error_description": denied, **state})
        hint = (args.get("login_hint") or self.signs_in or "").lower()
        mailbox = self._mailboxes.get(hint) if hint else next(iter(self._mailboxes.values()), None)
        if mailbox is None:
            raise Refusal(
                HTTPStatus.BAD_REQUEST, f"AADSTS50034: The user account {hint or '(none)'} does not exist."
            )
        code = "0.AX" + secrets.token_urlsafe(48)
        self._codes[code] = PendingCode(
            mailbox.address,
            redirect_uri,
            self._consented(tuple(args["scope"].split())),
            args.get("code_challenge"),
            args.get("code_challenge_method", "plain"),
            args.get("nonce"),
            time.time() + CODE_SECONDS,
        )
        answer = {"code": code, **state, "session_state": str(uuid4())}
        if args.get("client_info") == "1":
            answer["client_info"] = self._client_info(mailbox)
        return _redirect(redirect_uri, answer)

    def _token(self, request: Request, tenant: str) -> Response:
        self._known_tenant(tenant)
        form = request.form
        self._client(form.get("client_id"), form.get("client_secret"), request.authorization)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            self.exchanges += 1
            pending = self._redeemed(form)
            scopes, nonce, address = pending.scopes, pending.nonce, pending.address
        elif grant_type == "refresh_token":
            self.refreshes += 1
            grant = self._refreshable(form.get("refresh_token", ""))
            asked = tuple(form.get("scope", "").split()) or grant.scopes
            unconsented = resources(asked) - resources(grant.scopes)
            if unconsented:
                raise sts_error(65001, client=self.client_id)
            scopes, nonce, address = tuple(asked), None, grant.address
        else:
            raise sts_error(70003, grant=str(grant_type))
        return _answer(self._tokens(self._mailbox(address), scopes, nonce, request), HTTPStatus.OK)

    def _tokens(
        self, mailbox: Mailbox, scopes: tuple[str, ...], nonce: str | None, request: Request
    ) -> dict[str, Any]:
        """A successful grant's answer: a new access token, and (as asked) refresh and ID tokens."""
        resources = tuple(scope for scope in scopes if scope.lower() not in RESERVED)
        access = "EwB" + secrets.token_urlsafe(48)
        now = time.time()
        self._access[access] = Access(mailbox.address, resources, now + self.access_token_seconds)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(resources),
            "expires_in": self.access_token_seconds,
            "ext_expires_in": self.access_token_seconds,
            "access_token": access,
            "client_info": self._client_info(mailbox),
        }
        if "offline_access" in scopes:
            refresh = "1.AX" + secrets.token_urlsafe(64)
            self._grants[refresh] = Grant(mailbox.address, tuple(dict.fromkeys((*scopes, "offline_access"))))
            body["refresh_token"] = refresh
        if "openid" in scopes:
            body["id_token"] = self._id_token(mailbox, nonce, now, _root(request))
        return body

    def _id_token(self, mailbox: Mailbox, nonce: str | None, now: float, base: str) -> str:
        return id_token(
            {
                "aud": self.client_id,
                "iss": f"{base}/{self.tenant_id}/v2.0",
                "iat": int(now),
                "nbf": int(now),
                "exp": int(now) + 3600,
                "name": mailbox.display_name,
                "oid": mailbox.object_id,
                "preferred_username": mailbox.user_principal_name,
                "sub": hashlib.sha256(f"{mailbox.object_id}:{self.client_id}".encode()).hexdigest()[:43],
                "tid": self.tenant_id,
                "ver": "2.0",
                **({"nonce": nonce} if nonce else {}),
            }
        )

    def _client_info(self, mailbox: Mailbox) -> str:
        return client_info(mailbox.object_id, self.tenant_id)

    def _consented(self, asked: tuple[str, ...]) -> tuple[str, ...]:
        """The scopes a consent grants: all asked, or only `granted_scopes` of the permissions."""
        if self.granted_scopes is None:
            return asked
        allowed = {scope.lower() for scope in self.granted_scopes}
        return tuple(s for s in asked if s.lower() in RESERVED or permission(s) in allowed)

    def _known_tenant(self, tenant: str) -> None:
        if tenant.lower() not in {"common", "organizations", self.tenant_id, self.tenant_domain.lower()}:
            raise sts_error(90002, tenant=tenant)

    def _client(self, client_id: str | None, secret: str | None, basic: Any) -> None:
        if basic is not None and basic.type == "basic":
            client_id, secret = client_id or basic.username, secret or basic.password
        if client_id != self.client_id:
            raise sts_error(700016, client=str(client_id), directory=self.tenant_domain)
        if not secret or not secrets.compare_digest(secret, self.client_secret):
            raise sts_error(7000215, HTTPStatus.UNAUTHORIZED, client=self.client_id)

    def _redeemed(self, form: Any) -> PendingCode:
        code = form.get("code", "")
        if code not in self._codes:
            raise sts_error(9002313)
        pending = self._codes[code]
        if pending is None:
            raise sts_error(54005)
        self._codes[code] = None
        if time.time() > pending.expires_at:
            raise sts_error(70008)
        if form.get("redirect_uri") != pending.redirect_uri:
            raise sts_error(50011)
        if pending.challenge is not None and not pkce_verified(
            form.get("code_verifier", ""), pending.challenge, pending.method
        ):
            raise sts_error(501481)
        return pending

    def _refreshable(self, refresh_token: str) -> Grant:
        grant = self._grants.get(refresh_token)
        if grant is None:
            raise sts_error(9002313)
        if grant.revoked is not None:
            raise sts_error(REVOCATIONS[grant.revoked])
        return grant

    # --- Graph ----------------------------------------------------------------------------------

    def _me(self, request: Request) -> Response:
        mailbox = self._signed_in(request, PROFILE)
        return _answer(mailbox.me(request.args.get("$select")), HTTPStatus.OK)

    def _delta(self, request: Request, folder: str) -> Response:
        mailbox = self._signed_in(request, READING)
        if folder.lower() != INBOX:
            raise graph_error(
                HTTPStatus.NOT_FOUND, "ErrorItemNotFound", "The sandbox keeps the delta of the Inbox only."
            )
        link = (self.link_base or _root(request)).rstrip("/") + INBOX_DELTA
        page = mailbox.delta(dict(request.args), request.headers.get("Prefer", ""), link)
        return _answer(page, HTTPStatus.OK)

    def _folder(self, request: Request, folder: str) -> Response:
        mailbox = self._signed_in(request, READING)
        return _answer(mailbox.folder_messages(folder, dict(request.args)), HTTPStatus.OK)

    def _mime(self, request: Request, message_id: str) -> Response:
        mailbox = self._signed_in(request, READING)
        return Response(mailbox.mime(message_id), status=HTTPStatus.OK, content_type="text/plain")

    def _send(self, request: Request) -> Response:
        mailbox = self._signed_in(request, SENDING)
        if request.mimetype != "text/plain":
            raise graph_error(
                HTTPStatus.BAD_REQUEST,
                "ErrorInvalidRequest",
                "The sandbox takes sendMail's MIME form only (a base64 text/plain body).",
            )
        mailbox.send(request.get_data())
        return Response(status=HTTPStatus.ACCEPTED)

    def _signed_in(self, request: Request, permissions: frozenset[str]) -> Mailbox:
        """The mailbox whose live access token the request carries, if it has one of `permissions`."""
        header = request.headers.get("Authorization", "")
        token = header[7:] if header[:7].lower() == "bearer " else ""
        access = self._access.get(token)
        challenge = {"WWW-Authenticate": 'Bearer realm="", client_id="00000003-0000-0000-c000-000000000000"'}
        if not token:
            raise graph_error(
                HTTPStatus.UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty.", challenge
            )
        if access is None or access.revoked:
            raise graph_error(
                HTTPStatus.UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token validation failure.",
                challenge,
            )
        if time.time() >= access.expires_at:
            raise graph_error(
                HTTPStatus.UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
                challenge,
            )
        if not {permission(scope) for scope in access.scopes} & permissions:
            raise graph_error(
                HTTPStatus.FORBIDDEN,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            )
        return self._mailbox(access.address)


def _root(request: Request) -> str:
    """This application's URL (with the prefix it is mounted at)."""
    return request.root_url.rstrip("/")


def _answer(body: dict[str, Any] | str, status: int, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, str):
        return Response(body, status=status, headers=headers, content_type="text/html; charset=utf-8")
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return Response(
        status=HTTPStatus.FOUND, headers={"Location": f"{redirect_uri}{separator}{urlencode(params)}"}
    )
