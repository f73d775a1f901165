"""The template-review sync: fired by its schedule, asks Meta and Twilio about the WhatsApp
templates still pending review (`inbox.templates.approval.sync_pending`), a bounded batch a run."""

from datetime import UTC, datetime
from typing import Any

from inbox import startup

with startup.modules_loading():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from inbox.observability import logger, tracer
    from inbox.store.accounts import AccountStore
    from inbox.store.credentials import CredentialVault
    from inbox.store.templates import TemplateStore
    from inbox.templates.approval import sync_pending


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = sync_pending(
        store=TemplateStore(),
        accounts=AccountStore(),
        vault=CredentialVault(),
        now=datetime.now(UTC),
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    logger.info("Template reviews synced", extra=report.model_dump())
    return report.model_dump()
