"""The sandbox's Twilio: the REST API's `Messages.json` and `Accounts/{sid}.json`, and the Content
API's templates and their WhatsApp approval, answered as Twilio documents them.

A message is answered `queued` with a new `SM…` sid, then `sent`, `delivered` and `read` are posted
to its `StatusCallback` (or the account's default callback), form-encoded and signed with
`X-Twilio-Signature` over that URL with the account's auth token. An account the sandbox was told
about (`add_account`) accepts only its own auth token and sends only from its numbers; any other
`AC…` SID accepts the auth token it is called with (and signs its callbacks with it). Refusals carry
Twilio's error shape (`{"code", "message", "more_info", "status"}`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from inbox.local.sandbox.callbacks import Callback, Callbacks, Timing
from inbox.local.simulate import twilio_signature

log = logging.getLogger("local.sandbox")

API_VERSION = "2010-04-01"
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
MAX_BODY = 1600
CHANNEL = "whatsapp:"


@dataclass
class TwilioAccount:
    sid: str
    auth_token: str
    numbers: set[str] = field(default_factory=set)  # E.164; empty: any From
    status_callback: str | None = None  # where statuses go when a send names no StatusCallback


@dataclass
class TwilioContent:
    sid: str
    account_sid: str
    body: dict[str, Any]
    approval: dict[str, Any] | None = None


@dataclass(frozen=True)
class TwilioSent:
    """A message the sandbox accepted (for tests and for the log)."""

    sid: str
    account_sid: str
    params: dict[str, str]


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }


def unauthenticated() -> TwilioError:
    return TwilioError(HTTPStatus.UNAUTHORIZED, 20003, "Authenticate")


class Twilio:
    """Twilio's REST API (`api`) and Content API (`content`) for the sandbox: two WSGI applications
    sharing the accounts."""

    def __init__(self, *, callbacks: Callbacks, timing: Timing) -> None:
        self.sent: list[TwilioSent] = []
        self.deliver_to: str | None = None  # a loopback base URL callbacks are posted to (see `_callback`)
        self._callbacks = callbacks
        self._timing = timing
        self._accounts: dict[str, TwilioAccount] = {}
        self._contents: dict[str, TwilioContent] = {}
        self._lock = threading.Lock()
        self._api_routes = Map(
            [
                Rule(f"/{API_VERSION}/Accounts/<sid>/Messages.json", methods=["POST"], endpoint=self._send),
                Rule(f"/{API_VERSION}/Accounts/<sid>.json", methods=["GET"], endpoint=self._account),
            ]
        )
        self._content_routes = Map(
            [
                Rule("/v1/Content", methods=["POST"], endpoint=self._create_content),
                Rule("/v1/Content/<sid>", methods=["GET"], endpoint=self._content),
                Rule(
                    "/v1/Content/<sid>/ApprovalRequests/whatsapp",
                    methods=["POST"],
                    endpoint=self._request_approval,
                ),
                Rule("/v1/Content/<sid>/ApprovalRequests", methods=["GET"], endpoint=self._approvals),
            ]
        )

    def add_account(
        self, *, sid: str, auth_token: str, numbers: set[str], status_callback: str | None = None
    ) -> None:
        """An account only `auth_token` may use, sending from `numbers` (the demo's)."""
        with self._lock:
            self._accounts[sid] = TwilioAccount(sid, auth_token, set(numbers), status_callback)

    def api(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ), self._api_routes)(environ, start_response)

    def content(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ), self._content_routes)(environ, start_response)

    def _answer(self, request: Request, routes: Map) -> Response:
        try:
            endpoint, arguments = routes.bind_to_environ(request.environ).match()
            status, body = endpoint(request, **arguments)
        except TwilioError as error:
            log.info("sandbox: twilio %s %s refused: %s", request.method, request.path, error.body["message"])
            return _json(error.body, error.status)
        except HTTPException as error:
            code = error.code or HTTPStatus.NOT_FOUND
            message = f"The requested resource {request.path} was not found"
            return _json(TwilioError(code, 20404 if code == 404 else 20001, message).body, code)
        return _json(body, status)

    # --- Messages -------------------------------------------------------------------------------

    def _send(self, request: Request, sid: str) -> tuple[int, dict[str, Any]]:
        account = self._authenticate(request, sid)
        params = {name: value for name, value in request.form.items()}
        to, sender, service = (
            params.get("To", ""),
            params.get("From", ""),
            params.get("MessagingServiceSid", ""),
        )
        body, content_sid = params.get("Body", ""), params.get("ContentSid", "")
        if not to:
            raise TwilioError(HTTPStatus.BAD_REQUEST, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            raise TwilioError(HTTPStatus.BAD_REQUEST, 21603, "A 'From' phone number is required.")
        if not body and not content_sid and not params.get("MediaUrl"):
            raise TwilioError(
                HTTPStatus.BAD_REQUEST, 21619, "A text message Body, Media Url or Content SID is required."
            )
        if len(body) > MAX_BODY:
            raise TwilioError(
                HTTPStatus.BAD_REQUEST,
                21617,
                f"The concatenated message body exceeds the {MAX_BODY} character limit.",
            )
        if sender and sender.startswith(CHANNEL) != to.startswith(CHANNEL):
            raise TwilioError(
                HTTPStatus.BAD_REQUEST,
                21910,
                "Invalid From and To pair. From and To should be of the same channel",
            )
        if sender and account.numbers and sender.removeprefix(CHANNEL) not in account.numbers:
            raise TwilioError(
                HTTPStatus.BAD_REQUEST,
                63007,
                "Twilio could not find a Channel with the specified From address",
            )
        if content_sid and not CONTENT_SID.fullmatch(content_sid):
            raise TwilioError(HTTPStatus.BAD_REQUEST, 21655, "The ContentSid is Invalid.")
        if "ContentVariables" in params and not _json_object(params["ContentVariables"]):
            raise TwilioError(HTTPStatus.BAD_REQUEST, 21656, "The ContentVariables Parameter is invalid.")
        callback = params.get("StatusCallback") or account.status_callback
        if callback and urlsplit(callback).scheme not in ("http", "https"):
            raise TwilioError(HTTPStatus.BAD_REQUEST, 21609, "Invalid StatusCallback")
        if not sender:
            sender = CHANNEL + min(account.numbers) if account.numbers else ""
        message_sid = "SM" + secrets.token_hex(16)
        self.sent.append(TwilioSent(message_sid, account.sid, params))
        log.info("sandbox: twilio accepted message %s", message_sid)
        if callback:
            for status, delay in self._timing.statuses():
                self._schedule_status(account, callback, message_sid, sender, to, status, delay)
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        uri = f"/{API_VERSION}/Accounts/{account.sid}/Messages/{message_sid}"
        return HTTPStatus.CREATED, {
            "account_sid": account.sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": None,
            "sid": message_sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }

    def _schedule_status(
        self,
        account: TwilioAccount,
        url: str,
        message_sid: str,
        sender: str,
        to: str,
        status: str,
        delay: float,
    ) -> None:
        params = {
            "AccountSid": account.sid,
            "ApiVersion": API_VERSION,
            "ChannelPrefix": "whatsapp",
            "ChannelToAddress": to.removeprefix(CHANNEL),
            "From": sender,
            "MessageSid": message_sid,
            "MessageStatus": status,
            "SmsSid": message_sid,
            "SmsStatus": status,
            "To": to,
        }
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "user-agent": "TwilioProxy/1.1",
            "i-twilio-idempotency-token": secrets.token_hex(16),
            # Signed over the URL the product gave, wherever the sandbox posts it (see `_delivery_url`).
            "x-twilio-signature": twilio_signature(url, params, account.auth_token),
        }
        what = f"twilio {status} {message_sid}"
        self._callbacks.schedule(
            delay, Callback(self._delivery_url(url), urlencode(params).encode(), headers, what)
        )

    def _delivery_url(self, url: str) -> str:
        """Where a callback is posted: with `deliver_to` set (the local gateway), the callback's
        path and query on it, so a public URL (a tunnel) in INBOX_PUBLIC_URL never takes the
        sandbox off loopback; otherwise the URL itself."""
        if not self.deliver_to:
            return url
        parts = urlsplit(url)
        return self.deliver_to.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")

    def _account(self, request: Request, sid: str) -> tuple[int, dict[str, Any]]:
        account = self._authenticate(request, sid)
        return HTTPStatus.OK, {
            "sid": account.sid,
            "owner_account_sid": account.sid,
            "friendly_name": "Sandbox account",
            "status": "active",
            "type": "Full",
            "date_created": formatdate(usegmt=True).replace("GMT", "+0000"),
            "uri": f"/{API_VERSION}/Accounts/{account.sid}.json",
        }

    # --- Content API ----------------------------------------------------------------------------

    def _create_content(self, request: Request) -> tuple[int, dict[str, Any]]:
        account = self._authenticate(request, None)
        body = _json_object(request.get_data(as_text=True))
        if body is None:
            raise TwilioError(HTTPStatus.BAD_REQUEST, 20001, "Invalid JSON body")
        if not isinstance(body.get("language"), str) or not body["language"]:
            raise TwilioError(
                HTTPStatus.BAD_REQUEST, 20001, "Missing required parameter language in the post body"
            )
        if not isinstance(body.get("types"), dict) or not body["types"]:
            raise TwilioError(
                HTTPStatus.BAD_REQUEST, 20001, "Missing required parameter types in the post body"
            )
        content = TwilioContent("HX" + secrets.token_hex(16), account.sid, body)
        with self._lock:
            self._contents[content.sid] = content
        log.info("sandbox: twilio content %s created", content.sid)
        return HTTPStatus.CREATED, self._content_resource(content)

    def _content(self, request: Request, sid: str) -> tuple[int, dict[str, Any]]:
        return HTTPStatus.OK, self._content_resource(self._own_content(request, sid))

    def _request_approval(self, request: Request, sid: str) -> tuple[int, dict[str, Any]]:
        content = self._own_content(request, sid)
        body = _json_object(request.get_data(as_text=True)) or {}
        name, category = body.get("name"), str(body.get("category") or "").upper()
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
            raise TwilioError(
                HTTPStatus.BAD_REQUEST, 20001, "Invalid name: lowercase letters, digits and underscores"
            )
        if category not in ("UTILITY", "MARKETING", "AUTHENTICATION"):
            raise TwilioError(HTTPStatus.BAD_REQUEST, 20001, "Invalid category")
        approval = {
            "type": "whatsapp",
            "name": name,
            "category": category,
            "content_type": next(iter(content.body["types"])),
            "status": "received",
            "rejection_reason": "",
            "allow_category_change": True,
            "approve_at": time.monotonic() + self._timing.template_review,
        }
        with self._lock:
            content.approval = approval
        return HTTPStatus.CREATED, _visible(approval)

    def _approvals(self, request: Request, sid: str) -> tuple[int, dict[str, Any]]:
        content = self._own_content(request, sid)
        with self._lock:
            approval = content.approval
            # Twilio posts no webhook for a review: the product reads it, and sees it approved in time.
            if (
                approval is not None
                and approval["status"] == "received"
                and time.monotonic() >= approval["approve_at"]
            ):
                approval["status"] = "approved"
        return HTTPStatus.OK, {
            "sid": content.sid,
            "account_sid": content.account_sid,
            "whatsapp": _visible(approval) if approval else {},
            "url": f"https://content.twilio.com/v1/Content/{content.sid}/ApprovalRequests",
        }

    def _own_content(self, request: Request, sid: str) -> TwilioContent:
        account = self._authenticate(request, None)
        with self._lock:
            content = self._contents.get(sid)
        if content is None or content.account_sid != account.sid:
            raise TwilioError(
                HTTPStatus.NOT_FOUND, 20404, f"The requested resource {request.path} was not found"
            )
        return content

    @staticmethod
    def _content_resource(content: TwilioContent) -> dict[str, Any]:
        url = f"https://content.twilio.com/v1/Content/{content.sid}"
        return {
            "sid": content.sid,
            "account_sid": content.account_sid,
            "friendly_name": content.body.get("friendly_name"),
            "language": content.body["language"],
            "variables": content.body.get("variables") or {},
            "types": content.body["types"],
            "url": url,
            "links": {
                "approval_create": f"{url}/ApprovalRequests/whatsapp",
                "approval_fetch": f"{url}/ApprovalRequests",
            },
        }

    # --- Access ---------------------------------------------------------------------------------

    def _authenticate(self, request: Request, sid: str | None) -> TwilioAccount:
        """The account of the Basic credentials (SID and auth token), which must be `sid`'s."""
        credentials = request.authorization
        username = credentials.username if credentials and credentials.type == "basic" else None
        password = credentials.password if credentials and credentials.type == "basic" else None
        if not username or not password or not ACCOUNT_SID.fullmatch(username) or sid not in (None, username):
            raise unauthenticated()
        with self._lock:
            account = self._accounts.get(username)
            if account is None:
                # An account the sandbox was not told about: its token is whatever the product holds.
                return TwilioAccount(username, password)
        if not secrets.compare_digest(password, account.auth_token):
            raise unauthenticated()
        return account


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _visible(approval: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in approval.items() if k != "approve_at"}


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
