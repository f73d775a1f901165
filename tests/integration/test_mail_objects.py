"""The mail bucket's objects (raw mail, attachments, quarantined mail) in moto's in-process S3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from moto import mock_aws

from inbox.errors import NotFound
from inbox.settings import MissingSetting
from inbox.store.mail_objects import MailObjects

BUCKET = "inbox-mail-test"
RAW = b"From: ana@example.com\r\nTo: desk@example.com\r\nSubject: Hello\r\n\r\nHi there\r\n"


@pytest.fixture
def objects() -> Iterator[MailObjects]:
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield MailObjects(bucket=BUCKET)


def test_a_stored_raw_message_reads_back_with_its_content_type(objects: MailObjects) -> None:
    # Given a raw message stored under a key of the caller's choosing
    objects.put("raw/acc-1/msg-1.eml", RAW)

    # When it is read back, Then it is the same bytes, stored as a MIME message
    assert objects.get("raw/acc-1/msg-1.eml") == RAW
    head = objects.client.head_object(Bucket=BUCKET, Key="raw/acc-1/msg-1.eml")
    assert head["ContentType"] == "message/rfc822"


def test_an_attachment_keeps_the_content_type_it_was_stored_with(objects: MailObjects) -> None:
    objects.put("attachments/msg-1/1", b"%PDF-1.7 ...", content_type="application/pdf")

    head = objects.client.head_object(Bucket=BUCKET, Key="attachments/msg-1/1")

    assert head["ContentType"] == "application/pdf"


def test_exists_tells_a_stored_key_from_a_missing_one(objects: MailObjects) -> None:
    objects.put("quarantine/msg-2.eml", RAW)

    assert objects.exists("quarantine/msg-2.eml")
    assert not objects.exists("quarantine/msg-3.eml")


def test_reading_a_missing_key_is_not_found(objects: MailObjects) -> None:
    # When a key nothing was stored under is read, Then the domain's NotFound says so
    with pytest.raises(NotFound) as raised:
        objects.get("raw/acc-1/never.eml")

    assert raised.value.code == "object_not_found"


def test_a_10_mb_message_round_trips_intact(objects: MailObjects) -> None:
    # Given a message of 10 MB (a large attachment), not a repeating pattern
    body = os.urandom(10 * 1024 * 1024)

    # When it is stored and read back, Then every byte is there
    objects.put("raw/acc-1/big.eml", body)

    assert objects.get("raw/acc-1/big.eml") == body


def test_a_download_url_saves_the_file_under_its_name_with_its_type(objects: MailObjects) -> None:
    # Given an attachment whose name is beyond ASCII and has spaces
    objects.put("attachments/msg-1/2", b"%PDF-1.7 ...", content_type="application/pdf")

    # When a download URL is made for it
    url = objects.download_url(
        "attachments/msg-1/2", filename="Facture été 2024.pdf", content_type="application/pdf"
    )

    # Then it is signed for a GET of that object, for five minutes
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith("/attachments/msg-1/2")
    assert BUCKET in f"{parts.netloc}{parts.path}"
    assert query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query
    # And S3 is told to answer with the name (RFC 6266's UTF-8 form) and the type
    expected = "attachment; filename*=UTF-8''Facture%20%C3%A9t%C3%A9%202024.pdf"
    assert query["response-content-disposition"] == [expected]
    assert query["response-content-type"] == ["application/pdf"]

    # And fetching it (moto answers the HTTP call in process) gives the file with those headers
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.content == b"%PDF-1.7 ..."
    assert answer.headers["Content-Disposition"] == expected
    assert answer.headers["Content-Type"] == "application/pdf"


def test_a_download_url_without_a_filename_is_still_an_attachment(objects: MailObjects) -> None:
    objects.put("quarantine/msg-2.eml", RAW)

    url = objects.download_url(
        "quarantine/msg-2.eml", filename=None, content_type="message/rfc822", expires_seconds=60
    )

    query = parse_qs(urlsplit(url).query)
    assert query["response-content-disposition"] == ["attachment"]
    assert query["X-Amz-Expires"] == ["60"]


def test_the_bucket_defaults_to_the_functions_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        # Given a function told its mail bucket, When it stores without naming one
        monkeypatch.setenv("INBOX_MAIL_BUCKET", BUCKET)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        MailObjects().put("raw/acc-1/msg-1.eml", RAW)

        # Then the object is in that bucket
        assert boto3.client("s3").get_object(Bucket=BUCKET, Key="raw/acc-1/msg-1.eml")["Body"].read() == RAW


def test_a_function_not_told_its_mail_bucket_fails_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INBOX_MAIL_BUCKET", raising=False)

    with pytest.raises(MissingSetting, match="INBOX_MAIL_BUCKET"):
        MailObjects(client=object())
