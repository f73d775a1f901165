"""Email's own endpoints: ask for a poll now, the quarantine (admins), and the attachments of a
message (anyone who may see its conversation)."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from inbox.accounts.models import AccountStatus, Channel
from inbox.api.auth import Admin, Authenticated
from inbox.api.conversations import visible_conversation
from inbox.api.errors import responses
from inbox.email.sync_state import QuarantinedMail
from inbox.errors import Conflict, NotFound
from inbox.model import Model
from inbox.store.accounts import AccountStore
from inbox.store.conversations import ConversationStore
from inbox.store.mail_objects import MailObjects
from inbox.store.mailbox_sync import MailboxSyncStore
from inbox.store.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = Router()
TAG = ["Email"]
# Bigger files are a redirect to a short-lived bucket URL: a Lambda answer holds 6 MB at most,
# and its body is base64 (4/3 larger).
INLINE_BYTES = 4 * 1024 * 1024


class SyncRequested(Model):
    account_id: str
    queued: bool = True


@router.post(
    "/accounts/<account_id>/sync",
    tags=TAG,
    status_code=HTTPStatus.ACCEPTED,
    responses=responses(HTTPStatus.ACCEPTED, not_found=True, conflict=True),
)
def request_sync(_: Admin, account_id: str) -> Response[SyncRequested]:
    """Poll the mailbox now (the poll runs within seconds; its outcome shows in the account's `sync`)."""
    from inbox.email.poll_queue import PollJobs

    account = AccountStore().get(account_id)
    if account.channel is not Channel.EMAIL:
        raise Conflict("Only email accounts are synced.", code="not_an_email_account")
    if account.status is AccountStatus.PAUSED:
        raise Conflict("The account is paused: resume it to sync.", code="account_paused")
    if account.status is AccountStatus.ERROR:
        raise Conflict(
            f"The account is in error ({account.status_reason}): reconnect it to sync.", code="account_error"
        )
    # One request per account and second: a double click queues one poll.
    PollJobs().queue([account_id], reason="sync", dedupe=datetime.now(UTC).strftime("%Y%m%dT%H%M%S"))
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        body=SyncRequested(account_id=account_id),
        content_type="application/json",
    )


@router.get("/accounts/<account_id>/quarantine", tags=TAG, responses=responses(not_found=True))
def list_quarantine(
    _: Admin,
    account_id: str,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[QuarantinedMail]:
    AccountStore().get(account_id, include_deleted=True)
    return MailboxSyncStore().quarantined(account_id, cursor=cursor, limit=limit)


@router.get(
    "/accounts/<account_id>/quarantine/<quarantine_id>/raw",
    tags=TAG,
    responses=responses(not_found=True),
)
def quarantined_raw(_: Admin, account_id: str, quarantine_id: str) -> Response[bytes]:
    """The quarantined message as it was fetched (`message/rfc822`)."""
    mail = MailboxSyncStore().quarantined_mail(account_id, quarantine_id)
    return _file(mail.raw_key, mail.size, "message/rfc822", f"{quarantine_id}.eml")


@router.get(
    "/conversations/<conversation_id>/messages/<message_id>/attachments/<attachment_id>",
    tags=TAG,
    responses=responses(admin=False, not_found=True),
)
def download_attachment(
    caller: Authenticated, conversation_id: str, message_id: str, attachment_id: str
) -> Response[bytes]:
    visible_conversation(caller, conversation_id)
    message = ConversationStore().message(conversation_id, message_id)
    for attachment in message.attachments or []:
        if attachment.id == attachment_id:
            return _file(attachment.key, attachment.size, attachment.content_type, attachment.filename)
    raise NotFound(f"No attachment with id {attachment_id!r}.", code="attachment_not_found")


def _file(key: str, size: int, content_type: str, filename: str | None) -> Response[bytes]:
    objects = MailObjects()
    if size > INLINE_BYTES:
        url = objects.download_url(key, filename=filename, content_type=content_type)
        return Response(status_code=HTTPStatus.FOUND, headers={"Location": url}, body=b"")
    headers = {"Content-Disposition": _disposition(filename)} if filename else {}
    return Response(
        status_code=HTTPStatus.OK, content_type=content_type, body=objects.get(key), headers=headers
    )


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
