"""Every error the API answers, in CONTRACT.md's shape, mapped in one place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.depends import (
    DependencyResolutionError,
    build_dependency_tree,
    solve_dependencies,
)
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from inbox.api.error_body import ErrorBody, error_body
from inbox.errors import (
    BadRequest,
    Conflict,
    FieldProblem,
    Forbidden,
    InboxError,
    Invalid,
    NotConfigured,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from inbox.observability import logger
from inbox.provider_errors import ProviderUnavailable

_STATUS: dict[type[InboxError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    Invalid: HTTPStatus.UNPROCESSABLE_ENTITY,
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    ProviderUnavailable: HTTPStatus.BAD_GATEWAY,
    BadRequest: HTTPStatus.BAD_REQUEST,
    NotConfigured: HTTPStatus.SERVICE_UNAVAILABLE,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}
_DESCRIPTIONS = {
    HTTPStatus.BAD_REQUEST: "The body is not JSON (`invalid_json`)",
    HTTPStatus.UNAUTHORIZED: "No valid bearer token (`unauthorized`)",
    HTTPStatus.FORBIDDEN: "Admins only (`forbidden`)",
    HTTPStatus.NOT_FOUND: "No such resource, or one the caller may not see",
    HTTPStatus.CONFLICT: "A duplicate, or a change made by someone else meanwhile",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not `application/json` (`unsupported_media_type`)",
    HTTPStatus.UNPROCESSABLE_ENTITY: "Invalid input: one detail per bad field",
}


def error_response(
    status: HTTPStatus,
    code: str,
    message: str,
    details: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, details),
        headers=headers,
    )


def responses(
    success: HTTPStatus = HTTPStatus.OK,
    *,
    body: bool = False,
    admin: bool = True,
    not_found: bool = False,
    conflict: bool = False,
) -> dict[int, OpenAPIResponse]:
    """OpenAPI answers of a route: its success (body from the return type; none for a 204) and the
    errors it can answer: 401 and 422 always, 403 on admin-only routes, 400 and 415 where a body is
    read, 404 where a resource is looked up, 409 where a change can clash."""
    errors = [HTTPStatus.UNAUTHORIZED, HTTPStatus.UNPROCESSABLE_ENTITY]
    errors += [HTTPStatus.FORBIDDEN] if admin else []
    errors += [HTTPStatus.BAD_REQUEST, HTTPStatus.UNSUPPORTED_MEDIA_TYPE] if body else []
    errors += [HTTPStatus.NOT_FOUND] if not_found else []
    errors += [HTTPStatus.CONFLICT] if conflict else []
    # An empty `content` keeps Powertools from documenting the return type (`null`) as a 204's body.
    answer: OpenAPIResponse = {"description": success.phrase}
    if success is HTTPStatus.NO_CONTENT:
        answer["content"] = {}
    return {
        success: answer,
        **{
            s: {"description": _DESCRIPTIONS[s], "content": {"application/json": {"model": ErrorBody}}}
            for s in sorted(errors)
        },
    }


def field_name(location: Sequence[Any]) -> str:
    """`("body", "rules", 0, "type")` → `rules[0].type`; the request part alone names itself."""
    parts = list(location[1:]) if len(location) > 1 else list(location)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def is_json(content_type: str) -> bool:
    """Whether a request's `Content-Type` announces JSON (absent counts as JSON, as Powertools reads it)."""
    return not content_type or content_type.strip().startswith(content_types.APPLICATION_JSON)


def register(app: APIGatewayHttpResolver) -> None:
    """Map domain and validation errors (and anything unforeseen) to CONTRACT.md's error body; refuse
    bodies that are not JSON; answer 405 for a known path asked with another method."""

    def domain_error(error: InboxError) -> Response[str]:
        status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), HTTPStatus.BAD_REQUEST)
        return error_response(status, error.code, error.message, error.details)

    def unexpected(error: Exception) -> Response[str]:
        # Logged with its traceback for the team; the caller gets no internals.
        logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong.")

    def refused_caller() -> Response[str] | None:
        """The 401/403 the route's own dependencies answer. Checked before any complaint about the
        request's shape: who may not use a route learns nothing from how its request is parsed."""
        route = app.context.get("_route")
        if route is None:
            return None
        try:
            solve_dependencies(
                dependant=build_dependency_tree(route.func),
                request=app.request,
                dependency_overrides=app.dependency_overrides or None,
            )
        except DependencyResolutionError as failed:
            if isinstance(failed.__cause__, InboxError):
                return domain_error(failed.__cause__)
            raise
        return None

    def body_is_json() -> bool:
        return is_json(app.current_event.headers.get("content-type", ""))

    def not_json() -> Response[str]:
        return refused_caller() or error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The request body must be JSON, sent as Content-Type: application/json.",
        )

    def json_bodies_only(resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        # Powertools also reads form and multipart bodies; this API documents JSON alone.
        if resolver.current_event.body and not body_is_json():
            return not_json()
        return next_middleware(resolver)

    app.use(middlewares=[json_bodies_only])

    @app.exception_handler(InboxError)
    def _domain_error(error: InboxError) -> Response[str]:
        return domain_error(error)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        refused = refused_caller()
        if refused is not None:
            return refused
        if not body_is_json():
            return not_json()  # a form body Powertools read, then found wanting
        problems = list(error.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(
                HTTPStatus.BAD_REQUEST, "invalid_json", "The request body is not valid JSON."
            )
        details = [FieldProblem(field_name(p.get("loc", ())), _message(p)) for p in problems]
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "validation_error",
            "The request is not valid: " + "; ".join(f"{d.field}: {d.message}" for d in details),
            details,
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_body(_: RequestUnsupportedContentType) -> Response[str]:
        return not_json()

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(_: UnicodeDecodeError) -> Response[str]:
        return refused_caller() or error_response(
            HTTPStatus.BAD_REQUEST, "invalid_json", "The request body is not UTF-8 JSON."
        )

    @app.exception_handler(ValueError)
    def _unreadable_body(error: ValueError) -> Response[str]:
        # Powertools raises a bare ValueError for a multipart body without a boundary; any other
        # ValueError is a bug, answered as one.
        return unexpected(error) if body_is_json() else not_json()

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        allowed = _route_methods(app).get(app.current_event.path)
        if allowed:
            return error_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "method_not_allowed",
                f"This resource answers {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "No such resource.")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        return unexpected(error)


class _RouteMethods:
    """The methods the API document lists for each of its paths."""

    _METHODS = ("get", "put", "post", "delete", "patch")

    def __init__(self, paths: dict[str, Any]) -> None:
        # A literal segment wins over a variable one (`/v1/templates/variables`), as in the routing.
        self._table = [
            (_path_pattern(path), [m.upper() for m in self._METHODS if getattr(item, m, None) is not None])
            for path, item in sorted(paths.items(), key=lambda entry: entry[0].count("{"))
        ]

    def get(self, path: str) -> list[str]:
        """The methods of `path`; none for a path the API does not have."""
        return next((methods for pattern, methods in self._table if pattern.fullmatch(path)), [])


@cache
def _route_methods(app: APIGatewayHttpResolver) -> _RouteMethods:
    return _RouteMethods(app.get_openapi_schema().paths or {})


def _path_pattern(template: str) -> re.Pattern[str]:
    """`/v1/labels/{label_id}` → a pattern matching `/v1/labels/<anything but a slash>`."""
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


def _message(problem: dict[str, Any]) -> str:
    if problem.get("type") == "missing":
        return "is required"
    if problem.get("type") == "extra_forbidden":
        return "is not a known field"
    message = str(problem.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")
