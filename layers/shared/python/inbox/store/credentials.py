"""Account credentials in Secrets Manager: one secret per account, `<prefix>accounts/<id>`.

The only code that reads or writes them. Values travel as pydantic `SecretStr`, so they never
show in a repr, a log line or an API answer.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr

from inbox import aws
from inbox.settings import settings

C = TypeVar("C", bound=BaseModel)
# Secrets pass through botocore, whose DEBUG log prints request and response bodies: whatever level
# the service logs at, botocore never does that here.
logging.getLogger("botocore").setLevel(logging.INFO)
# Days a deleted account's secret can still be restored (Secrets Manager's longest window).
RECOVERY_WINDOW_DAYS = 30


class MissingCredentials(LookupError):
    """The account has no stored credentials."""


class CredentialVault:
    def __init__(self, client: Any | None = None, prefix: str | None = None) -> None:
        self.client = client if client is not None else aws.client("secretsmanager")
        self.prefix = prefix if prefix is not None else settings().secrets_prefix

    def name(self, account_id: str) -> str:
        return f"{self.prefix}accounts/{account_id}"

    def save(self, account_id: str, credentials: BaseModel) -> None:
        """Store (or replace) the account's credentials."""
        secret = json.dumps({k: _reveal(v) for k, v in credentials if v is not None})
        try:
            self.client.put_secret_value(SecretId=self.name(account_id), SecretString=secret)
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_secret(
                Name=self.name(account_id),
                SecretString=secret,
                Description=f"Credentials of inbox account {account_id}",
                Tags=[{"Key": "inbox:account", "Value": account_id}],
            )

    def load(self, account_id: str, model: type[C]) -> C:
        try:
            value = self.client.get_secret_value(SecretId=self.name(account_id))["SecretString"]
        except (
            self.client.exceptions.ResourceNotFoundException,
            self.client.exceptions.InvalidRequestException,
        ) as error:
            raise MissingCredentials(account_id) from error
        return model.model_validate(json.loads(value))

    def retire(self, account_id: str) -> None:
        """Schedule the secret's deletion; it stays restorable for the recovery window."""
        with contextlib.suppress(self.client.exceptions.ResourceNotFoundException):
            self.client.delete_secret(
                SecretId=self.name(account_id), RecoveryWindowInDays=RECOVERY_WINDOW_DAYS
            )

    def discard(self, account_id: str) -> None:
        """Delete at once a secret written for an account that was never created."""
        with contextlib.suppress(self.client.exceptions.ResourceNotFoundException):
            self.client.delete_secret(SecretId=self.name(account_id), ForceDeleteWithoutRecovery=True)


def _reveal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value.get_secret_value() if isinstance(value, SecretStr) else value
