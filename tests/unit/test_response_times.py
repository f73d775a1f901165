"""Which waits a person's reply ends (`inbox.response_times`): auto-replies neither answer nor end
a wait, only the first reply by a person is a first response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inbox.business_hours import BusinessHours
from inbox.conversations import AUTO_REPLY, Direction, Message, MessageStatus
from inbox.response_times import Arrived, SampleKind, samples_for_reply, summarize

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ALWAYS = BusinessHours.always_open()


def message(n: int, direction: Direction, sent_by: str | None = None) -> Message:
    return Message(
        id=f"msg_{n}",
        conversation_id="cnv_1",
        account_id="acc_1",
        direction=direction,
        text="…",
        sent_by=sent_by,
        status=MessageStatus.SENT if direction is Direction.OUT else MessageStatus.RECEIVED,
        created_at=START + timedelta(minutes=10 * n),
    )


def test_an_auto_reply_does_not_end_the_wait_and_the_first_reply_is_a_first_response() -> None:
    history = [message(0, Direction.IN), message(1, Direction.OUT, AUTO_REPLY), message(2, Direction.IN)]
    reply = message(3, Direction.OUT, "alice")

    samples = samples_for_reply(reply, reversed(history), ALWAYS)

    assert [(s.kind, s.inbound_id, s.wall_seconds) for s in samples] == [
        (SampleKind.FIRST_RESPONSE, "msg_0", 1800.0),
        (SampleKind.RESPONSE, "msg_0", 1800.0),
        (SampleKind.RESPONSE, "msg_2", 600.0),
    ]


def test_a_later_reply_answers_only_what_came_after_the_previous_one() -> None:
    history = [
        message(0, Direction.IN),
        message(1, Direction.OUT, "bob"),
        message(2, Direction.IN),
        message(3, Direction.OUT, AUTO_REPLY),
    ]
    reply = message(4, Direction.OUT, "alice")

    samples = samples_for_reply(reply, reversed(history), ALWAYS)

    assert [(s.kind, s.inbound_id) for s in samples] == [(SampleKind.RESPONSE, "msg_2")]
    assert samples_for_reply(message(5, Direction.OUT, "alice"), reversed([*history, reply]), ALWAYS) == []


def test_the_summary_takes_the_median_and_the_nearest_rank_90th_percentile() -> None:
    history = [message(n, Direction.IN) for n in range(10)]
    reply = message(20, Direction.OUT, "alice")
    samples = samples_for_reply(reply, reversed(history), ALWAYS)

    summary = summarize(samples, business_hours=False, arrived=Arrived.ANY)

    waits = sorted(600.0 * (20 - n) for n in range(10))  # 6 000 … 12 000 s
    assert summary.response.count == 10
    assert summary.response.median_seconds == (waits[4] + waits[5]) / 2
    assert summary.response.p90_seconds == waits[8]
    assert summary.first_response.count == 1
