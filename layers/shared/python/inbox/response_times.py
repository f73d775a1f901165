"""Response-time metrics (CONTRACT.md, "Metrics"): how long the team takes to answer, in
wall-clock seconds and in seconds of the account's business hours.

Computed when a person replies (`inbox.replies`), with the business hours in force then, and kept
as one sample per answered inbound message (`response`) plus, on a conversation's first reply by a
person, one `first_response` from its first inbound message. Auto-replies never count: they
neither answer nor end a wait. Samples are kept by account and day (`inbox.store.response_times`),
so a period's figures read only that period's samples.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from inbox.business_hours import BusinessHours
from inbox.conversations import AUTO_REPLY, Direction, Message
from inbox.model import Model


class SampleKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESPONSE = "response"


class Arrived(StrEnum):
    INSIDE = "inside"
    OUTSIDE = "outside"
    ANY = "any"


class ResponseSample(Model):
    account_id: str
    conversation_id: str
    reply_id: str
    kind: SampleKind
    inbound_id: str
    inbound_at: datetime
    replied_at: datetime
    wall_seconds: float
    business_seconds: float
    arrived_inside: bool  # the inbound message arrived during business hours


class Summary(Model):
    count: int
    median_seconds: float | None = None
    p90_seconds: float | None = None


class ResponseTimes(Model):
    first_response: Summary
    response: Summary


def by_a_person(message: Message) -> bool:
    return message.direction is Direction.OUT and message.sent_by not in (None, AUTO_REPLY)


def samples_for_reply(
    reply: Message, earlier: Iterable[Message], hours: BusinessHours
) -> list[ResponseSample]:
    """The samples a person's `reply` makes. `earlier`: the conversation's messages before it,
    newest first (read until the previous reply by a person, or to the first message)."""
    waiting: list[Message] = []
    first_reply = True
    for message in earlier:
        if by_a_person(message):
            first_reply = False
            break
        if message.direction is Direction.IN:
            waiting.append(message)
    samples = [_sample(reply, inbound, SampleKind.RESPONSE, hours) for inbound in reversed(waiting)]
    if first_reply and waiting:
        samples.insert(0, _sample(reply, waiting[-1], SampleKind.FIRST_RESPONSE, hours))
    return samples


def summarize(samples: Sequence[ResponseSample], *, business_hours: bool, arrived: Arrived) -> ResponseTimes:
    kept = [s for s in samples if arrived is Arrived.ANY or s.arrived_inside == (arrived is Arrived.INSIDE)]

    def summary(kind: SampleKind) -> Summary:
        values = sorted(
            s.business_seconds if business_hours else s.wall_seconds for s in kept if s.kind is kind
        )
        if not values:
            return Summary(count=0)
        # p90 by nearest rank: a duration some sample actually took.
        p90 = values[max(0, math.ceil(0.9 * len(values)) - 1)]
        return Summary(count=len(values), median_seconds=statistics.median(values), p90_seconds=p90)

    return ResponseTimes(
        first_response=summary(SampleKind.FIRST_RESPONSE), response=summary(SampleKind.RESPONSE)
    )


def _sample(reply: Message, inbound: Message, kind: SampleKind, hours: BusinessHours) -> ResponseSample:
    start, end = inbound.created_at, reply.created_at
    return ResponseSample(
        account_id=reply.account_id,
        conversation_id=reply.conversation_id,
        reply_id=reply.id,
        kind=kind,
        inbound_id=inbound.id,
        inbound_at=start,
        replied_at=end,
        wall_seconds=max(0.0, (end - start).total_seconds()),
        business_seconds=hours.business_seconds_between(start, end),
        arrived_inside=hours.is_open(start),
    )
