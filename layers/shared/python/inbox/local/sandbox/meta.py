"""The sandbox's Meta Graph API: what the product calls, answered as Meta documents it.

- `POST /{phone_number_id}/messages` (text, template and the other message types): the
  `contacts`/`messages` answer with a new `wamid`, then `sent`, `delivered` and `read` statuses
  posted to the webhook, signed with the app secret;
- `POST/GET /{waba_id}/message_templates`, `GET/POST /{template_id}`: templates are `PENDING`, then
  `APPROVED` (with the `message_template_status_update` webhook);
- `GET /{phone_number_id}` (the connection check) and the embedded signup's calls
  (`/oauth/access_token`, `/{waba_id}/phone_numbers`, `/{waba_id}/subscribed_apps`,
  `/{phone_number_id}/register`).

A number the sandbox was told about (`add_number`) accepts only its own access token (or one the
signup's code exchange issued); any other numeric id is a number of its own accepting any token,
since the sandbox cannot know what an admin configured. Refusals carry Meta's error shape
(`{"error": {"message", "type", "code", "error_subcode"?, "error_data"?, "fbtrace_id"}}`).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import phonenumbers
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from inbox.local.sandbox.callbacks import Callback, Callbacks, Timing
from inbox.local.sandbox.graph import (
    GraphError,
    invalid,
    json_response,
    only_fields,
    payload_of,
    token_of,
    unsupported,
)
from inbox.local.sandbox.meta_templates import TEMPLATE_NAME, MetaTemplate, category_of, checked_components
from inbox.local.simulate import meta_signature

log = logging.getLogger("local.sandbox")

UNKNOWN_WABA = "0"  # the WABA of a number the sandbox was not told about (webhooks need an id)
MAX_TEXT = 4096
MESSAGE_TYPES = (
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
)


@dataclass
class MetaNumber:
    phone_number_id: str
    waba_id: str
    number: str  # E.164, "" when unknown
    verified_name: str
    access_token: str | None  # None: any token
    pin: str | None = None

    def display(self) -> str:
        """As Graph resources show it: "+33 1 80 00 00 00"."""
        try:
            parsed = phonenumbers.parse(self.number)
        except phonenumbers.NumberParseException:
            return self.number
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@dataclass(frozen=True)
class MetaSent:
    """A message the sandbox accepted (for tests and for the log)."""

    id: str
    phone_number_id: str
    to: str
    payload: dict[str, Any]


class MetaGraph:
    """Meta's Graph API for the sandbox; a WSGI application (mounted under a version-free prefix:
    the product's base URL names the version, any `vNN.N` is served)."""

    def __init__(self, *, app_secret: str, callbacks: Callbacks, timing: Timing) -> None:
        self.app_secret = app_secret
        self.webhook_url: str | None = None  # where Meta posts: {gateway}/webhooks/whatsapp/meta
        self.sent: list[MetaSent] = []
        self._callbacks = callbacks
        self._timing = timing
        self._numbers: dict[str, MetaNumber] = {}
        self._templates: dict[str, MetaTemplate] = {}
        self._business_tokens: set[str] = set()
        self._used_codes: set[str] = set()
        self._lock = threading.Lock()
        self._routes = Map(
            [
                Rule("/<version>/oauth/access_token", methods=["GET"], endpoint=self._access_token),
                Rule("/<version>/<node>/messages", methods=["POST"], endpoint=self._send),
                Rule(
                    "/<version>/<node>/message_templates",
                    methods=["GET", "POST"],
                    endpoint=self._templates_of,
                ),
                Rule("/<version>/<node>/phone_numbers", methods=["GET"], endpoint=self._phone_numbers),
                Rule("/<version>/<node>/subscribed_apps", methods=["POST"], endpoint=self._subscribe),
                Rule("/<version>/<node>/register", methods=["POST"], endpoint=self._register),
                Rule("/<version>/<node>", methods=["GET", "POST"], endpoint=self._node),
            ],
            strict_slashes=False,
        )

    def add_number(
        self, *, phone_number_id: str, waba_id: str, number: str, verified_name: str, access_token: str
    ) -> None:
        """A number only `access_token` may use (the demo's)."""
        with self._lock:
            self._numbers[phone_number_id] = MetaNumber(
                phone_number_id, waba_id, number, verified_name, access_token
            )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        try:
            endpoint, arguments = self._routes.bind_to_environ(request.environ).match()
            # Any version is served: the product's base URL names the one it speaks.
            body = endpoint(request, **{k: v for k, v in arguments.items() if k != "version"})
        except GraphError as error:
            log.info(
                "sandbox: meta %s %s refused: %s",
                request.method,
                request.path,
                error.body["error"]["message"],
            )
            headers = (
                {"www-authenticate": 'OAuth "Facebook Platform" "invalid_token"'}
                if error.status == 401
                else {}
            )
            return json_response(error.body, error.status, headers)
        except MethodNotAllowed:
            return json_response(
                unsupported(request.method, request.path.rsplit("/", 1)[-1]).body, HTTPStatus.BAD_REQUEST
            )
        except HTTPException:
            unknown = GraphError(HTTPStatus.BAD_REQUEST, 2500, f"Unknown path components: {request.path}")
            return json_response(unknown.body, HTTPStatus.BAD_REQUEST)
        return json_response(body, HTTPStatus.OK)

    # --- Sending --------------------------------------------------------------------------------

    def _send(self, request: Request, node: str) -> dict[str, Any]:
        number = self._number(node, token_of(request), request.method)
        payload = payload_of(request)
        if payload.get("messaging_product") != "whatsapp":
            raise invalid("The parameter messaging_product is required.")
        if payload.get("recipient_type", "individual") not in ("individual", "group"):
            raise invalid("Param recipient_type must be one of {INDIVIDUAL, GROUP}")
        to = payload.get("to")
        if not isinstance(to, str) or not to.strip():
            raise invalid("The parameter to is required.")
        wa_id = re.sub(r"[\s().-]", "", to).removeprefix("+")
        if not wa_id.isdigit() or not 6 <= len(wa_id) <= 15:
            raise GraphError(
                HTTPStatus.BAD_REQUEST,
                131009,
                "(#131009) Parameter value is not valid",
                details=f"'{to}' is not a valid WhatsApp phone number",
            )
        kind = payload.get("type", "text")
        if kind not in MESSAGE_TYPES:
            choices = ", ".join(t.upper() for t in MESSAGE_TYPES)
            raise invalid(f'Param type must be one of {{{choices}}} - got "{kind}".')
        content = payload.get(kind)
        if not isinstance(content, dict):
            raise invalid(f"The parameter {kind} is required.")
        if kind == "text":
            _check_text(content)
        if kind == "template":
            self._check_template_message(number.waba_id, content)
        wamid = _wamid(wa_id)
        self.sent.append(MetaSent(wamid, number.phone_number_id, to, payload))
        log.info("sandbox: meta accepted %s message %s from %s", kind, wamid, number.phone_number_id)
        conversation = secrets.token_hex(16)
        for status, delay in self._timing.statuses():
            self._schedule_status(number, wamid, wa_id, status, delay, conversation)
        message: dict[str, Any] = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [message],
        }

    def _check_template_message(self, waba_id: str, content: dict[str, Any]) -> None:
        name, language = content.get("name"), content.get("language")
        if not isinstance(name, str) or not name:
            raise invalid("The parameter template['name'] is required.")
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(code, str) or not code:
            raise invalid("The parameter template['language']['code'] is required.")
        if not isinstance(content.get("components", []), list):
            raise invalid("Param template['components'] must be an array.")
        with self._lock:
            known = [
                t
                for t in self._templates.values()
                if (t.waba_id, t.name, t.language) == (waba_id, name, code)
            ]
        # A template submitted elsewhere may be approved at Meta: only the sandbox's own are checked.
        if known and known[0].status != "APPROVED":
            raise GraphError(
                HTTPStatus.NOT_FOUND,
                132001,
                "(#132001) Template name does not exist in the translation",
                details=f"template name ({name}) does not exist in {code}",
            )

    def _schedule_status(
        self, number: MetaNumber, wamid: str, wa_id: str, status: str, delay: float, conversation: str
    ) -> None:
        at = int(time.time() + delay)
        item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(at), "recipient_id": wa_id}
        if status in ("sent", "delivered"):
            item["conversation"] = {"id": conversation, "origin": {"type": "service"}}
            if status == "sent":
                item["conversation"]["expiration_timestamp"] = str(at + 24 * 3600)
            item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": number.number.removeprefix("+"),
                "phone_number_id": number.phone_number_id,
            },
            "statuses": [item],
        }
        self._schedule(delay, number.waba_id, "messages", value, f"meta {status} {wamid}")

    def _schedule(
        self,
        delay: float,
        waba_id: str,
        field_name: str,
        value: dict[str, Any],
        what: str,
        effect: Callable[[], None] | None = None,
    ) -> None:
        """Post the webhook of this change in `delay` seconds, `effect` applied just before."""
        if not self.webhook_url:
            log.warning("sandbox: no webhook URL yet, %s not posted", what)
            self._callbacks.schedule(delay, None, effect=effect)
            return
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": waba_id,
                    "time": int(time.time() + delay),
                    "changes": [{"field": field_name, "value": value}],
                }
            ],
        }
        # Compact, non-ASCII escaped as \uXXXX: the bytes Meta signs.
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "facebookexternalua",
            "x-hub-signature-256": meta_signature(body, self.app_secret),
        }
        self._callbacks.schedule(delay, Callback(self.webhook_url, body, headers, what), effect=effect)

    # --- Templates ------------------------------------------------------------------------------

    def _templates_of(self, request: Request, node: str) -> dict[str, Any]:
        self._authorize_waba(node, token_of(request))
        if request.method == "GET":
            with self._lock:
                found = [t.resource() for t in self._templates.values() if t.waba_id == node]
            if name := request.args.get("name"):
                found = [t for t in found if t["name"] == name]
            return {"data": found, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}}
        payload = payload_of(request)
        name, language = payload.get("name"), payload.get("language")
        if not isinstance(name, str) or not TEMPLATE_NAME.fullmatch(name):
            raise invalid(
                "Invalid parameter",
                user_title="Invalid template name",
                user_msg="Template names may only contain lowercase letters, digits and underscores.",
            )
        if not isinstance(language, str) or not language:
            raise invalid("The parameter language is required.")
        category = category_of(payload.get("category"))
        components = checked_components(payload.get("components"))
        template = MetaTemplate(
            str(secrets.randbelow(9 * 10**14) + 10**14), node, name, language, category, components
        )
        with self._lock:
            if any(
                (t.waba_id, t.name, t.language) == (node, name, language) for t in self._templates.values()
            ):
                raise invalid(
                    "Invalid parameter",
                    subcode=2388024,
                    user_title="Content in this language already exists",
                    user_msg=f"The template {name} already has content in {language}.",
                )
            self._templates[template.id] = template
        self._schedule_review(template)
        log.info("sandbox: meta template %s (%s) submitted", name, template.id)
        return {"id": template.id, "status": template.status, "category": category}

    def _node(self, request: Request, node: str) -> dict[str, Any]:
        with self._lock:
            template = self._templates.get(node)
        if template is not None:
            self._authorize_waba(template.waba_id, token_of(request))
            if request.method == "GET":
                return only_fields(template.resource(), request)
            return self._edit(template, payload_of(request))
        if request.method == "POST":
            raise unsupported("post", node)
        number = self._number(node, token_of(request), request.method)
        resource = {
            "id": number.phone_number_id,
            "display_phone_number": number.display(),
            "verified_name": number.verified_name,
            "quality_rating": "GREEN",
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API",
        }
        return only_fields(resource, request)

    def _edit(self, template: MetaTemplate, payload: dict[str, Any]) -> dict[str, Any]:
        if template.status not in ("APPROVED", "REJECTED", "PAUSED"):
            raise invalid(
                "Invalid parameter",
                user_title="Template can't be edited",
                user_msg="Only approved, rejected or paused templates can be edited.",
            )
        components = checked_components(payload.get("components", template.components))
        category = category_of(payload["category"]) if "category" in payload else template.category
        with self._lock:
            template.components, template.category, template.status = components, category, "PENDING"
        self._schedule_review(template)
        return {"success": True}

    def _schedule_review(self, template: MetaTemplate) -> None:
        delay = self._timing.template_review

        def approve() -> None:
            with self._lock:
                template.status = "APPROVED"

        value = {
            "event": "APPROVED",
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "reason": "NONE",
        }
        # Approved when the webhook is due (a read before then sees PENDING, as at Meta).
        what = f"meta APPROVED {template.id}"
        self._schedule(delay, template.waba_id, "message_template_status_update", value, what, effect=approve)

    # --- Embedded signup ------------------------------------------------------------------------

    def _access_token(self, request: Request) -> dict[str, Any]:
        if request.args.get("client_secret") != self.app_secret:
            raise GraphError(HTTPStatus.BAD_REQUEST, 1, "Error validating client secret.")
        code = request.args.get("code") or ""
        with self._lock:
            if not code or code in self._used_codes:
                raise invalid("This authorization code has been used.", subcode=36009)
            self._used_codes.add(code)
            token = "EAA" + secrets.token_urlsafe(32)
            # The business granted the app every account it holds in the sandbox.
            self._business_tokens.add(token)
        return {"access_token": token, "token_type": "bearer"}

    def _phone_numbers(self, request: Request, node: str) -> dict[str, Any]:
        self._authorize_waba(node, token_of(request))
        with self._lock:
            numbers = [n for n in self._numbers.values() if n.waba_id == node]
        data = [
            {
                "id": n.phone_number_id,
                "display_phone_number": n.display(),
                "verified_name": n.verified_name,
                "quality_rating": "GREEN",
                "code_verification_status": "VERIFIED",
            }
            for n in numbers
        ]
        return {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}}

    def _subscribe(self, request: Request, node: str) -> dict[str, Any]:
        self._authorize_waba(node, token_of(request))
        return {"success": True}

    def _register(self, request: Request, node: str) -> dict[str, Any]:
        number = self._number(node, token_of(request), request.method)
        payload = payload_of(request)
        if payload.get("messaging_product") != "whatsapp":
            raise invalid("The parameter messaging_product is required.")
        pin = payload.get("pin")
        if not isinstance(pin, str) or not re.fullmatch(r"\d{6}", pin):
            raise invalid("Param pin must be 6 characters long.")
        with self._lock:
            if number.pin is not None and number.pin != pin:
                raise GraphError(HTTPStatus.BAD_REQUEST, 133005, "Two step verification PIN Mismatch")
            number.pin = pin
        return {"success": True}

    # --- Access ---------------------------------------------------------------------------------

    def _number(self, node: str, token: str | None, method: str) -> MetaNumber:
        with self._lock:
            number = self._numbers.get(node)
            if number is None and node.isdigit():
                number = self._numbers[node] = MetaNumber(node, UNKNOWN_WABA, "", "", None)
        if number is None:
            raise unsupported(method, node)
        self._authorize(token, {number.access_token}, method, node)
        return number

    def _authorize_waba(self, waba_id: str, token: str | None) -> None:
        with self._lock:
            allowed = {n.access_token for n in self._numbers.values() if n.waba_id == waba_id}
        self._authorize(token, allowed or {None}, "get", waba_id)

    def _authorize(self, token: str | None, allowed: set[str | None], method: str, node: str) -> None:
        if not token:
            raise GraphError(
                HTTPStatus.BAD_REQUEST, 104, "An access token is required to request this resource."
            )
        if None in allowed or token in allowed or token in self._business_tokens:
            return
        with self._lock:
            known = any(n.access_token == token for n in self._numbers.values())
        if known:  # a good token, for another account
            raise unsupported(method, node)
        raise GraphError(
            HTTPStatus.UNAUTHORIZED, 190, "Invalid OAuth access token - Cannot parse access token"
        )


def _check_text(content: dict[str, Any]) -> None:
    body = content.get("body")
    if not isinstance(body, str) or not body:
        raise invalid("The parameter text['body'] is required.")
    if len(body) > MAX_TEXT:
        raise invalid(f"Param text['body'] must be at most {MAX_TEXT} characters long.")


def _wamid(wa_id: str) -> str:
    # Meta's ids are opaque base64 strings after "wamid."; this one is unique and looks the part.
    raw = f"\x15\x02\x00\x11\x18\x12{wa_id}{secrets.token_hex(9).upper()}".encode()
    return "wamid.HBgL" + base64.b64encode(raw).decode().rstrip("=")
