"""What the router does with each event of the inbound queue, and what it routes messages by:
the settings as they are now, kept warm in the container but never used once changed.

An account's settings and the team change rarely and are read for every message, so a container
keeps its copy of each with the version it was read at. The versions come with the contact's
state, in the one request the router makes first anyway (`store.versions`); a copy is read again
(strongly consistent) only when its version moved. So the message after any change (a pause, an
authorized user removed, new rules, a user deactivated) is routed by it, at no request per message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from inbox.aws import MAX_RECEIVE_COUNT
from inbox.cache import VersionedCache
from inbox.directory import User
from inbox.errors import NotFound
from inbox.observability import logger
from inbox.routing.events import InboundMail, InboundMessage, QueuedEvent, StatusEvent, TemplateStatusEvent
from inbox.routing.router import Collaborators, Current, Router
from inbox.store import dynamo
from inbox.store.account_settings import AccountSettingsStore, AccountSnapshot
from inbox.store.template_reviews import TemplateReviewStore
from inbox.store.templates import TemplateStore
from inbox.store.users import UserStore
from inbox.store.versions import routing_reads
from inbox.templates.approval import apply_review

_snapshots: VersionedCache[str, AccountSnapshot] = VersionedCache()
_team: VersionedCache[str, Mapping[str, User]] = VersionedCache(max_entries=1)


def current(account_id: str, address: str) -> Current:
    """The contact's state, the account's snapshot and the team as they are now (one request
    while nothing changed; `NotFound` when the account is gone)."""
    table = dynamo.table()
    reads = routing_reads(table, account_id, address)
    # Read after the versions, strongly consistent: a copy is never older than its version.
    snapshot = _snapshots.get(account_id, reads.account_version, AccountSettingsStore(table).snapshot)
    team = _team.get("team", reads.team_version, lambda _: UserStore(table).everyone())
    # The account as just read: the snapshot's, unless it moved since (then re-read next time).
    return Current(
        contact=reads.contact, snapshot=snapshot.model_copy(update={"account": reads.account}), team=team
    )


def clear_caches() -> None:
    """Forget the container's copies (tests: each new moto table counts versions afresh)."""
    _snapshots.clear()
    _team.clear()


def default_router() -> Router:
    return Router(Collaborators(current=current))


def route_event(
    body: str,
    *,
    router: Router | None = None,
    reviews: TemplateReviewStore | None = None,
    templates: TemplateStore | None = None,
    delivery: int = 1,
) -> None:
    """Apply one inbound-queue message (its JSON body; `delivery`: how many times the queue has
    delivered it, this one included); raises to leave it on the queue."""
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
    elif isinstance(event, InboundMail):
        from inbox.email.inbound import account_gone, route_mail

        chosen = router or default_router()
        try:
            route_mail(
                event,
                chosen.route_message,
                seen=chosen.c.conversations.was_routed,
                last_chance=delivery >= MAX_RECEIVE_COUNT,
            )
        except NotFound as failure:
            if not account_gone(failure):
                raise
            logger.warning(
                "Mail for an account that no longer exists", extra={"account_id": event.account_id}
            )
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
