"""The local stack's tables, buckets and queues come from the synthesized template, with its settings."""

from __future__ import annotations

import json

import boto3
import pytest

from inbox import aws as inbox_aws
from inbox.local.resources import LocalResources, bucket_name
from inbox.local.template import Template, resolve
from inbox.settings import env_name
from inbox.store.schema import GLOBAL_INDEXES, TTL_ATTRIBUTE


def test_the_table_has_the_templates_keys_indexes_and_ttl(aws: LocalResources) -> None:
    (table_name,) = aws.tables.values()
    dynamodb = boto3.client("dynamodb")

    table = dynamodb.describe_table(TableName=table_name)["Table"]

    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == [i.name for i in GLOBAL_INDEXES]
    ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == TTL_ATTRIBUTE


def test_every_queue_redrives_to_its_dead_letter_queue_after_the_templates_count(
    aws: LocalResources, template: Template
) -> None:
    sqs = boto3.client("sqs")
    for logical_id, resource in template.of_type("AWS::SQS::Queue").items():
        declared = resource["Properties"].get("RedrivePolicy")
        if declared is None:
            continue  # a dead-letter queue
        attributes = sqs.get_queue_attributes(QueueUrl=aws.queue_urls[logical_id], AttributeNames=["All"])
        policy = json.loads(attributes["Attributes"]["RedrivePolicy"])
        assert int(policy["maxReceiveCount"]) == declared["maxReceiveCount"]
        dead_letter_id = declared["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert policy["deadLetterTargetArn"] == aws.queue_arn(dead_letter_id)
        assert attributes["Attributes"]["VisibilityTimeout"] == str(
            resource["Properties"]["VisibilityTimeout"]
        )


def test_the_inbound_queue_is_fifo_locally_too(aws: LocalResources) -> None:
    inbound = next(
        url
        for logical_id, url in aws.queue_urls.items()
        if logical_id.startswith("InboundQueue") and "DeadLetters" not in logical_id
    )

    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=inbound, AttributeNames=["FifoQueue"])

    assert attributes["Attributes"]["FifoQueue"] == "true"
    assert inbound.endswith(".fifo")


def test_the_mail_bucket_exists_locally_and_the_functions_that_handle_mail_are_told_its_name(
    aws: LocalResources, template: Template
) -> None:
    # Given the template's one bucket, created locally under a name derived from its logical id
    [(bucket_id, name)] = aws.buckets.items()
    assert name == bucket_name(bucket_id)
    assert name in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]

    # When the functions' environments are resolved as the local stack resolves them
    told = {
        function.name: resolve(dict(function.environment), aws.lookup).get(env_name("mail_bucket"))
        for function in template.functions()
    }

    # Then those that handle mail name that bucket, and the others are told nothing
    assert told == {
        "settings_api": name,
        "poll_email": name,
        "route": name,
        "webhook_whatsapp": None,
        "send": None,
        "sync_templates": None,
        "console": None,
    }


def test_an_object_put_in_the_local_mail_bucket_reads_back(aws: LocalResources) -> None:
    [name] = aws.buckets.values()
    s3 = inbox_aws.client("s3")

    s3.put_object(Bucket=name, Key="raw/acc-1/msg-1.eml", Body=b"Subject: hi\r\n\r\nhello\r\n")

    assert s3.get_object(Bucket=name, Key="raw/acc-1/msg-1.eml")["Body"].read() == (
        b"Subject: hi\r\n\r\nhello\r\n"
    )


def test_a_buckets_name_and_addresses_resolve_as_cloudformation_gives_them(aws: LocalResources) -> None:
    [(bucket_id, name)] = aws.buckets.items()

    assert resolve({"Ref": bucket_id}, aws.lookup) == name
    assert resolve({"Fn::GetAtt": [bucket_id, "Arn"]}, aws.lookup) == f"arn:aws:s3:::{name}"
    assert resolve({"Fn::GetAtt": [bucket_id, "DomainName"]}, aws.lookup) == f"{name}.s3.amazonaws.com"
    assert resolve({"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}, aws.lookup) == (
        f"{name}.s3.us-east-1.amazonaws.com"
    )


@pytest.mark.parametrize(
    ("logical_id", "expected"),
    [
        ("MailBucketFABEC941", "inbox-mailbucketfabec941"),
        # S3 allows 63 characters, lower-case, not ending with a hyphen.
        ("A" * 57 + "-Bucket", "inbox-" + "a" * 57),
    ],
)
def test_an_unnamed_bucket_gets_a_valid_s3_name_that_every_run_agrees_on(
    logical_id: str, expected: str
) -> None:
    assert bucket_name(logical_id) == expected


def test_the_email_poll_queue_is_fifo_locally_too(aws: LocalResources) -> None:
    poll = next(
        url
        for logical_id, url in aws.queue_urls.items()
        if logical_id.startswith("EmailPollQueue") and "DeadLetters" not in logical_id
    )

    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=poll, AttributeNames=["FifoQueue"])

    assert attributes["Attributes"]["FifoQueue"] == "true"
    assert poll.endswith(".fifo")
