"""Email polling (built by the email issue): fired by the schedule, and fed by the poll queue.

Not implemented yet: a scheduled run does nothing, and a queued poll request is reported failed
so it stays on the queue (and reaches the dead-letter queue) instead of being lost.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inbox.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    logger.warning("Email polling is not implemented yet", extra={"records": len(records)})
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
