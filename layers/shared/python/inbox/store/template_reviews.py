"""Meta's reviews of message templates, as they arrive (webhook events), kept until the templates
issue reads them onto its templates.

- `pk = META_TEMPLATE#<Meta template id>`, `sk = REVIEW#<occurred_at>#<event>`: one item per
  review event; written with a condition, so a redelivered event is recorded once.
"""

from __future__ import annotations

from typing import Any

from inbox.routing.events import TemplateStatusEvent
from inbox.store import dynamo, items


class TemplateReviewStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def record(self, event: TemplateStatusEvent) -> bool:
        """Store the review; False when this very event was already recorded."""
        key = items.key(
            f"META_TEMPLATE#{event.provider_template_id}",
            f"REVIEW#{event.occurred_at.isoformat()}#{event.event}",
        )
        try:
            self.table.put_item(Item=items.to_item(event, **key), ConditionExpression=items.NOT_EXISTS)
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def reviews(self, provider_template_id: str) -> list[TemplateStatusEvent]:
        """Every recorded review of a template, oldest first."""
        found = self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": f"META_TEMPLATE#{provider_template_id}", ":prefix": "REVIEW#"},
        )["Items"]
        return [items.from_item(TemplateStatusEvent, item) for item in found]
