"""CONTRACT.md's error body, `{"error": {"code", "message", "details": [{"field", "message"}]}}`:
every error answer's (the API's, the webhooks', the local gateway's). Apart from the API's resolver,
so the webhooks, which need no resolver, import none."""

from __future__ import annotations

from collections.abc import Sequence

from inbox.errors import FieldProblem
from inbox.model import Model


class ErrorDetail(Model):
    field: str
    message: str


class ErrorInfo(Model):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(Model):
    """`{"error": {"code", "message", "details": [{"field", "message"}]}}`"""

    error: ErrorInfo


def error_body(code: str, message: str, details: Sequence[FieldProblem] = ()) -> str:
    """The JSON of an error answer."""
    details_out = [ErrorDetail(field=d.field, message=d.message) for d in details]
    return ErrorBody(error=ErrorInfo(code=code, message=message, details=details_out)).model_dump_json()
