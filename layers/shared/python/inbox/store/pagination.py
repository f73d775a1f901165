"""Cursor pagination over DynamoDB queries: the cursor is the opaque LastEvaluatedKey."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from inbox.errors import FieldProblem, Invalid
from inbox.model import Model

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(Model, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, expected_keys: set[str]) -> dict[str, Any] | None:
    """The start key a cursor stands for; a cursor that was not ours is a 422 on `cursor`."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, dict)
        or set(key) != expected_keys
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise Invalid(
            "The cursor is not one this list returned.",
            code="invalid_cursor",
            details=[FieldProblem("cursor", "not a cursor returned by this list")],
        )
    return key
