"""Creates the template's tables, buckets, queues and secrets in the local AWS (moto server), and
answers what a `Ref` or `Fn::GetAtt` on any resource means locally. Bucket policies, like IAM, are
not reproduced: locally every function may do anything."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import boto3

from inbox.local.template import ACCOUNT_ID, PSEUDO_PARAMETERS, REGION, Template, TemplateError, resolve

TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
BUCKET = "AWS::S3::Bucket"
_BUCKET_NAME_LENGTH = 63
_TABLE_CREATE_KEYS = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
)
_QUEUE_ATTRIBUTES = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "MaximumMessageSize",
)


@dataclass
class LocalResources:
    """Physical names of what was created, keyed by logical id, and the gateway's URL."""

    template: Template
    api_url: str
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    secret_arns: dict[str, str] = field(default_factory=dict)

    def lookup(self, logical_id: str, attribute: str | None) -> Any:
        resource_type = self.template.resources.get(logical_id, {}).get("Type")
        if resource_type is None:
            raise TemplateError(f"unknown resource {logical_id}")
        if resource_type == TABLE:
            name = self.tables[logical_id]
            return name if attribute is None else f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        if resource_type == QUEUE:
            url = self.queue_urls[logical_id]
            name = url.rsplit("/", 1)[-1]
            return {
                None: url,
                "QueueName": name,
                "QueueUrl": url,
                "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}",
            }[attribute]
        if resource_type == BUCKET:
            return _bucket_attribute(self.buckets[logical_id], attribute)
        if resource_type == SECRET:
            return self.secret_arns[logical_id]
        if resource_type == "AWS::ApiGatewayV2::Api":
            return self.api_url if attribute == "ApiEndpoint" else "local"
        if resource_type == "AWS::Lambda::Function":
            return (
                logical_id
                if attribute is None
                else f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{logical_id}"
            )
        if resource_type == "AWS::Cognito::UserPoolDomain":
            # No hosted sign-in locally: the console takes its token from the link `inbox dev` prints.
            return ""
        # Anything else (user pool, topic ...) has no local twin; its logical id stands in.
        return logical_id if attribute is None else f"local:{logical_id}:{attribute}"

    def queue_arn(self, logical_id: str) -> str:
        return str(self.lookup(logical_id, "Arn"))


def create_all(template: Template, *, api_url: str) -> LocalResources:
    """Create every table, bucket, queue (dead-letter queues first) and secret of the template."""
    created = LocalResources(template=template, api_url=api_url)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for logical_id, resource in template.of_type(TABLE).items():
        props = resource["Properties"]
        name = props.get("TableName", logical_id)
        dynamodb.create_table(TableName=name, **{k: props[k] for k in _TABLE_CREATE_KEYS if k in props})
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        created.tables[logical_id] = name

    s3 = boto3.client("s3", region_name=REGION)
    for logical_id, resource in template.of_type(BUCKET).items():
        name = resource.get("Properties", {}).get("BucketName") or bucket_name(logical_id)
        # No CreateBucketConfiguration: REGION is us-east-1, the one region S3 refuses as a location.
        s3.create_bucket(Bucket=name)
        created.buckets[logical_id] = name

    sqs = boto3.client("sqs", region_name=REGION)
    queues = template.of_type(QUEUE)
    # A queue with a redrive policy needs its dead-letter queue to exist first.
    for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
        props = queues[logical_id].get("Properties", {})
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or (f"{logical_id}.fifo" if fifo else logical_id)
        attributes = {k: _attribute(props[k]) for k in _QUEUE_ATTRIBUTES if k in props}
        if "RedrivePolicy" in props:
            policy = resolve(props["RedrivePolicy"], created.lookup)
            attributes["RedrivePolicy"] = json.dumps(policy)
        created.queue_urls[logical_id] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    secretsmanager = boto3.client("secretsmanager", region_name=REGION)
    for logical_id, resource in template.of_type(SECRET).items():
        props = resource["Properties"]
        created.secret_arns[logical_id] = secretsmanager.create_secret(
            Name=props.get("Name", logical_id), SecretString=_initial_secret(props)
        )["ARN"]
    return created


def bucket_name(logical_id: str) -> str:
    """The name of a bucket the template leaves unnamed: like CloudFormation's `<stack>-<logical id>`,
    lower-case (S3 names allow no capitals), but without the random suffix, so every run agrees."""
    name = re.sub(r"[^a-z0-9-]", "-", f"{PSEUDO_PARAMETERS['AWS::StackName']}-{logical_id}".lower())
    return name[:_BUCKET_NAME_LENGTH].strip("-")


def _bucket_attribute(name: str, attribute: str | None) -> str:
    values = {
        None: name,
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
    }
    if attribute not in values:
        raise TemplateError(f"the local stack has no bucket attribute {attribute}")
    return values[attribute]


def _initial_secret(props: dict[str, Any]) -> str:
    """What Secrets Manager would store at creation: the literal string, or the template with a
    generated value under its key."""
    if "SecretString" in props:
        return str(props["SecretString"])
    generate = props.get("GenerateSecretString", {})
    value = json.loads(generate.get("SecretStringTemplate", "{}"))
    key = generate.get("GenerateStringKey")
    if key:
        value[key] = secrets.token_hex(max(8, int(generate.get("PasswordLength", 32)) // 2))
    return json.dumps(value) if value or key else secrets.token_hex(16)


def _attribute(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
