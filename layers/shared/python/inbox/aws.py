"""AWS clients, built on first use and kept for the container's life (never at import).

Cached per AWS_ENDPOINT_URL, so tests and the local stack, which move the endpoint, get clients
for where it points now (boto3 reads the variable itself).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3

# Deliveries of a queue message before SQS moves it to its dead-letter queue (every queue of the
# stack; the CDK stack reads it): a consumer can tell a message's last chance.
MAX_RECEIVE_COUNT = 5


def client(service: str) -> Any:
    return _client(service, os.environ.get("AWS_ENDPOINT_URL"))


def resource(service: str) -> Any:
    return _resource(service, os.environ.get("AWS_ENDPOINT_URL"))


@lru_cache(maxsize=16)
def _client(service: str, endpoint_url: str | None) -> Any:
    return boto3.client(service)


@lru_cache(maxsize=4)
def _resource(service: str, endpoint_url: str | None) -> Any:
    return boto3.resource(service)
