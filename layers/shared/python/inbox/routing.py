"""What the router does with each event of the inbound queue.

Template reviews are recorded now; conversations (messages and delivery statuses) arrive with the
router issue: until then those events fail, stay on the queue and reach its dead-letter queue,
from which they can be redriven, so none is lost.
"""

from __future__ import annotations

from inbox.inbound import QueuedEvent, TemplateStatusEvent
from inbox.observability import logger
from inbox.store.template_reviews import TemplateReviewStore


class NotRoutedYet(Exception):
    """An event this version cannot route yet; it is left on the queue."""


def route_event(body: str, *, reviews: TemplateReviewStore | None = None) -> None:
    """Apply one inbound-queue message (its JSON body); raises to leave it on the queue."""
    event = QueuedEvent.model_validate_json(body).event
    if isinstance(event, TemplateStatusEvent):
        recorded = (reviews or TemplateReviewStore()).record(event)
        logger.info(
            "Template review recorded" if recorded else "Template review already recorded",
            extra={"template_id": event.provider_template_id, "review": event.event},
        )
        return
    raise NotRoutedYet(f"{event.kind} events are routed by the router issue")
