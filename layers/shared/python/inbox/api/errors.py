"""Every error the API answers, in CONTRACT.md's shape, mapped in one place."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from inbox.errors import Conflict, FieldProblem, Forbidden, InboxError, Invalid, NotFound, Unauthenticated
from inbox.observability import logger
from inbox.provider_errors import ProviderUnavailable

_STATUS: dict[type[InboxError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    Invalid: HTTPStatus.UNPROCESSABLE_ENTITY,
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    ProviderUnavailable: HTTPStatus.BAD_GATEWAY,
}


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    """`{"error": {"code", "message", "details": [{"field", "message"}]}}`"""

    error: ErrorInfo


def error_body(code: str, message: str, details: Sequence[FieldProblem] = ()) -> str:
    """The JSON of CONTRACT.md's error body: every error answer (webhooks' and local gateway's too)."""
    details_out = [ErrorDetail(field=d.field, message=d.message) for d in details]
    return ErrorBody(error=ErrorInfo(code=code, message=message, details=details_out)).model_dump_json()


def error_response(
    status: HTTPStatus, code: str, message: str, details: Sequence[FieldProblem] = ()
) -> Response[str]:
    return Response(
        status_code=status, content_type="application/json", body=error_body(code, message, details)
    )


def responses(success: HTTPStatus = HTTPStatus.OK) -> dict[int, OpenAPIResponse]:
    """OpenAPI answers of a route: its success (body from the return type) and the error shapes."""
    errors = (
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.FORBIDDEN,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.UNPROCESSABLE_ENTITY,
    )
    return {
        success: {"description": success.phrase},
        **{
            s: {"description": s.phrase, "content": {"application/json": {"model": ErrorBody}}}
            for s in errors
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


def register(app: APIGatewayHttpResolver) -> None:
    """Map domain and validation errors (and anything unforeseen) to CONTRACT.md's error body."""

    @app.exception_handler(InboxError)
    def _domain_error(error: InboxError) -> Response[str]:
        status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), HTTPStatus.BAD_REQUEST)
        return error_response(status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
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

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(_: UnicodeDecodeError) -> Response[str]:
        return error_response(HTTPStatus.BAD_REQUEST, "invalid_json", "The request body is not UTF-8 JSON.")

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "No such resource.")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        # Logged with its traceback for the team; the caller gets no internals.
        logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong.")


def _message(problem: dict[str, Any]) -> str:
    if problem.get("type") == "missing":
        return "is required"
    if problem.get("type") == "extra_forbidden":
        return "is not a known field"
    message = str(problem.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")
