"""What the router does with each event of the inbound queue, and the per-container caches it
reads through (an account's settings and the team change rarely: read once a minute at most)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from inbox.cache import TtlCache
from inbox.directory import User
from inbox.errors import NotFound
from inbox.inbound import InboundMessage, QueuedEvent, StatusEvent, TemplateStatusEvent
from inbox.observability import logger
from inbox.router import Collaborators, Router
from inbox.store.account_settings import AccountSettingsStore, AccountSnapshot
from inbox.store.template_reviews import TemplateReviewStore
from inbox.store.templates import TemplateStore
from inbox.store.users import UserStore
from inbox.template_approval import apply_review

SETTINGS_CACHE_SECONDS = 60

_snapshots: TtlCache[str, AccountSnapshot] = TtlCache(SETTINGS_CACHE_SECONDS)
_team: TtlCache[str, Mapping[str, User]] = TtlCache(SETTINGS_CACHE_SECONDS)


def snapshot_of(account_id: str) -> AccountSnapshot:
    return _snapshots.get(account_id, lambda key: AccountSettingsStore().snapshot(key))


def team(*, fresh: bool = False) -> Mapping[str, User]:
    """The directory's users, read at most once a minute unless `fresh` is asked for."""
    if fresh:
        _team.forget("team")
    return _team.get("team", lambda _: UserStore().everyone())


def clear_caches() -> None:
    _snapshots.clear()
    _team.clear()


def default_router() -> Router:
    return Router(Collaborators(snapshot_of=snapshot_of, users=team))


def route_event(
    body: str,
    *,
    router: Router | None = None,
    reviews: TemplateReviewStore | None = None,
    templates: TemplateStore | None = None,
) -> None:
    """Apply one inbound-queue message (its JSON body); raises to leave it on the queue."""
    event = QueuedEvent.model_validate_json(body).event
    if isinstance(event, TemplateStatusEvent):
        recorded = (reviews or TemplateReviewStore()).record(event)
        logger.info(
            "Template review recorded" if recorded else "Template review already recorded",
            extra={"template_id": event.provider_template_id, "review": event.event},
        )
        # Applied even when already recorded: a redelivery may follow a failed application, and
        # applying twice changes nothing.
        review_template(event, templates or TemplateStore())
    elif isinstance(event, InboundMessage):
        try:
            (router or default_router()).route_message(event)
        except NotFound:
            # The account was deleted after the webhook queued this: nothing to route it into.
            logger.warning(
                "Message for an account that no longer exists", extra={"account_id": event.account_id}
            )
    elif isinstance(event, StatusEvent):
        (router or default_router()).route_status(event)


def review_template(event: TemplateStatusEvent, templates: TemplateStore) -> None:
    """Move the reviewed template's approval; a concurrent change (`Conflict`) is raised, so the
    queue delivers the review again. A template we do not know (made outside the product, or
    deleted) only has its review recorded."""
    try:
        found = templates.by_provider_template_id(event.provider_template_id)
        template, version = templates.read(found.id) if found else (None, 0)
    except NotFound:
        template = None  # deleted meanwhile
    if template is None:
        logger.info(
            "Review of a template the inbox does not know", extra={"template_id": event.provider_template_id}
        )
        return
    approval = apply_review(template, event, now=datetime.now(UTC))
    if approval is not None:
        templates.replace(template, template.model_copy(update={"approval": approval}), version=version)
        logger.info(
            "Template review applied",
            extra={"template_id": template.id, "approval_status": approval.status.value},
        )
