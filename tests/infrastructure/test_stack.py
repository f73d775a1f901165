"""What a deployer of the inbox stack relies on, read from the synthesized template."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from cdk.inbox_stack import EMAIL_POLL_SCHEDULE, TEMPLATE_SYNC_SCHEDULE, AssetSource, InboxStack
from inbox.access import ADMINS_GROUP
from inbox.local.template import SCHEDULE_METADATA
from inbox.settings import env_name
from inbox.store.schema import GLOBAL_INDEXES, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from template_helpers import (
    as_list,
    function_by_name,
    nag_suppressions,
    policy_statements,
    referenced_id,
    rendered,
    resources_of_type,
    route_path,
)

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ["settings_api", "webhook_whatsapp", "poll_email", "route", "send", "sync_templates"]
MAIL_FUNCTIONS = {"poll_email", "route", "settings_api"}
SECRETS_ARN = "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:inbox/*"
MIN_SUPPRESSION_REASON = 20


def logical_id(stack: InboxStack, construct: Construct) -> str:
    """The logical id in the template of a construct's CloudFormation resource."""
    return stack.get_logical_id(cast(cdk.CfnElement, construct.node.default_child))


def route_properties(template_json: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources_of_type(template_json, "AWS::ApiGatewayV2::Route").values()]


def integration_of(template_json: dict[str, Any], route: dict[str, Any]) -> dict[str, Any]:
    """The properties of the integration a route's `Target` (`integrations/<id>`) names."""
    target = route["Target"]["Fn::Join"][1][1]
    return dict(template_json["Resources"][referenced_id(target)]["Properties"])


def dead_letter_queue_ids(template_json: dict[str, Any]) -> set[str]:
    queues = resources_of_type(template_json, "AWS::SQS::Queue").values()
    targets = (q["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn") for q in queues)
    return {target for target in map(referenced_id, targets) if target}


# Queues


def test_every_work_queue_redrives_failed_messages_to_a_dead_letter_queue_of_the_stack(
    template_json: dict[str, Any],
) -> None:
    # Given the stack's queues, and the dead-letter queues some of them redrive to
    queues = resources_of_type(template_json, "AWS::SQS::Queue")
    dead_letters = dead_letter_queue_ids(template_json)
    work_queues = {i: q for i, q in queues.items() if i not in dead_letters}
    assert work_queues
    assert dead_letters

    # When a message fails on a work queue, Then it is moved to a queue of this stack
    for queue_id, queue in work_queues.items():
        redrive = queue["Properties"].get("RedrivePolicy")
        assert redrive, f"{queue_id} has no dead-letter queue: failed messages would be lost"
        target = referenced_id(redrive["deadLetterTargetArn"])
        assert target in queues, f"{queue_id} redrives to {target}, not a queue of the stack"


@pytest.mark.parametrize(
    "queue",
    [
        # Keeps each conversation's messages in order.
        "inbound_queue",
        # Deduplicates an account's poll job per minute, and runs one account's jobs one at a time.
        "email_poll_queue",
    ],
)
def test_fifo_queues_and_their_dead_letter_queues_are_fifo(
    queue: str, stack: InboxStack, template_json: dict[str, Any]
) -> None:
    # Given a queue whose consumers rely on FIFO order or deduplication
    queues = resources_of_type(template_json, "AWS::SQS::Queue")
    fifo = queues[logical_id(stack, getattr(stack, queue))]["Properties"]

    # Then it is FIFO, and so is its dead-letter queue (SQS requires both to be of one kind)
    assert fifo.get("FifoQueue") is True
    dead_letters = queues[cast(str, referenced_id(fifo["RedrivePolicy"]["deadLetterTargetArn"]))]
    assert dead_letters["Properties"].get("FifoQueue") is True


def test_a_message_landing_in_any_dead_letter_queue_raises_an_alarm(template_json: dict[str, Any]) -> None:
    # Given the stack's alarms
    alarms = resources_of_type(template_json, "AWS::CloudWatch::Alarm").values()

    # Then each dead-letter queue has one on its visible messages, with someone to tell
    for queue_id in dead_letter_queue_ids(template_json):
        watching = [
            alarm["Properties"]
            for alarm in alarms
            if alarm["Properties"].get("Namespace") == "AWS/SQS"
            and alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and any(referenced_id(d["Value"]) == queue_id for d in alarm["Properties"].get("Dimensions", []))
        ]
        assert watching, f"nothing alarms when messages wait in {queue_id}"
        assert all(alarm.get("AlarmActions") for alarm in watching), f"the alarm on {queue_id} tells no one"


