"""The router: consumes the inbound FIFO queue, in order per contact, one event at a time.

A failing event fails the rest of its contact's events in the batch (they are retried in order);
other contacts' events go on. Poison events reach the dead-letter queue after the queue's
`maxReceiveCount`.
"""

from typing import Any

from inbox import startup

with startup.modules_loading():
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from inbox.observability import logger, metrics, tracer
    from inbox.routing.consumer import route_event

processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def record_handler(record: SQSRecord) -> None:
    route_event(record.body, delivery=int(record.attributes.approximate_receive_count))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # Every invocation publishes a figure (Powertools warns on an empty flush).
    metrics.add_metric(name="InboundEventsReceived", unit="Count", value=len(event.get("Records", [])))
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
