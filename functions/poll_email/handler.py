"""Email polling: the schedule's tick fans out one poll job per active email account onto the
email-poll queue; each job from that queue polls one mailbox (`inbox.email.polling`)."""

from typing import Any

from inbox import startup

with startup.modules_loading():
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from inbox.email.poll_queue import PollJob
    from inbox.email.polling import fan_out, poll_mailbox
    from inbox.observability import logger, metrics

# What a poll leaves of the function's time for its last batch's hand-over and its records.
SAFETY_SECONDS = 30
MAX_POLL_SECONDS = 60

processor = SqsFifoPartialProcessor(skip_group_on_error=True)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" not in event:  # EventBridge's scheduled event
        return {"queued": fan_out()}

    def poll(record: SQSRecord) -> None:
        job = PollJob.model_validate_json(record.body)
        left = context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
        poll_mailbox(job.account_id, seconds=max(1.0, min(MAX_POLL_SECONDS, left)))

    return dict(
        process_partial_response(event=event, record_handler=poll, processor=processor, context=context)
    )