def test_queue_consumers_report_partial_batch_failures(template_json: dict[str, Any]) -> None:
    # Given the functions' queue subscriptions
    mappings = resources_of_type(template_json, "AWS::Lambda::EventSourceMapping")
    assert mappings

    # Then a failed message is retried alone, not with the whole batch it came in
    for mapping_id, mapping in mappings.items():
        response_types = mapping["Properties"].get("FunctionResponseTypes")
        assert response_types == ["ReportBatchItemFailures"], mapping_id


# HTTP API and users


def test_webhook_routes_are_open_to_the_providers(template_json: dict[str, Any]) -> None:
    # Given the routes under /webhooks (Meta and Twilio sign their calls; they send no JWT)
    routes = route_properties(template_json)
    webhooks = [r for r in routes if route_path(r["RouteKey"]).startswith("/webhooks")]
    assert webhooks

    # Then API Gateway lets them through to the function, which checks the signature
    for route in webhooks:
        assert route.get("AuthorizationType", "NONE") == "NONE", route["RouteKey"]


def test_only_the_oauth_callbacks_are_open_under_v1(template_json: dict[str, Any]) -> None:
    # Given the /v1 routes without an authorizer
    routes = route_properties(template_json)
    open_v1 = sorted(
        r["RouteKey"]
        for r in routes
        if route_path(r["RouteKey"]).startswith("/v1") and r.get("AuthorizationType", "NONE") == "NONE"
    )

    # Then they are exactly where Google and Microsoft send the admin back (the state authenticates)
    assert open_v1 == ["GET /v1/oauth/google/callback", "GET /v1/oauth/microsoft/callback"]


def test_every_v1_route_requires_a_cognito_token(stack: InboxStack, template_json: dict[str, Any]) -> None:
    # Given the routes under /v1 (but the OAuth callbacks) and the stack's one authorizer
    routes = route_properties(template_json)
    v1 = [
        r
        for r in routes
        if route_path(r["RouteKey"]).startswith("/v1") and not r["RouteKey"].endswith("/callback")
    ]
    authorizers = resources_of_type(template_json, "AWS::ApiGatewayV2::Authorizer")
    assert v1
    assert len(authorizers) == 1
    [(authorizer_id, authorizer)] = authorizers.items()

    # Then every /v1 call carries a JWT, checked by that authorizer
    for route in v1:
        assert route.get("AuthorizationType") == "JWT", route["RouteKey"]
        assert referenced_id(route.get("AuthorizerId")) == authorizer_id, route["RouteKey"]

    # And the JWT must be issued by the stack's user pool, for the stack's client
    pool_id = logical_id(stack, stack.user_pool)
    jwt = authorizer["Properties"]
    assert jwt["AuthorizerType"] == "JWT"
    assert rendered(jwt["JwtConfiguration"]["Issuer"]) == (
        f"https://cognito-idp.<AWS::Region>.amazonaws.com/<{pool_id}>"
    )
    clients = [logical_id(stack, stack.user_pool_client), logical_id(stack, stack.console_client)]
    assert [referenced_id(a) for a in jwt["JwtConfiguration"]["Audience"]] == clients


def test_the_console_is_served_openly_by_its_function(template_json: dict[str, Any]) -> None:
    # Given the routes that reach the console function
    console = function_by_name(template_json, "console")[0]
    routes = [
        r
        for r in route_properties(template_json)
        if referenced_id(integration_of(template_json, r)["IntegrationUri"]) == console
    ]

    # Then they are its page, its files and `$default` (which serves `/console/` itself), no token
    assert sorted(r["RouteKey"] for r in routes) == ["$default", "GET /console", "GET /console/{proxy+}"]
    assert all(r.get("AuthorizationType", "NONE") == "NONE" for r in routes)


def test_the_console_signs_in_through_the_hosted_ui_with_pkce(
    stack: InboxStack, template_json: dict[str, Any]
) -> None:
    # Given the console's app client and the user pool's domain
    client = template_json["Resources"][logical_id(stack, stack.console_client)]["Properties"]
    domain_id = logical_id(stack, stack.console_domain)

    # Then it is a public client (no secret: PKCE) with the code flow alone, back to the console
    assert client.get("GenerateSecret", False) is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    [callback] = client["CallbackURLs"]
    api_id = logical_id(stack, stack.api)
    assert rendered(callback) == f"<{api_id}.ApiEndpoint>/console/"
    assert client["LogoutURLs"] == client["CallbackURLs"]

    # And the console function is told the domain and the client, nothing it has no use for
    environment = function_by_name(template_json, "console")[1]["Properties"]["Environment"]["Variables"]
    assert referenced_id(environment[env_name("console_sign_in_domain")]) == domain_id
    assert referenced_id(environment[env_name("console_client_id")]) == logical_id(
        stack, stack.console_client
    )
    assert env_name("table_name") not in environment
    # Meta's embedded signup only when the deployer gives its ids
    assert env_name("meta_signup_config_id") not in environment


