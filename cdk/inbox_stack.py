"""The inbox stack: one table, the mail bucket, the queues, the functions with the shared layer, the
HTTP API, the email-poll and template-sync schedules, the Cognito user pool, and their
least-privilege grants.

The local stack (`inbox dev`) builds its tables, buckets and queues from this stack's synthesized
template, so this file is the one definition of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import Construct

from inbox.access import ADMINS_GROUP
from inbox.aws import MAX_RECEIVE_COUNT
from inbox.console import PREFIX as CONSOLE_PATH
from inbox.local.template import FUNCTION_METADATA, SCHEDULE_METADATA
from inbox.settings import env_name
from inbox.store.schema import GLOBAL_INDEXES, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
EMAIL_POLL_SCHEDULE = "email_poll"
TEMPLATE_SYNC_SCHEDULE = "template_sync"
META_APP_SECRET_NAME = "inbox/meta-app"  # noqa: S105 (a name, not a secret)
OAUTH_APPS_SECRET_NAME = "inbox/oauth-apps"  # noqa: S105 (a name, not a secret)
OAUTH_APP_FIELDS = (
    "google_client_id",
    "google_client_secret",
    "microsoft_client_id",
    "microsoft_client_secret",
    "microsoft_tenant",
)
# Where Google and Microsoft send the admin back: open routes (the single-use state authenticates).
OAUTH_CALLBACK_PATHS = ("/v1/oauth/google/callback", "/v1/oauth/microsoft/callback")
# What never goes into an asset: caches, and the local-only parts of the package.
ASSET_EXCLUDES = ["**/__pycache__", "*.pyc", "python/inbox/local", "python/inbox/cli.py"]
# The wildcard actions of CDK's bucket grants (grant_read, grant_put, grant_read_write).
MAIL_BUCKET_GRANT_ACTIONS = [
    "Action::s3:GetObject*",
    "Action::s3:GetBucket*",
    "Action::s3:List*",
    "Action::s3:Abort*",
    "Action::s3:DeleteObject*",
]


@dataclass(frozen=True)
class AssetSource:
    """Where the Lambda code comes from: `build/` (deploy) or the source directories (synth, tests)."""

    mode: str
    root: Path

    def __post_init__(self) -> None:
        if self.mode not in ("build", "source"):
            raise ValueError(f"inbox:assets must be 'build' or 'source', not {self.mode!r}")
        if self.mode == "build" and not (self.root / "build" / "layer").is_dir():
            raise FileNotFoundError("build/layer is missing: run `make build` before deploying")

    def layer(self) -> lambda_.Code:
        if self.mode == "build":
            return lambda_.Code.from_asset(str(self.root / "build" / "layer"))
        return lambda_.Code.from_asset(str(self.root / "layers" / "shared"), exclude=ASSET_EXCLUDES)

    def function(self, name: str) -> lambda_.Code:
        base = self.root / "build" / "functions" if self.mode == "build" else self.root / "functions"
        return lambda_.Code.from_asset(str(base / name), exclude=ASSET_EXCLUDES)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    timeout_seconds: int
    memory_mb: int = 512


SETTINGS_API = FunctionSpec("settings_api", "The /v1 HTTP API", timeout_seconds=15)
WEBHOOK_WHATSAPP = FunctionSpec("webhook_whatsapp", "Meta and Twilio WhatsApp webhooks", timeout_seconds=15)
POLL_EMAIL = FunctionSpec("poll_email", "Polls the email accounts", timeout_seconds=120)
ROUTE = FunctionSpec("route", "Routes inbound messages into conversations", timeout_seconds=60)
SEND = FunctionSpec("send", "Sends outbound messages", timeout_seconds=30)
# Static files only: the least memory Lambda gives is plenty.
CONSOLE = FunctionSpec("console", "The admin console's page and files", timeout_seconds=5, memory_mb=256)
SYNC_TEMPLATES = FunctionSpec(
    "sync_templates", "Syncs the review of pending WhatsApp templates", timeout_seconds=120
)


class InboxStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, assets: AssetSource, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.table = self._table()
        self.alarm_topic = self._alarm_topic()
        self.inbound_queue = self._queue("InboundQueue", fifo=True, consumer=ROUTE)
        self.outbound_queue = self._queue("OutboundQueue", fifo=False, consumer=SEND)
        # FIFO: a job is deduplicated per account and minute (MessageDeduplicationId), and one
        # account's jobs run one at a time (MessageGroupId).
        self.email_poll_queue = self._queue("EmailPollQueue", fifo=True, consumer=POLL_EMAIL)
        self.mail_bucket = self._mail_bucket()
        self.layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            code=assets.layer(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="inbox package and its dependencies",
        )
        self.user_pool, self.user_pool_client = self._user_pool()
        self.api = self._http_api()
        self.console_domain, self.console_client = self._console_sign_in()
        secrets_arn = self.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name="inbox/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

        self.meta_app_secret = self._meta_app_secret()
        self.oauth_apps_secret = self._oauth_apps_secret()
        common = {env_name("table_name"): self.table.table_name}
        mail = {env_name("mail_bucket"): self.mail_bucket.bucket_name}
        # The literal name (not the ARN-derived token), which GetSecretValue accepts as is.
        meta = {env_name("meta_app_secret_name"): META_APP_SECRET_NAME}
        # The poll queue: `POST /v1/accounts/{id}/sync` asks for a poll now.
        poll_jobs = {env_name("email_poll_queue_url"): self.email_poll_queue.queue_url}
        # Gmail and Office 365: the OAuth apps, for connecting (the API) and refreshing (poll, send).
        oauth_apps = {env_name("oauth_apps_secret_name"): OAUTH_APPS_SECRET_NAME}
        public_url = {env_name("public_url"): self.api.api_endpoint}
        # Agents' replies go to the outbound queue, as the router's auto-replies do.
        replies = {env_name("outbound_queue_url"): self.outbound_queue.queue_url}
        settings_api = self._function(
            SETTINGS_API,
            assets,
            {**common, **meta, **mail, **poll_jobs, **oauth_apps, **public_url, **replies},
        )
        webhook = self._function(
            WEBHOOK_WHATSAPP,
            assets,
            {
                **common,
                **meta,
                env_name("inbound_queue_url"): self.inbound_queue.queue_url,
                env_name("public_url"): self.api.api_endpoint,
            },
        )
        poll_email = self._function(
            POLL_EMAIL,
            assets,
            {
                **common,
                **mail,
                **oauth_apps,
                env_name("inbound_queue_url"): self.inbound_queue.queue_url,
                env_name("email_poll_queue_url"): self.email_poll_queue.queue_url,
            },
        )
        route = self._function(
            ROUTE,
            assets,
            {**common, **mail, env_name("outbound_queue_url"): self.outbound_queue.queue_url},
        )
        send = self._function(
            SEND,
            assets,
            {
                **common,
                **oauth_apps,
                # The queue's URL to postpone a message's retry; the public URL for Twilio's status callbacks.
                env_name("outbound_queue_url"): self.outbound_queue.queue_url,
                **public_url,
            },
        )
        # Asks Meta and Twilio about pending templates (their base URLs default to the real ones).
        sync_templates = self._function(SYNC_TEMPLATES, assets, common)
        # The admin console: static files and the hosted sign-in it uses; no table, no queue.
        console = self._function(
            CONSOLE,
            assets,
            {
                env_name("console_sign_in_domain"): self.console_domain.domain_name,
                env_name("console_client_id"): self.console_client.user_pool_client_id,
                **self._meta_signup(),
            },
        )

        # Least privilege: each function gets what its job needs, nothing account-wide.
        self.table.grant_read_write_data(settings_api)
        self.table.grant_read_data(webhook)
        self.table.grant_read_write_data(poll_email)
        self.table.grant_read_write_data(route)
        self.table.grant_read_write_data(send)
        # It stores each template's review, and puts an account whose credentials are refused in error.
        self.table.grant_read_write_data(sync_templates)
        self.inbound_queue.grant_send_messages(webhook)
        self.inbound_queue.grant_send_messages(poll_email)
        self.email_poll_queue.grant_send_messages(poll_email)
        self.email_poll_queue.grant_send_messages(settings_api)
        self.outbound_queue.grant_send_messages(route)
        self.outbound_queue.grant_send_messages(settings_api)
        # The poller stores raw mail; routing reads it and writes attachments and quarantine copies;
        # the API serves downloads (presigned URLs are signed with, and limited to, its own rights).
        self.mail_bucket.grant_put(poll_email)
        self.mail_bucket.grant_read_write(route)
        self.mail_bucket.grant_read(settings_api)
        self._grant_secrets(settings_api, secrets_arn, write=True)
        for reader in (webhook, route, sync_templates):
            self._grant_secrets(reader, secrets_arn, write=False)
        # They refresh OAuth access and save what the provider rotates (`inbox.oauth.tokens`).
        for refresher in (poll_email, send):
            self._grant_secrets(refresher, secrets_arn, write=False, rotate=True)

        route.add_event_source(
            event_sources.SqsEventSource(self.inbound_queue, batch_size=10, report_batch_item_failures=True)
        )
        # The event source grants consuming the queue (receive, delete, change visibility).
        send.add_event_source(
            event_sources.SqsEventSource(self.outbound_queue, batch_size=10, report_batch_item_failures=True)
        )
        poll_email.add_event_source(
            event_sources.SqsEventSource(self.email_poll_queue, batch_size=5, report_batch_item_failures=True)
        )
        schedule = events.Rule(
            self,
            "EmailPollSchedule",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            description="Polls every active email account",
            targets=[targets.LambdaFunction(poll_email)],
        )
        schedule.node.default_child.add_metadata(SCHEDULE_METADATA, EMAIL_POLL_SCHEDULE)  # type: ignore[union-attr]
        # Meta's webhook tells most reviews; the sync catches the ones it missed, and Twilio's.
        template_sync = events.Rule(
            self,
            "TemplateSyncSchedule",
            schedule=events.Schedule.rate(Duration.minutes(15)),
            description="Syncs the review of pending WhatsApp templates",
            targets=[targets.LambdaFunction(sync_templates)],
        )
        template_sync.node.default_child.add_metadata(SCHEDULE_METADATA, TEMPLATE_SYNC_SCHEDULE)  # type: ignore[union-attr]

        self._routes(settings_api, webhook, console)
        self._suppress_reviewed_findings()

        cdk.CfnOutput(self, "ApiUrl", value=self.api.api_endpoint)
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)
        cdk.CfnOutput(self, "ConsoleUrl", value=f"{self.api.api_endpoint}{CONSOLE_PATH}/")
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        cdk.CfnOutput(self, "MetaAppSecretName", value=self.meta_app_secret.secret_name)
        cdk.CfnOutput(self, "OAuthAppsSecretName", value=self.oauth_apps_secret.secret_name)
        for path in OAUTH_CALLBACK_PATHS:
            name = "GoogleRedirectUri" if "google" in path else "MicrosoftRedirectUri"
            cdk.CfnOutput(self, name, value=f"{self.api.api_endpoint}{path}")

    def _table(self) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in GLOBAL_INDEXES:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(
                    name=index.partition_key, type=dynamodb.AttributeType.STRING
                ),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=dynamodb.AttributeType.STRING),
            )
        return table

    def _mail_bucket(self) -> s3.Bucket:
        """Raw messages, attachments and quarantined mail. Nothing expires: an attachment stays
        downloadable as long as its conversation; old objects move to a cheaper storage class."""
        bucket = s3.Bucket(
            self,
            "MailBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # No auto_delete_objects: its custom-resource Lambda has no local twin, and mail is kept.
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="InfrequentAccessAfter90Days",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(90),
                        )
                    ],
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        NagSuppressions.add_resource_suppressions(
            bucket,
            [
                NagPackSuppression(
                    id="AwsSolutions-S1",
                    reason="Object reads and writes come only from the stack's own functions, whose calls "
                    "CloudTrail data events can record; a second bucket for server access logs would "
                    "add cost without a reader.",
                )
            ],
        )
        return bucket

    def _alarm_topic(self) -> sns.Topic:
        return sns.Topic(
            self,
            "AlarmTopic",
            display_name="inbox alarms",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsManagedKey", "alias/aws/sns"),
        )

    def _queue(
        self,
        construct_id: str,
        *,
        fifo: bool,
        consumer: FunctionSpec | None = None,
        consumer_timeout_seconds: int | None = None,
    ) -> sqs.Queue:
        """A queue with its dead-letter queue, and an alarm when anything lands in the latter."""
        timeout = consumer.timeout_seconds if consumer else consumer_timeout_seconds or 60
        dead_letters = sqs.Queue(
            self,
            f"{construct_id}DeadLetters",
            fifo=fifo or None,
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        queue = sqs.Queue(
            self,
            construct_id,
            fifo=fifo or None,
            # AWS's advice for Lambda consumers: six times the function timeout.
            visibility_timeout=Duration.seconds(6 * timeout),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )
        alarm = cloudwatch.Alarm(
            self,
            f"{construct_id}DeadLettersAlarm",
            alarm_description=f"{construct_id}: messages failed {MAX_RECEIVE_COUNT} times, now in the DLQ",
            metric=dead_letters.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
        return queue

    def _function(
        self, spec: FunctionSpec, assets: AssetSource, environment: dict[str, str]
    ) -> lambda_.Function:
        pascal = "".join(part.title() for part in spec.name.split("_"))
        log_group = logs.LogGroup(
            self,
            f"{pascal}Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        function = lambda_.Function(
            self,
            f"{pascal}Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=assets.function(spec.name),
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            environment={
                "POWERTOOLS_SERVICE_NAME": "inbox",
                "POWERTOOLS_METRICS_NAMESPACE": "Inbox",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
        )
        NagSuppressions.add_resource_suppressions(
            function.role,  # type: ignore[arg-type]
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="Wildcards confined to this project: the table's indexes, the account secrets "
                    "created at run time under the inbox/ prefix, the mail bucket's objects (keys are "
                    "made per message) with CDK's grant actions on them, and X-Ray's trace actions "
                    "(which support no resource-level scoping).",
                    applies_to=[
                        RegexAppliesTo(regex=r"/^Resource::<Table[0-9A-F]+\.Arn>\/index\/\*$/"),
                        RegexAppliesTo(regex=r"/^Resource::<MailBucket[0-9A-F]+\.Arn>\/\*$/"),
                        *MAIL_BUCKET_GRANT_ACTIONS,
                        "Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:"
                        "secret:inbox/*",
                        "Resource::*",
                    ],
                )
            ],
            apply_to_children=True,
        )
        function.node.default_child.add_metadata(FUNCTION_METADATA, spec.name)  # type: ignore[union-attr]
        return function

    def _grant_secrets(
        self, function: lambda_.Function, secrets_arn: str, *, write: bool, rotate: bool = False
    ) -> None:
        actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        if rotate:
            actions += ["secretsmanager:PutSecretValue"]
        if write:
            actions += [
                "secretsmanager:CreateSecret",
                "secretsmanager:PutSecretValue",
                "secretsmanager:DeleteSecret",
                "secretsmanager:TagResource",
            ]
        function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[secrets_arn]))

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=RemovalPolicy.RETAIN,
        )
        cognito.CfnUserPoolGroup(
            self,
            "AdminsGroup",
            user_pool_id=pool.user_pool_id,
            group_name=ADMINS_GROUP,
            description="May change settings (accounts, templates, labels, rules)",
        )
        # Sign-in by SRP from the team's front end; no hosted-UI OAuth flows until one is configured.
        client = pool.add_client("ApiClient", auth_flows=cognito.AuthFlow(user_srp=True), disable_o_auth=True)
        return pool, client

    def _meta_signup(self) -> dict[str, str]:
        """Meta's embedded signup in the console, when the deployer gives the app's id and the
        signup configuration's (`-c inbox:meta_app_id=… -c inbox:meta_signup_config_id=…`)."""
        app_id = self.node.try_get_context("inbox:meta_app_id")
        config_id = self.node.try_get_context("inbox:meta_signup_config_id")
        if not (app_id and config_id):
            return {}
        return {env_name("meta_app_id"): str(app_id), env_name("meta_signup_config_id"): str(config_id)}

    def _console_sign_in(self) -> tuple[cognito.UserPoolDomain, cognito.UserPoolClient]:
        """The hosted UI the console signs in through: a public client (the browser keeps no
        secret) with the authorization code flow and PKCE, sending the admin back to the console."""
        prefix = self.node.try_get_context("inbox:sign_in_domain_prefix") or cdk.Fn.join(
            "-", ["inbox", cdk.Aws.ACCOUNT_ID, cdk.Aws.REGION]
        )
        domain = self.user_pool.add_domain(
            "SignInDomain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )
        console_url = f"{self.api.api_endpoint}{CONSOLE_PATH}/"
        client = self.user_pool.add_client(
            "ConsoleClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[console_url],
                logout_urls=[console_url],
            ),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        return domain, client

    def _http_api(self) -> apigw.HttpApi:
        api = apigw.HttpApi(self, "HttpApi", description="inbox HTTP API")
        access_logs = logs.LogGroup(
            self,
            "ApiAccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        stage = api.default_stage.node.default_child  # type: ignore[union-attr]
        stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(  # type: ignore[union-attr]
            destination_arn=access_logs.log_group_arn,
            format='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
            '"route":"$context.routeKey","status":"$context.status",'
            '"latency":"$context.responseLatency","error":"$context.error.message"}',
        )
        return api

    def _routes(
        self, settings_api: lambda_.Function, webhook: lambda_.Function, console: lambda_.Function
    ) -> None:
        jwt = authorizers.HttpUserPoolAuthorizer(
            "CognitoAuthorizer",
            self.user_pool,
            user_pool_clients=[self.user_pool_client, self.console_client],
        )
        api_integration = integrations.HttpLambdaIntegration("SettingsApiIntegration", settings_api)
        webhook_integration = integrations.HttpLambdaIntegration("WebhookIntegration", webhook)
        self.api.add_routes(
            path="/v1/{proxy+}", methods=[apigw.HttpMethod.ANY], integration=api_integration, authorizer=jwt
        )
        open_routes = []
        for path in OAUTH_CALLBACK_PATHS:
            open_routes += self.api.add_routes(
                path=path, methods=[apigw.HttpMethod.GET], integration=api_integration
            )
        for path in ("/openapi.json", "/docs"):
            open_routes += self.api.add_routes(
                path=path, methods=[apigw.HttpMethod.GET], integration=api_integration
            )
        console_integration = integrations.HttpLambdaIntegration("ConsoleIntegration", console)
        for path in (CONSOLE_PATH, f"{CONSOLE_PATH}/{{proxy+}}"):
            open_routes += self.api.add_routes(
                path=path, methods=[apigw.HttpMethod.GET], integration=console_integration
            )
        # `/console/` itself: a greedy variable matches no empty remainder, so the page is the
        # `$default` route's, which answers 404 for any other path nothing else matched.
        open_routes.append(
            apigw.HttpRoute(
                self,
                "ConsoleDefaultRoute",
                http_api=self.api,
                route_key=apigw.HttpRouteKey.DEFAULT,
                integration=console_integration,
            )
        )
        open_routes += self.api.add_routes(
            path="/webhooks/whatsapp/meta",
            methods=[apigw.HttpMethod.GET, apigw.HttpMethod.POST],
            integration=webhook_integration,
        )
        for path in (
            "/webhooks/whatsapp/twilio/{account_id}",
            "/webhooks/whatsapp/twilio/{account_id}/status",
        ):
            open_routes += self.api.add_routes(
                path=path, methods=[apigw.HttpMethod.POST], integration=webhook_integration
            )
        for route in open_routes:
            NagSuppressions.add_resource_suppressions(
                route,
                [
                    NagPackSuppression(
                        id="AwsSolutions-APIG4",
                        reason="Open on purpose: webhooks are authenticated by the provider signature (Meta "
                        "HMAC, Twilio signature) in the function, OAuth callbacks by their single-use "
                        "state; the API description and the console's static files are public (the "
                        "console signs in, then calls the authorized /v1 routes).",
                    )
                ],
            )

    def _meta_app_secret(self) -> secretsmanager.Secret:
        """The Meta app's id and secret (the deployer pastes them from Meta's dashboard) and the
        webhook verify token (generated here; paste it into Meta's webhook settings)."""
        secret = secretsmanager.Secret(
            self,
            "MetaAppSecret",
            secret_name=META_APP_SECRET_NAME,
            description="Meta app: app_id and app_secret from Meta's dashboard; verify_token for its webhook",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"app_id": "", "app_secret": ""}),
                generate_string_key="verify_token",
                exclude_punctuation=True,
                password_length=32,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        NagSuppressions.add_resource_suppressions(
            secret,
            [
                NagPackSuppression(
                    id="AwsSolutions-SMG4",
                    reason="The Meta app secret is issued and rotated in Meta's dashboard, not by a "
                    "rotation Lambda; the deployer pastes the new value here.",
                )
            ],
        )
        return secret

    def _oauth_apps_secret(self) -> secretsmanager.Secret:
        """The Google and Microsoft OAuth apps' client ids and secrets, empty until the deployer
        pastes them from Google Cloud's and Entra's consoles (README, "Gmail and Office 365")."""
        secret = secretsmanager.Secret(
            self,
            "OAuthAppsSecret",
            secret_name=OAUTH_APPS_SECRET_NAME,
            description="Google and Microsoft OAuth apps: " + ", ".join(OAUTH_APP_FIELDS),
            secret_string_value=cdk.SecretValue.unsafe_plain_text(
                json.dumps(dict.fromkeys(OAUTH_APP_FIELDS, ""))
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        NagSuppressions.add_resource_suppressions(
            secret,
            [
                NagPackSuppression(
                    id="AwsSolutions-SMG4",
                    reason="OAuth client secrets are issued and rotated in Google's and Microsoft's "
                    "consoles, not by a rotation Lambda; the deployer pastes the new value here.",
                )
            ],
        )
        return secret

    def _suppress_reviewed_findings(self) -> None:
        """cdk-nag findings reviewed and accepted, each with its reason."""
        NagSuppressions.add_stack_suppressions(
            self,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    reason="Lambda roles use AWSLambdaBasicExecutionRole, AWS's minimal managed policy for "
                    "writing the function's own logs.",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole"
                    ],
                ),
                NagPackSuppression(
                    id="AwsSolutions-COG8",
                    reason="The Plus feature plan (threat protection) is a paid choice left to the deployer; "
                    "the pool has no self sign-up, a strong password policy and optional TOTP MFA.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-COG2",
                    reason="MFA is optional (TOTP) so each team can phase it in; enforce it in the user "
                    "pool when the team is ready.",
                ),
            ],
        )
