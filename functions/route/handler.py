"""The router (built by the router issue): consumes the inbound FIFO queue.

Not implemented yet: every message is reported failed, so it stays queued (then reaches the
dead-letter queue, where it can be redriven) instead of being lost.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inbox.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    logger.warning("The router is not implemented yet", extra={"records": len(records)})
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
