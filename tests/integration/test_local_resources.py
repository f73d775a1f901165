"""The local stack's tables and queues come from the synthesized template, with its settings."""

from __future__ import annotations

import json

import boto3

from inbox.local.resources import LocalResources
from inbox.local.template import Template
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
