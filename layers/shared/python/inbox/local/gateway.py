"""An API Gateway HTTP API look-alike: routes from the template, the JWT authorizer, and the
payload-2.0 event each function receives when deployed."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from inbox.api.error_body import error_body
from inbox.local import tokens
from inbox.local.functions import FunctionError, LocalFunction
from inbox.local.template import ACCOUNT_ID, Route

log = logging.getLogger("local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# API Gateway passes these bodies as text; any other content type arrives base64-encoded.
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|javascript|xml|[\w.+-]+\+json|[\w.+-]+\+xml))$", re.IGNORECASE
)


@dataclass(frozen=True)
class MatchedRoute:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    """Matches a request to a route key the way API Gateway does: the most specific wins."""

    def __init__(self, routes: list[Route]) -> None:
        self._compiled = [(route, _path_pattern(route.path)) for route in routes if not route.is_default]
        # `$default` takes what no other route matches.
        self._default = next((route for route in routes if route.is_default), None)

    def match(self, method: str, path: str) -> MatchedRoute | None:
        candidates = []
        for route, pattern in self._compiled:
            found = pattern.fullmatch(path)
            if found and route.method in (method, "ANY"):
                greedy = route.path.endswith("+}")
                variables = route.path.count("{")
                specificity = (greedy, variables, -route.path.count("/"), route.method == "ANY")
                candidates.append((specificity, MatchedRoute(route, found.groupdict())))
        if not candidates:
            return MatchedRoute(self._default, {}) if self._default else None
        return min(candidates, key=lambda c: c[0])[1]


def _path_pattern(path: str) -> re.Pattern[str]:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            pattern += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            pattern += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            pattern += re.escape(part)
    return re.compile(pattern)


def build_event(
    *,
    route: MatchedRoute,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    claims: Mapping[str, str] | None,
    host: str,
    source_ip: str,
) -> dict[str, Any]:
    """The payload-2.0 event API Gateway would send for this request."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value

    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if route.path_parameters:
        event["pathParameters"] = route.path_parameters
    if claims is not None:
        scopes = claims.get("scope")
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": dict(claims), "scopes": scopes.split() if scopes else None}
        }
    if body:
        content_type = merged.get("content-type", "").split(";")[0].strip()
        text = _as_text(body) if _TEXT_TYPES.match(content_type) else None
        if text is None:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def answer_from_result(result: Any) -> HttpAnswer:
    """Turn a function's return value into the HTTP answer, as API Gateway's 2.0 format does."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A bare value is taken as a 200 JSON answer.
        return HttpAnswer(200, [("content-type", "application/json")], json.dumps(result).encode())
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    headers += [("set-cookie", c) for c in result.get("cookies") or []]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return HttpAnswer(int(result["statusCode"]), headers, body)


def error_answer(status: HTTPStatus, code: str, message: str) -> HttpAnswer:
    return HttpAnswer(status, [("content-type", "application/json")], error_body(code, message).encode())


class Gateway:
    """Routes requests to functions; checks tokens on JWT routes."""

    def __init__(self, routes: list[Route], functions: Mapping[str, LocalFunction]) -> None:
        self.table = RouteTable(routes)
        self.functions = functions

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, host: str, source_ip: str
    ) -> HttpAnswer:
        parts = urlsplit(target)
        matched = self.table.match(method, parts.path)
        if matched is None:
            return error_answer(HTTPStatus.NOT_FOUND, "not_found", "No route for this method and path.")
        if len(body) > MAX_BODY_BYTES:
            return error_answer(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", "The request body is over 10 MB."
            )
        claims = None
        if matched.route.jwt:
            authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
            try:
                claims = tokens.as_authorizer_claims(tokens.verify(authorization))
            except tokens.InvalidToken as error:
                log.info("401 on %s %s: %s", method, parts.path, error)
                return error_answer(
                    HTTPStatus.UNAUTHORIZED,
                    "unauthorized",
                    "A valid bearer token is required (mint one with `inbox token`).",
                )
        event = build_event(
            route=matched,
            method=method,
            raw_path=parts.path,
            raw_query=parts.query,
            headers=headers,
            body=body,
            claims=claims,
            host=host,
            source_ip=source_ip,
        )
        function = self.functions[matched.route.function_id]
        try:
            return answer_from_result(function.invoke(event))
        except FunctionError as error:
            # What API Gateway answers when the function raises, crashes or times out; the worker
            # logged the traceback.
            log.error("%s on %s %s", error, method, parts.path)
        except (ValueError, TypeError, KeyError) as error:
            log.error("%s gave %s %s a malformed response: %r", function.name, method, parts.path, error)
        return HttpAnswer(500, [("content-type", "application/json")], b'{"message":"Internal Server Error"}')


def serve(gateway: Gateway, port: int) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1:`port` (0 = any free port) feeding `gateway`; not yet started.

    Every method goes to the route table (an `ANY` route takes them all, its function answers 405
    for the ones it lacks); what the server itself refuses is answered in the API's JSON shape."""

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            started = time.perf_counter()
            length = self.headers.get("content-length") or "0"
            if not length.isdigit():
                self.close_connection = True  # where the body ends is unknown
                answer = error_answer(
                    HTTPStatus.BAD_REQUEST, "bad_request", "Content-Length is not a number."
                )
            else:
                body = self.rfile.read(int(length)) if int(length) else b""
                answer = gateway.handle(
                    self.command,
                    self.path,
                    list(self.headers.items()),
                    body,
                    host=self.headers.get("host", "127.0.0.1"),
                    source_ip=self.client_address[0],
                )
            self._send(answer)
            log.info(
                "%s %s -> %s (%.0f ms)",
                self.command,
                self.path,
                answer.status,
                (time.perf_counter() - started) * 1000,
            )

        def __getattr__(self, name: str) -> Any:
            # http.server looks up `do_<METHOD>` and answers an HTML 501 when it is missing.
            if name.startswith("do_"):
                return self._any
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """A request http.server cannot read (bad request line, header too long): JSON, not HTML."""
            status = HTTPStatus(code)
            self.close_connection = True
            self._send(error_answer(status, status.name.lower(), message or status.phrase))

        def _send(self, answer: HttpAnswer) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request is logged by _any

    return ThreadingHTTPServer(("127.0.0.1", port), RequestHandler)