def test_the_deployer_s_meta_signup_ids_reach_the_console() -> None:
    app = cdk.App(
        context={
            "aws:cdk:bundling-stacks": [],
            "inbox:meta_app_id": "1234567890",
            "inbox:meta_signup_config_id": "cfg-42",
        }
    )
    stack = InboxStack(app, "Inbox", assets=AssetSource("source", root=ROOT))

    template_json = dict(Template.from_stack(stack).to_json())

    environment = function_by_name(template_json, "console")[1]["Properties"]["Environment"]["Variables"]
    assert environment[env_name("meta_app_id")] == "1234567890"
    assert environment[env_name("meta_signup_config_id")] == "cfg-42"


def test_the_user_pool_has_the_admins_group(stack: InboxStack, template: Template) -> None:
    # Given the user pool, Then it has the group whose members may change settings
    template.has_resource_properties(
        "AWS::Cognito::UserPoolGroup",
        {
            "GroupName": ADMINS_GROUP,
            "UserPoolId": {"Ref": logical_id(stack, stack.user_pool)},
        },
    )


# Permissions


def test_no_policy_grants_every_action_of_a_service_on_every_resource(template_json: dict[str, Any]) -> None:
    # Given every IAM statement of the stack
    statements = list(policy_statements(template_json))
    assert statements

    # Then none allows `*` or `service:*` on `*`
    for holder, statement in statements:
        actions = as_list(statement.get("Action"))
        wildcard = [a for a in actions if a == "*" or a.endswith(":*")]
        on_everything = "*" in as_list(statement.get("Resource"))
        assert not (statement.get("Effect") == "Allow" and wildcard and on_everything), (holder, statement)


def test_no_policy_statement_names_every_action(template_json: dict[str, Any]) -> None:
    # Given every IAM statement of the stack, Then none has the action `*`, whatever its resource
    for holder, statement in policy_statements(template_json):
        assert "*" not in as_list(statement.get("Action")), (holder, statement)


def test_functions_reach_only_the_inbox_secrets(template_json: dict[str, Any]) -> None:
    # Given the statements granting Secrets Manager actions
    secrets = [
        (holder, statement)
        for holder, statement in policy_statements(template_json)
        if any(str(a).startswith("secretsmanager:") for a in as_list(statement.get("Action")))
    ]
    assert secrets

    # Then they name only the secrets under inbox/, in the stack's own account and region
    for holder, statement in secrets:
        resources = [rendered(resource) for resource in as_list(statement.get("Resource"))]
        assert resources == [SECRETS_ARN], (holder, resources)


# Data


def test_the_table_is_on_demand_recoverable_and_expires_items(template: Template) -> None:
    # Given the stack's one table
    template.resource_count_is("AWS::DynamoDB::Table", 1)

    # Then it bills per request, keeps point-in-time backups, expires items, and has the store's keys
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "KeySchema": [
                {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": Match.array_equals(
                [
                    Match.object_like(
                        {
                            "IndexName": index.name,
                            "KeySchema": [
                                {"AttributeName": index.partition_key, "KeyType": "HASH"},
                                {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                            ],
                        }
                    )
                    for index in GLOBAL_INDEXES
                ]
            ),
        },
    )


def test_the_mail_bucket_is_private_encrypted_kept_and_never_expires_mail(
    stack: InboxStack, template_json: dict[str, Any]
) -> None:
    # Given the stack's one bucket, for raw mail, attachments and quarantined mail
    buckets = resources_of_type(template_json, "AWS::S3::Bucket")
    assert list(buckets) == [logical_id(stack, stack.mail_bucket)]
    [bucket] = buckets.values()
    properties = bucket["Properties"]

    # Then nothing in it can be made public, and it is encrypted at rest
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [encryption] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    # And deleting the stack keeps the mail
    assert bucket.get("DeletionPolicy") == "Retain"
    assert bucket.get("UpdateReplacePolicy") == "Retain"

    # And no rule expires an object (attachments stay downloadable); abandoned uploads are cleaned up
    rules = properties["LifecycleConfiguration"]["Rules"]
    assert rules
    for rule in rules:
        assert "ExpirationInDays" not in rule, rule
        assert "ExpirationDate" not in rule, rule
        assert "NoncurrentVersionExpiration" not in rule, rule
    assert any(r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 1 for r in rules)


