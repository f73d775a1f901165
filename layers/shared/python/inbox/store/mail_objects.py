"""The mail bucket: raw messages, attachments and quarantined mail, stored under keys the callers
choose. The only S3 code; the client is built on first use, never at import."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from inbox.errors import NotFound

# S3's codes for a missing key: GetObject says NoSuchKey, HeadObject (no body) a bare 404.
_MISSING = {"NoSuchKey", "404", "NotFound"}


class StorageFailure(Exception):
    """The bucket did not take the object (S3 refused or could not be reached): try again later."""


class MailObjects:
    """The mail bucket: raw messages, attachments, quarantined mail (keys chosen by the callers)."""

    def __init__(self, client: Any | None = None, bucket: str | None = None) -> None:
        if bucket is None:
            # Imported here: poll_email's handler keeps pydantic (which settings uses) out of its import.
            from inbox.settings import settings

            bucket = settings().require("mail_bucket")
        self.client = client if client is not None else signing_client()
        self.bucket = bucket

    def put(self, key: str, body: bytes, *, content_type: str = "message/rfc822") -> None:
        """Store `body` under `key`, replacing what was there; `StorageFailure` when S3 will not."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as error:
            raise StorageFailure(f"S3 did not store {key}: {type(error).__name__}") from error

    def get(self, key: str) -> bytes:
        """The object's bytes; `NotFound` (code `object_not_found`) when there is none."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _missing(error):
                raise NotFound(f"no stored object {key}", code="object_not_found") from error
            raise
        body: bytes = response["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def download_url(
        self, key: str, *, filename: str | None, content_type: str, expires_seconds: int = 300
    ) -> str:
        """A presigned GET of the object, valid `expires_seconds`, that the browser saves as
        `filename` (any characters: RFC 6266's UTF-8 form) with `content_type`.

        The URL is not checked against the key: it answers 404 if the object is absent.
        """
        disposition = "attachment"
        if filename is not None:
            disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires_seconds,
        )
        return url


def signing_client() -> Any:
    """An S3 client that presigns with SigV4, for where AWS_ENDPOINT_URL points now (cached as
    `inbox.aws` caches its clients). Unconfigured, botocore presigns with the deprecated SigV2 in
    the regions that still accept it (us-east-1 among them)."""
    return _signing_client(os.environ.get("AWS_ENDPOINT_URL"))


@lru_cache(maxsize=4)
def _signing_client(endpoint_url: str | None) -> Any:
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING
