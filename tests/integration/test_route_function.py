"""The route function on the inbound queue: template reviews recorded once, other events kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import builders
from builders import invoke_handler
from inbox.accounts.models import Channel, Provider
from inbox.routing.events import (
    Contact,
    InboundMessage,
    MessageType,
    QueuedEvent,
    TemplateStatusEvent,
    group_id,
)
from inbox.store.template_reviews import TemplateReviewStore

pytestmark = pytest.mark.usefixtures("aws")


def sqs_record(event: InboundMessage | TemplateStatusEvent, message_id: str) -> dict[str, Any]:
    return builders.sqs_record(
        QueuedEvent(event=event).model_dump_json(), message_id, queue="inbound.fifo", group_id=group_id(event)
    )


def review(event: str = "APPROVED") -> TemplateStatusEvent:
    return TemplateStatusEvent(
        provider=Provider.META_CLOUD,
        waba_id="1",
        provider_template_id="987",
        name="order",
        language="fr",
        event=event,
        occurred_at=datetime(2026, 11, 25, tzinfo=UTC),
    )


def message() -> InboundMessage:
    now = datetime.now(UTC)
    return InboundMessage(
        account_id="acc_1",
        channel=Channel.WHATSAPP,
        provider=Provider.META_CLOUD,
        provider_message_id="wamid.1",
        contact=Contact(address="+33612345678"),
        sent_at=now,
        received_at=now,
        type=MessageType.TEXT,
        text="hi",
    )


def route(*records: dict[str, Any]) -> dict[str, Any]:
    return dict(invoke_handler("route", {"Records": list(records)}))


def test_a_template_review_is_recorded_once_however_often_it_is_delivered() -> None:
    first = route(sqs_record(review(), "m1"))
    again = route(sqs_record(review(), "m2"))

    assert first == again == {"batchItemFailures": []}
    assert [r.event for r in TemplateReviewStore().reviews("987")] == ["APPROVED"]


def test_a_message_for_a_deleted_account_is_acknowledged_and_reviews_go_on() -> None:
    answer = route(sqs_record(message(), "m1"), sqs_record(review("REJECTED"), "m2"))

    assert answer == {"batchItemFailures": []}
    assert [r.event for r in TemplateReviewStore().reviews("987")] == ["REJECTED"]


def test_a_malformed_body_fails_only_its_record() -> None:
    poison = {**sqs_record(message(), "m1"), "body": "{not json"}

    answer = route(poison, sqs_record(review(), "m2"))

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert [r.event for r in TemplateReviewStore().reviews("987")] == ["APPROVED"]