def test_the_mail_bucket_refuses_requests_without_tls(
    stack: InboxStack, template_json: dict[str, Any]
) -> None:
    # Given the policies attached to the mail bucket
    bucket_id = logical_id(stack, stack.mail_bucket)
    policies = [
        p["Properties"]["PolicyDocument"]
        for p in resources_of_type(template_json, "AWS::S3::BucketPolicy").values()
        if referenced_id(p["Properties"]["Bucket"]) == bucket_id
    ]

    # Then one denies every action, to anyone, on the bucket and its objects, over plain HTTP
    denials = [
        statement
        for policy in policies
        for statement in policy["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1, policies
    [denial] = denials
    assert denial["Action"] == "s3:*"
    assert denial["Principal"] == {"AWS": "*"}
    assert sorted(rendered(r) for r in as_list(denial["Resource"])) == [
        f"<{bucket_id}.Arn>",
        f"<{bucket_id}.Arn>/*",
    ]


MAIL_READ = {"s3:GetObject*", "s3:GetBucket*", "s3:List*"}
MAIL_PUT = {"s3:PutObject", "s3:Abort*"}
MAIL_DELETE = {"s3:DeleteObject*"}


@pytest.mark.parametrize(
    ("name", "granted", "withheld"),
    [
        # Stores the raw message it fetched; reads nothing back.
        ("poll_email", MAIL_PUT, MAIL_READ | MAIL_DELETE),
        # Reads the raw message, writes its attachments and quarantine copies.
        ("route", MAIL_READ | MAIL_PUT | MAIL_DELETE, set()),
        # Serves downloads (and signs their URLs); never writes.
        ("settings_api", MAIL_READ, MAIL_PUT | MAIL_DELETE),
        ("webhook_whatsapp", set(), MAIL_READ | MAIL_PUT | MAIL_DELETE),
        ("send", set(), MAIL_READ | MAIL_PUT | MAIL_DELETE),
        ("sync_templates", set(), MAIL_READ | MAIL_PUT | MAIL_DELETE),
    ],
)
def test_each_function_reaches_the_mail_bucket_only_as_its_job_needs(
    name: str, granted: set[str], withheld: set[str], stack: InboxStack, template_json: dict[str, Any]
) -> None:
    # Given the S3 actions the function's role may take, and on what
    bucket_id = logical_id(stack, stack.mail_bucket)
    _, function = function_by_name(template_json, name)
    role_id = referenced_id(function["Properties"]["Role"])
    allowed: set[str] = set()
    for holder, statement in policy_statements(template_json):
        policy = template_json["Resources"][holder]["Properties"]
        if holder != role_id and role_id not in [referenced_id(r) for r in policy.get("Roles", [])]:
            continue
        actions = {a for a in as_list(statement.get("Action")) if str(a).startswith("s3:")}
        if not actions or statement.get("Effect") != "Allow":
            continue
        # Then every S3 action it has is on the mail bucket or its objects, nothing else
        resources = {rendered(r) for r in as_list(statement.get("Resource"))}
        assert resources <= {f"<{bucket_id}.Arn>", f"<{bucket_id}.Arn>/*"}, (name, resources)
        allowed |= actions

    # And it has what its job needs, and none of what it does not
    assert granted <= allowed, (name, allowed)
    assert not withheld & allowed, (name, allowed)


# Functions


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_is_traced_logs_json_and_reads_the_table(
    name: str, stack: InboxStack, template_json: dict[str, Any]
) -> None:
    # Given one of the functions
    _, function = function_by_name(template_json, name)
    properties = function["Properties"]

    # Then X-Ray traces it
    assert properties.get("TracingConfig") == {"Mode": "Active"}

    # And it logs JSON to a log group that does not keep logs forever
    logging = properties.get("LoggingConfig", {})
    assert logging.get("LogFormat") == "JSON"
    log_groups = resources_of_type(template_json, "AWS::Logs::LogGroup")
    log_group = log_groups.get(str(referenced_id(logging.get("LogGroup"))))
    assert log_group, f"{name} logs to no log group of the stack"
    assert log_group["Properties"].get("RetentionInDays")

    # And it runs with the shared layer, and is told the table's name
    layer_id = logical_id(stack, stack.layer)
    assert layer_id in [referenced_id(layer) for layer in properties.get("Layers", [])]
    table_name = properties["Environment"]["Variables"].get("INBOX_TABLE_NAME")
    assert referenced_id(table_name) == logical_id(stack, stack.table)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_functions_that_handle_mail_are_told_the_mail_buckets_name(
    name: str, stack: InboxStack, template_json: dict[str, Any]
) -> None:
    # Given one of the functions, and whether its job touches stored mail
    _, function = function_by_name(template_json, name)
    variables = function["Properties"]["Environment"]["Variables"]
    handles_mail = name in MAIL_FUNCTIONS

    # Then it is told the bucket's name (a Ref, which is the name) if and only if it does
    if handles_mail:
        assert variables.get(env_name("mail_bucket")) == {"Ref": logical_id(stack, stack.mail_bucket)}
    else:
        assert env_name("mail_bucket") not in variables


def rate_rules_targeting(template_json: dict[str, Any], function_id: str) -> dict[str, dict[str, Any]]:
    """The stack's rules that run `function_id` at a fixed rate."""
    return {
        rule_id: rule
        for rule_id, rule in resources_of_type(template_json, "AWS::Events::Rule").items()
        if str(rule["Properties"].get("ScheduleExpression", "")).startswith("rate(")
        and function_id in [referenced_id(t["Arn"]) for t in rule["Properties"].get("Targets", [])]
    }


def may_be_invoked_by_rule(template_json: dict[str, Any], function_id: str, rule_id: str) -> bool:
    permissions = resources_of_type(template_json, "AWS::Lambda::Permission").values()
    return any(
        p["Properties"]["Principal"] == "events.amazonaws.com"
        and referenced_id(p["Properties"]["FunctionName"]) == function_id
        and referenced_id(p["Properties"].get("SourceArn")) == rule_id
        for p in permissions
    )


def test_email_polling_runs_on_a_schedule(template_json: dict[str, Any]) -> None:
    # Given the poll_email function, When a rule runs it at a fixed rate
    poll_id, _ = function_by_name(template_json, "poll_email")
    scheduled = rate_rules_targeting(template_json, poll_id)

    # Then there is one, marked as the email-poll schedule, and it may invoke poll_email
    assert len(scheduled) == 1, f"rate rules targeting poll_email: {list(scheduled)}"
    [(rule_id, rule)] = scheduled.items()
    assert rule.get("Metadata", {}).get(SCHEDULE_METADATA) == EMAIL_POLL_SCHEDULE
    assert may_be_invoked_by_rule(template_json, poll_id, rule_id), "EventBridge may not invoke poll_email"


def test_pending_template_reviews_are_synced_every_15_minutes(template_json: dict[str, Any]) -> None:
    # Given the sync_templates function, When a rule runs it at a fixed rate
    sync_id, sync = function_by_name(template_json, "sync_templates")
    scheduled = rate_rules_targeting(template_json, sync_id)

    # Then there is one, every 15 minutes, marked as the template-sync schedule, allowed to invoke it
    assert len(scheduled) == 1, f"rate rules targeting sync_templates: {list(scheduled)}"
    [(rule_id, rule)] = scheduled.items()
    assert rule["Properties"]["ScheduleExpression"] == "rate(15 minutes)"
    assert rule.get("Metadata", {}).get(SCHEDULE_METADATA) == TEMPLATE_SYNC_SCHEDULE
    assert may_be_invoked_by_rule(template_json, sync_id, rule_id), (
        "EventBridge may not invoke sync_templates"
    )
    # And a run has time for a batch of provider calls (each bounded by a 10-second timeout)
    assert sync["Properties"]["Timeout"] == 120


# cdk-nag


def test_cdk_nag_finds_no_unreviewed_error(stack: InboxStack, template: Template) -> None:
    # Given the stack checked by the AWS Solutions pack (synthesized with the template)
    # When we collect its error findings
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))

    # Then there are none: each is either fixed or suppressed with a reason
    findings = "\n".join(f"{error.id}: {error.entry.data}" for error in errors)
    assert not errors, f"cdk-nag errors:\n{findings}"


def test_every_nag_suppression_gives_a_reason(template_json: dict[str, Any]) -> None:
    # Given the suppressions written in the stack's and the resources' metadata
    # Then each explains itself in more than a few words
    for holder, suppression in nag_suppressions(template_json):
        reason = str(suppression.get("reason", ""))
        assert len(reason) >= MIN_SUPPRESSION_REASON, f"{holder}: {suppression['id']} has reason {reason!r}"
