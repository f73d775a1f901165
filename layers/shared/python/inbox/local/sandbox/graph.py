"""The Graph API's wire conventions, as the sandbox speaks them: its error shape, how it reads a
request's token and parameters, and how it answers."""

from __future__ import annotations

import json
import secrets
from http import HTTPStatus
from typing import Any

from werkzeug.wrappers import Request, Response

GRAPH_DOCS = "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"


class GraphError(Exception):
    """A refusal, answered in Meta's error shape."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        kind: str = "OAuthException",
        subcode: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        details: str | None = None,
    ) -> None:
        super().__init__(message)
        error: dict[str, Any] = {"message": message, "type": kind, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        if user_title:
            error |= {"error_user_title": user_title, "error_user_msg": user_msg or user_title}
        if details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        self.status = status
        self.body = {"error": error}


def invalid(message: str, **more: Any) -> GraphError:
    return GraphError(HTTPStatus.BAD_REQUEST, 100, f"(#100) {message}", **more)


def unsupported(method: str, node: str) -> GraphError:
    return GraphError(
        HTTPStatus.BAD_REQUEST,
        100,
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, cannot be loaded "
        f"due to missing permissions, or does not support this operation. {GRAPH_DOCS}",
        kind="GraphMethodException",
        subcode=33,
    )


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[len("bearer ") :].strip() or None
    return request.args.get("access_token") or None


def payload_of(request: Request) -> dict[str, Any]:
    """The request's parameters: a JSON object, or form fields (objects given as JSON strings)."""
    raw = request.get_data()
    if raw.lstrip().startswith(b"{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise invalid("Invalid JSON for the request body.") from None
        return parsed if isinstance(parsed, dict) else {}
    return {name: _maybe_json(value) for name, value in request.form.items()}


def _maybe_json(value: str) -> Any:
    if value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def only_fields(resource: dict[str, Any], request: Request) -> dict[str, Any]:
    """Only the `fields` asked for (and the id), as the Graph API answers."""
    wanted = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
    if not wanted:
        return resource
    return {"id": resource["id"], **{f: resource[f] for f in wanted if f in resource}}


def json_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")
