"""Cached DynamoDB handles (built on first use, never at import)."""

from __future__ import annotations

from typing import Any

from inbox import aws
from inbox.settings import settings


def table() -> Any:
    """The inbox table named by INBOX_TABLE_NAME."""
    return aws.resource("dynamodb").Table(settings().require("table_name"))


def transaction_cancel_reasons(error: Exception) -> list[str]:
    """The per-item codes of a cancelled TransactWriteItems (e.g. `ConditionalCheckFailed`, `None`)."""
    response = getattr(error, "response", {}) or {}
    return [reason.get("Code", "None") for reason in response.get("CancellationReasons", [])]
