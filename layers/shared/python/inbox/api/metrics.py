"""`/v1/metrics`: the team's response times (CONTRACT.md, "Metrics"), over the accounts the
caller may see (admins: all; an account it may not see is a 404, as everywhere)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from inbox.api.auth import Authenticated
from inbox.api.errors import responses
from inbox.errors import FieldProblem, Invalid, NotFound
from inbox.response_times import Arrived, ResponseSample, ResponseTimes, summarize
from inbox.store.account_settings import AccountSettingsStore
from inbox.store.accounts import AccountStore
from inbox.store.response_times import ResponseTimeStore


def _iso_8601(value: object) -> object:
    """Only an ISO 8601 date-time: pydantic alone would take `0.5` for a Unix time."""
    if isinstance(value, str) and not ISO_DATE.match(value):
        raise ValueError("an ISO 8601 date-time, e.g. 2026-10-01T00:00:00Z")
    return value


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
Moment = Annotated[datetime, BeforeValidator(_iso_8601)]
router = Router()
TAG = ["Metrics"]
LONGEST = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=30)


@router.get("/metrics/response-times", tags=TAG, responses=responses(admin=False, not_found=True))
def response_times(
    caller: Authenticated,
    account_id: Annotated[str | None, Query(description="one account; default: all the caller sees")] = None,
    from_: Annotated[Moment | None, Query(alias="from", description="default: 30 days before `to`")] = None,
    to: Annotated[Moment | None, Query(description="replies before (default: now)")] = None,
    business_hours: Annotated[bool, Query(description="only time inside business hours")] = True,
    arrived: Annotated[
        Arrived, Query(description="inbound that arrived inside or outside hours")
    ] = Arrived.ANY,
) -> ResponseTimes:
    """Median and 90th percentile of the first response (a conversation's first inbound message
    to its first reply by a person) and of every response (each inbound message to the next
    reply by a person); auto-replies never count."""
    end = _aware(to, "to") or datetime.now(UTC)
    start = _aware(from_, "from") or end - DEFAULT_PERIOD
    if not start < end or end - start > LONGEST:
        problem = "from must be before to, at most 366 days apart"
        raise Invalid(problem, details=[FieldProblem("from", problem)])
    store = ResponseTimeStore()
    samples: list[ResponseSample] = []
    for account in _accounts(caller.user_id, caller.is_admin, account_id):
        samples += store.samples(account, start, end)
    return summarize(samples, business_hours=business_hours, arrived=arrived)


def _accounts(user_id: str, is_admin: bool, account_id: str | None) -> list[str]:
    if account_id is not None:
        if is_admin:
            AccountStore().get(account_id)  # 404 for an unknown one
        elif not AccountSettingsStore().authorizes(account_id, user_id):
            raise NotFound(f"No account with id {account_id!r}.", code="account_not_found")
        return [account_id]
    if not is_admin:
        return AccountSettingsStore().authorized_accounts(user_id)
    found: list[str] = []
    cursor: str | None = None
    while True:
        page = AccountStore().page(cursor=cursor, limit=100)
        found += [account.id for account in page.items]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise Invalid(f"{name}: give a time zone (e.g. Z)", details=[FieldProblem(name, "needs a time zone")])
    return moment
