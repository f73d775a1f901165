"""Builders for the events and calls tests need, in one place."""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inbox.local import tokens
from inbox.local.gateway import MatchedRoute, build_event
from inbox.local.stack import synthesize
from inbox.local.template import ACCOUNT_ID, REGION, Route, Template
from inbox.local.worker import LambdaContext

# The Meta app secret and verify token the e2e local stack is started with (as `--demo` would set).
ROOT = Path(__file__).resolve().parents[1]
META_APP_SECRET = secrets.token_hex(16)
META_VERIFY_TOKEN = secrets.token_hex(8)

API_ROUTE = Route(method="ANY", path="/v1/{proxy+}", function_id="SettingsApi", jwt=True)


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: bytes | None = None,
    user: str | None = "alice",
    admin: bool = True,
    content_type: str = "application/json",
    query: str = "",
) -> dict[str, Any]:
    """The payload-2.0 event API Gateway delivers for a `/v1` call by `user` (None: no token)."""
    claims = None
    if user is not None:
        claims = tokens.as_authorizer_claims(tokens.verify(tokens.mint(user, admin=admin)))
    payload = raw_body if raw_body is not None else (b"" if body is None else json.dumps(body).encode())
    return build_event(
        route=MatchedRoute(API_ROUTE, {"proxy": path.removeprefix("/v1/")}),
        method=method,
        raw_path=path,
        raw_query=query,
        headers=[("content-type", content_type)],
        body=payload,
        claims=claims,
        host="api.test",
        source_ip="127.0.0.1",
    )


def webhook_event(
    method: str,
    path: str,
    *,
    route_path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    query: str = "",
    path_parameters: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """The payload-2.0 event of a provider's call to a `/webhooks` route (no JWT)."""
    route = Route(method=method, path=route_path, function_id="Webhook", jwt=False)
    return build_event(
        route=MatchedRoute(route, path_parameters or {}),
        method=method,
        raw_path=path,
        raw_query=query,
        headers=[("content-type", content_type), *(headers or {}).items()],
        body=body,
        claims=None,
        host="hooks.test",
        source_ip="203.0.113.9",
    )


def call_webhook(event: dict[str, Any]) -> dict[str, Any]:
    """Call the webhook_whatsapp function's handler with `event`; its raw result."""
    result: dict[str, Any] = invoke_handler("webhook_whatsapp", event)
    return result


def invoke_handler(function: str, event: Any, *, timeout_seconds: int = 15) -> Any:
    """Call `functions/<function>/handler.py` in this process (so moto's in-process AWS is seen), with
    the variables the template gives that function literally (POWERTOOLS_* ...) for the call, as
    its Lambda environment would have them; the test's own variables (table, queues) stay."""
    handler = importlib.import_module(f"functions.{function}.handler").handler
    with _variables(deployed_variables(function)):
        return handler(event, lambda_context(function, timeout_seconds))


@functools.cache
def deployed_variables(function: str) -> dict[str, str]:
    """The function's variables in the synthesized template that are plain values (not references
    to resources, which a test points at its own)."""
    template = Template.load(synthesize(ROOT))
    (resource,) = [f for f in template.functions() if f.name == function]
    return {name: value for name, value in resource.environment.items() if isinstance(value, str)}


@contextlib.contextmanager
def _variables(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def bearer(user: str, *, admin: bool = False, lifetime_seconds: int = 3600) -> dict[str, str]:
    """The Authorization header of a local token for `user`."""
    return {"Authorization": f"Bearer {tokens.mint(user, admin=admin, lifetime_seconds=lifetime_seconds)}"}


def sqs_record(
    body: str,
    message_id: str,
    *,
    queue: str = "queue",
    group_id: str | None = None,
    receipt: str = "r",
    receives: int = 1,
) -> dict[str, Any]:
    """One record of the SQS event Lambda delivers to a queue's consumer."""
    attributes = {
        "ApproximateReceiveCount": str(receives),
        "SentTimestamp": "0",
        "SenderId": "x",
        "ApproximateFirstReceiveTimestamp": "0",
    }
    if group_id is not None:
        attributes["MessageGroupId"] = group_id
    return {
        "messageId": message_id,
        "receiptHandle": receipt,
        "body": body,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "awsRegion": "us-east-1",
    }


def lambda_context(name: str = "settings_api", timeout_seconds: int = 15) -> LambdaContext:
    return LambdaContext(
        function_name=name,
        memory_limit_in_mb=512,
        request_id=str(uuid.uuid4()),
        function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
        deadline_ms=int(time.time() * 1000) + timeout_seconds * 1000,
    )


@dataclass
class ApiAnswer:
    status: int
    body: Any


def call_api(method: str, path: str, **kwargs: Any) -> ApiAnswer:
    """Call the settings_api function's handler as API Gateway would."""
    result = invoke_handler("settings_api", http_event(method, path, **kwargs))
    text = result.get("body") or ""
    return ApiAnswer(result["statusCode"], json.loads(text) if text else None)
