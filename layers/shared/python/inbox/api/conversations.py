"""`/v1/conversations`: what agents read. A caller sees the conversations of the accounts it is
authorized for (admins: all); any other conversation is a 404, exactly as if it did not exist."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from inbox import conversation_actions, replies
from inbox.access import Caller
from inbox.api.auth import Authenticated
from inbox.api.error_body import ErrorBody
from inbox.api.errors import responses
from inbox.conversation_actions import AssigneeChange, LabelsChange
from inbox.conversations import Conversation, ConversationStatus, ConversationSummary, Message, MessageStatus
from inbox.errors import NotFound
from inbox.replies import ReplyRequest, StartRequest
from inbox.store.account_settings import AccountSettingsStore
from inbox.store.conversations import ConversationStore
from inbox.store.labels import LabelStore
from inbox.store.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from inbox.timeline import ConversationEvent

router = Router()
TAG = ["Conversations"]


@router.get("/conversations", tags=TAG, responses=responses(admin=False, not_found=True))
def list_conversations(
    caller: Authenticated,
    account_id: Annotated[str | None, Query()] = None,
    label: Annotated[str | None, Query(description="a label id or name")] = None,
    status: Annotated[ConversationStatus | None, Query()] = None,
    assignee_id: Annotated[str | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[ConversationSummary]:
    visible = None if caller.is_admin else AccountSettingsStore().authorized_accounts(caller.user_id)
    if visible == [] or (visible is not None and account_id is not None and account_id not in visible):
        if account_id is not None:
            raise NotFound(f"No account with id {account_id!r}.", code="account_not_found")
        return Page[ConversationSummary](items=[])  # authorized for no account: nothing to see
    filters: list[tuple[str, str, Any]] = []
    if label is not None:
        filters.append(("label_ids", "contains", _label_id(label)))
    prefix = f"{status}#" if status else ""
    store = ConversationStore()
    if account_id is not None:
        if assignee_id is not None:
            filters.append(("assignee_id", "=", assignee_id))
        return store.page(
            index="gsi1",
            partition=f"ACCOUNT_CONVS#{account_id}",
            prefix=prefix,
            cursor=cursor,
            limit=limit,
            filters=filters,
        )
    if visible is not None:
        filters.append(("account_id", "in", visible))
    if assignee_id is not None:
        return store.page(
            index="gsi2",
            partition=f"ASSIGNEE_CONVS#{assignee_id}",
            prefix=prefix,
            cursor=cursor,
            limit=limit,
            filters=filters,
        )
    if status is not None:
        filters.append(("status", "=", status.value))
    return store.page(index="gsi3", partition="CONVS", cursor=cursor, limit=limit, filters=filters)


@router.post(
    "/conversations",
    tags=TAG,
    status_code=HTTPStatus.CREATED,
    responses={
        **responses(HTTPStatus.CREATED, body=True, admin=False, not_found=True, conflict=True),
        HTTPStatus.SERVICE_UNAVAILABLE: {
            "description": "The message could not be queued, nothing was sent (`queue_unavailable`)",
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        },
    },
)
def start_conversation(caller: Authenticated, request: StartRequest) -> Conversation:
    """Start a conversation with a number or an address: on WhatsApp with an approved `start` or
    `window` template, on email with text or a template and a subject; the customer linked by the
    directory, the conversation assigned to the caller when they may answer the account. 409
    `conversation_open` when the WhatsApp contact has one already."""
    return replies.start(caller, request, stores=replies.default_stores())


@router.get("/conversations/<conversation_id>", tags=TAG, responses=responses(admin=False, not_found=True))
def get_conversation(caller: Authenticated, conversation_id: str) -> Conversation:
    return visible_conversation(caller, conversation_id)


@router.get(
    "/conversations/<conversation_id>/messages", tags=TAG, responses=responses(admin=False, not_found=True)
)
def list_messages(
    caller: Authenticated,
    conversation_id: str,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[Message]:
    visible_conversation(caller, conversation_id)
    page = ConversationStore().messages(conversation_id, cursor=cursor, limit=limit)
    # `sending` is the sender's claim, not a state CONTRACT.md names: to a reader it is still queued.
    page.items = [
        m.model_copy(update={"status": MessageStatus.QUEUED}) if m.status is MessageStatus.SENDING else m
        for m in page.items
    ]
    return page


@router.post(
    "/conversations/<conversation_id>/messages",
    tags=TAG,
    status_code=HTTPStatus.ACCEPTED,
    responses={
        **responses(HTTPStatus.ACCEPTED, body=True, admin=False, not_found=True, conflict=True),
        HTTPStatus.SERVICE_UNAVAILABLE: {
            "description": "The reply could not be queued, nothing was sent (`queue_unavailable`)",
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        },
    },
)
def reply_to_conversation(caller: Authenticated, conversation_id: str, request: ReplyRequest) -> Message:
    """Reply: free text, HTML (email) or a template with its variables; queued (202), then sent
    once. Refusals: `window_closed`, `missing_variables`, `template_not_usable` (422),
    `account_paused` / `account_error` (409); nothing is queued then."""
    conversation = visible_conversation(caller, conversation_id)
    return replies.reply(caller, conversation, request, stores=replies.default_stores())


@router.put(
    "/conversations/<conversation_id>/labels",
    tags=TAG,
    responses=responses(body=True, admin=False, not_found=True, conflict=True),
)
def put_labels(caller: Authenticated, conversation_id: str, change: LabelsChange) -> Conversation:
    """The conversation's labels, the whole set (names or ids); `create_missing` creates the
    names no label has, else they are 422 `unknown_label`."""
    visible_conversation(caller, conversation_id)
    return conversation_actions.set_labels(
        caller, conversation_id, change, stores=conversation_actions.default_stores()
    )


@router.put(
    "/conversations/<conversation_id>/assignee",
    tags=TAG,
    responses=responses(body=True, admin=False, not_found=True, conflict=True),
)
def put_assignee(caller: Authenticated, conversation_id: str, change: AssigneeChange) -> Conversation:
    """Assign to an active user authorized for the account (else 422 `assignee_not_allowed`), or
    to nobody (`null`)."""
    visible_conversation(caller, conversation_id)
    return conversation_actions.set_assignee(
        caller, conversation_id, change, stores=conversation_actions.default_stores()
    )


@router.post(
    "/conversations/<conversation_id>/close",
    tags=TAG,
    responses=responses(admin=False, not_found=True, conflict=True),
)
def close_conversation(caller: Authenticated, conversation_id: str) -> Conversation:
    """Closed. WhatsApp: the contact's next message opens a new conversation; email: an answer
    in the thread reopens this one."""
    visible_conversation(caller, conversation_id)
    return conversation_actions.close(caller, conversation_id, stores=conversation_actions.default_stores())


@router.post(
    "/conversations/<conversation_id>/reopen",
    tags=TAG,
    responses=responses(admin=False, not_found=True, conflict=True),
)
def reopen_conversation(caller: Authenticated, conversation_id: str) -> Conversation:
    """Open again (409 `conversation_superseded` when the WhatsApp contact has a newer one)."""
    visible_conversation(caller, conversation_id)
    return conversation_actions.reopen(caller, conversation_id, stores=conversation_actions.default_stores())


@router.get(
    "/conversations/<conversation_id>/events", tags=TAG, responses=responses(admin=False, not_found=True)
)
def list_events(
    caller: Authenticated,
    conversation_id: str,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[ConversationEvent]:
    """The timeline, oldest first: assignments, labels, closing and reopening, replies and
    auto-replies, each with when and by whom (`by`: a user id, `auto_reply`, or null: routing)."""
    visible_conversation(caller, conversation_id)
    return ConversationStore().events(conversation_id, cursor=cursor, limit=limit)


def visible_conversation(caller: Caller, conversation_id: str) -> Conversation:
    """The conversation, when the caller may see it (else 404, as if it did not exist)."""
    conversation = ConversationStore().get(conversation_id)
    if not caller.is_admin and not AccountSettingsStore().authorizes(conversation.account_id, caller.user_id):
        raise NotFound(f"No conversation with id {conversation_id!r}.", code="conversation_not_found")
    return conversation


def _label_id(label: str) -> str:
    """A label given by name is looked up through its name claim (no scan)."""
    if label.startswith("lbl_"):
        return label
    return LabelStore().id_by_name(label) or label
