"""WhatsApp webhooks from Meta and Twilio (built by the WhatsApp-ingest issue).

Until then every webhook is answered 501 in the API's error shape, so a provider configured too
early sees a clear refusal (and retries later) rather than a silent success that loses messages.
"""

import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from inbox.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.warning("WhatsApp webhooks are not implemented yet", extra={"route": event.get("routeKey")})
    body = {
        "error": {
            "code": "not_implemented",
            "message": "WhatsApp webhooks are not available yet.",
            "details": [],
        }
    }
    return {"statusCode": 501, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
