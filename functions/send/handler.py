"""The sender: consumes the outbound queue and delivers each message once (`inbox.delivery.sender`).

A message to retry (throttled, provider down) is reported failed after its visibility was set to
its backoff; after the queue's `maxReceiveCount` it reaches the dead-letter queue.
"""

from typing import Any

from inbox import startup

with startup.modules_loading():
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from inbox.delivery.sender import deliver_from_queue
    from inbox.observability import logger, tracer

# A batch whose every message is to retry is reported like any other, not raised as an error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    return deliver_from_queue(
        record.body,
        receipt_handle=record.receipt_handle,
        receive_count=int(record.attributes.approximate_receive_count),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
