"""The `/v1` HTTP API (settings, and the routes later issues add), `/openapi.json` and `/docs`."""

from typing import Any

from inbox import startup

with startup.modules_loading():
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from inbox.api.app import app
    from inbox.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
