from __future__ import annotations

import pytest

from inbox.routing.events import DeliveryStatus, advance

S = DeliveryStatus


@pytest.mark.parametrize(
    ("reports", "final"),
    [
        ([S.SENT, S.DELIVERED, S.READ], S.READ),
        ([S.READ, S.DELIVERED, S.SENT], S.READ),  # out of order: read implies delivered
        ([S.DELIVERED, S.SENT], S.DELIVERED),
        ([S.QUEUED, S.SENT, S.FAILED], S.FAILED),
        ([S.FAILED, S.SENT], S.FAILED),
    ],
)
def test_a_status_never_moves_backwards(reports: list[DeliveryStatus], final: DeliveryStatus) -> None:
    current = None
    for reported in reports:
        current = advance(current, reported)

    assert current == final
