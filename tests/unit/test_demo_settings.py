"""The demo's settings (`inbox dev --demo`): a contact's first message gets an auto-reply at any
hour, open or closed, so the README's demo always shows one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inbox.accounts.models import AccountStatus
from inbox.business_hours import BusinessHours
from inbox.local import demo
from inbox.routing.auto_reply import AutoReplySettings, Trigger, decide_auto_reply


def test_a_first_message_is_answered_at_every_hour_of_a_week_and_a_holiday() -> None:
    settings = AutoReplySettings.model_validate(demo.AUTO_REPLY)
    hours = BusinessHours.model_validate(demo.BUSINESS_HOURS)
    start = datetime(2026, 12, 21, tzinfo=UTC)  # a Monday; Friday the 25th is Christmas
    triggers = set()

    for step in range(7 * 24 * 4):
        sent_at = start + timedelta(minutes=15 * step)
        decision = decide_auto_reply(
            settings,
            account_status=AccountStatus.ACTIVE,
            hours=hours,
            sent_at=sent_at,
            now=sent_at + timedelta(seconds=5),
            first_contact=True,
            last_auto_reply_at=None,
            headers={},
            sender="+33612345678",
            context={"customer_name": "Jean Dupont", "business_name": demo.DEMO_BUSINESS_NAME},
        )
        assert decision.send, (sent_at, decision)
        triggers.add(decision.trigger)

    assert triggers == {Trigger.OUTSIDE_BUSINESS_HOURS, Trigger.FIRST_CONTACT}
