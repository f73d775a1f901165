"""The local stack's AWS (moto server in a process of its own): transactions keep DynamoDB's
all-or-nothing semantics with its item-level backup, and it stops with its stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from inbox.local.aws_server import AwsServer

TABLE = "transactions"


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    server = AwsServer()
    endpoint = server.start()
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    server.stop()
    assert server.process is not None
    assert server.process.poll() is not None


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "item"}}


def item(client: Any, pk: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get_item(TableName=TABLE, Key=key(pk)).get("Item")
    return found


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "1"}})
    dynamodb.put_item(TableName=TABLE, Item={**key("replaced"), "v": {"S": "old"}})

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {**key("new"), "v": {"S": "x"}}}},
                {"Put": {"TableName": TABLE, "Item": {**key("replaced"), "v": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key("counter"),
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": key("replaced-too")}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key("claim"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]
    assert item(dynamodb, "new") is None
    assert item(dynamodb, "replaced") == {**key("replaced"), "v": {"S": "old"}}
    assert item(dynamodb, "counter") == {**key("counter"), "n": {"N": "1"}}


def test_a_transaction_that_holds_applies_every_write(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**key("gone"), "v": {"S": "x"}})

    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {**key("claimed"), "by": {"S": "a"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Delete": {"TableName": TABLE, "Key": key("gone")}},
        ]
    )

    assert item(dynamodb, "claimed") == {**key("claimed"), "by": {"S": "a"}}
    assert item(dynamodb, "gone") is None
