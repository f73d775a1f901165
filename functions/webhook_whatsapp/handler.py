"""WhatsApp webhooks from Meta and Twilio: verified, normalized, queued for the router.

Traced by Lambda's active tracing alone, without the X-Ray SDK (`inbox.observability`): a provider
waits on this cold start, and the SDK would add more to it than its few subsegments are worth.
"""

from typing import Any

from inbox import startup

with startup.modules_loading():
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from inbox.api import webhooks
    from inbox.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return webhooks.resolve(event)
