"""Cached DynamoDB handles (built on first use, never at import)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3

from inbox.settings import settings


@lru_cache(maxsize=4)
def _resource(endpoint_url: str | None) -> Any:
    # Keyed on AWS_ENDPOINT_URL so a test or the local stack that moves the endpoint gets a
    # client for it; boto3 reads the variable itself.
    return boto3.resource("dynamodb")


def table() -> Any:
    """The inbox table named by INBOX_TABLE_NAME."""
    return _resource(os.environ.get("AWS_ENDPOINT_URL")).Table(settings().require("table_name"))


def transaction_cancel_reasons(error: Exception) -> list[str]:
    """The per-item codes of a cancelled TransactWriteItems (e.g. `ConditionalCheckFailed`, `None`)."""
    response = getattr(error, "response", {}) or {}
    return [reason.get("Code", "None") for reason in response.get("CancellationReasons", [])]
