"""An agent's reply to a conversation (CONTRACT.md, "Agents' write API"): one code path for every
channel, the channel picking what may be sent and the sender (`inbox.delivery.sender`) the
transport.

The reply is checked first and nothing is written when it is refused: the account must be
sending (409 `account_paused` / `account_error`); on WhatsApp, free text and templates other than
`window` ones only inside the 24-hour window (422 `window_closed`, naming `window_expires_at`), and
only the account's approved templates (422 `template_not_usable`); every `{{variable}}` filled by
the one render function, the caller's values first, then what the conversation knows (422
`missing_variables`). Then the message (`queued`, `sent_by` the caller), the conversation's
last-message time and the `replied` event are written in one transaction, and the message is
handed to the outbound queue, whose claim sends it once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice, tee
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from inbox.access import Caller
from inbox.accounts.models import Account, AccountStatus, Channel
from inbox.business_hours import BusinessHours
from inbox.conversations import ContactRef, ContactState, Conversation, Direction, Message, MessageStatus
from inbox.delivery.queue import OutboundQueue, OutboundRequest
from inbox.directory import Customer, User
from inbox.errors import Conflict, FieldProblem, Invalid, NotFound, Unavailable
from inbox.ids import new_id
from inbox.model import Model
from inbox.observability import logger
from inbox.response_times import ResponseSample, SampleKind, samples_for_reply
from inbox.routing.events import ProviderError
from inbox.store.account_settings import AccountSettingsStore
from inbox.store.accounts import AccountStore
from inbox.store.conversations import (
    ConversationStore,
    event_write,
    mail_ref_write,
    message_key,
    new_contact_write,
    new_conversation_write,
    new_message_write,
    replied_write,
)
from inbox.store.customers import CustomerStore
from inbox.store.response_times import sample_write
from inbox.store.templates import TemplateStore
from inbox.store.users import UserStore
from inbox.store.workloads import count_assignment
from inbox.templates.models import ApprovalStatus, Template, TemplateType
from inbox.templates.rendering import render
from inbox.templates.variables import conversation_context
from inbox.timeline import EventType, new_event
from inbox.whatsapp.template_message import TemplateMessage

# A reply's metrics answer at most this many waiting messages, found among so many before it.
MAX_ANSWERED = 50
MAX_SCANNED = 500
Body = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
VariableValue = Annotated[str, StringConstraints(max_length=1_000)]


class ReplyRequest(Model):
    """One of `text`, `html` (email) or `template_id` (with `variables`)."""

    model_config = ConfigDict(extra="forbid")

    text: Body | None = None
    html: Body | None = Field(default=None, description="email only; sanitized, its text derived")
    template_id: str | None = None
    variables: dict[str, VariableValue] = Field(
        default_factory=dict, description="values for the template's variables (before the conversation's)"
    )

    @model_validator(mode="after")
    def _one_content(self) -> ReplyRequest:
        given = [name for name in ("text", "html", "template_id") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of text, html and template_id")
        if self.variables and self.template_id is None:
            raise ValueError("variables go with a template_id")
        return self


class StartRequest(Model):
    """A new conversation: WhatsApp with an approved `start` or `window` template; email with
    `text` or a template, and a `subject`."""

    model_config = ConfigDict(extra="forbid")

    account_id: str
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)] = Field(
        description="an E.164 number (WhatsApp) or an email address"
    )
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=998)] | None = (
        None
    )
    text: Body | None = None
    template_id: str | None = None
    variables: dict[str, VariableValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_content(self) -> StartRequest:
        if (self.text is None) == (self.template_id is None):
            raise ValueError("give exactly one of text and template_id")
        if self.variables and self.template_id is None:
            raise ValueError("variables go with a template_id")
        return self


@dataclass(frozen=True)
class Stores:
    conversations: ConversationStore
    accounts: AccountStore
    templates: TemplateStore
    users: UserStore
    customers: CustomerStore
    queue: OutboundQueue
    settings: AccountSettingsStore | None = None  # who may see which account (starting only)


def default_stores() -> Stores:
    """The stores as the deployed functions have them (the API's)."""
    return Stores(
        conversations=ConversationStore(),
        accounts=AccountStore(),
        templates=TemplateStore(),
        users=UserStore(),
        customers=CustomerStore(),
        queue=OutboundQueue(),
        settings=AccountSettingsStore(),
    )


@dataclass(frozen=True)
class _Content:
    text: str
    html: str | None = None
    template: Template | None = None
    template_message: TemplateMessage | None = None


def start(
    caller: Caller, request: StartRequest, *, stores: Stores, now: datetime | None = None
) -> Conversation:
    """Open a conversation with `request.to` and queue its first message (see the module); the
    conversation, assigned to the caller when they may answer the account's conversations."""
    now = now or datetime.now(UTC)
    settings = stores.settings or AccountSettingsStore()
    account = _visible_account(caller, request.account_id, stores.accounts, settings)
    _check_sending(account)
    address = _address(account, request.to)
    customer = _customer(account, address, stores.customers)
    if account.channel is Channel.WHATSAPP:
        state = stores.conversations.contact(account.id, address)
        if state is not None and state.open_conversation_id:
            raise Conflict(
                f"{address} has an open conversation on this account ({state.open_conversation_id}): "
                "reply there.",
                code="conversation_open",
                details=[FieldProblem("to", state.open_conversation_id)],
            )
    elif request.subject is None:
        raise Invalid(
            "subject: an email conversation needs one", details=[FieldProblem("subject", "required")]
        )
    assignee = (
        caller.user_id if _may_be_assigned(caller.user_id, account.id, stores.users, settings) else None
    )
    conversation = Conversation(
        id=new_id("cnv"),
        account_id=account.id,
        channel=account.channel,
        contact=ContactRef(address=address),
        subject=request.subject,
        customer_id=customer.id if customer else None,
        assignee_id=assignee,
        last_message_at=now,
        created_at=now,
        updated_at=now,
    )
    reply_request = ReplyRequest(
        text=request.text, template_id=request.template_id, variables=request.variables
    )
    content = _content(account, conversation, reply_request, stores, now, starting=True)
    message = _message(caller, account, conversation, content, now, subject=request.subject)
    writes = [
        new_conversation_write(conversation),
        new_message_write(message),
        event_write(
            new_event(conversation.id, EventType.REPLIED, now, caller.user_id, message_id=message.id)
        ),
    ]
    if assignee:
        writes.append(count_assignment(assignee, now, None))
        writes.append(
            event_write(
                new_event(conversation.id, EventType.ASSIGNED, now, caller.user_id, assignee_id=assignee)
            )
        )
    if account.channel is Channel.WHATSAPP:
        state = ContactState(
            account_id=account.id,
            address=address,
            first_seen_at=now,
            open_conversation_id=conversation.id,
            customer_id=customer.id if customer else None,
            customer_name=customer.name if customer else None,
            company_name=customer.company_name if customer else None,
            **({"last_assignee_id": assignee, "last_assigned_at": now} if assignee else {}),
        )
        writes.append(new_contact_write(state))
    if message.message_id:
        writes.append(mail_ref_write(account.id, message.message_id, conversation.id))
    stores.conversations.commit(writes)
    _hand_over(message, conversation, stores)
    logger.info("Conversation started", extra={"conversation_id": conversation.id, "sent_by": caller.user_id})
    return conversation


def reply(
    caller: Caller,
    conversation: Conversation,
    request: ReplyRequest,
    *,
    stores: Stores,
    now: datetime | None = None,
) -> Message:
    """Queue the caller's reply (see the module); the stored message."""
    now = now or datetime.now(UTC)
    account = stores.accounts.get(conversation.account_id)
    _check_sending(account)
    content = _content(account, conversation, request, stores, now)
    # The messages before it, newest first, read once (lazily) for both the threading and the metrics.
    before = islice(stores.conversations.newest_first(conversation.id, before=now), MAX_SCANNED)
    for_threading, for_metrics = tee(before)
    fields = _email_fields(account, conversation, for_threading) if account.channel is Channel.EMAIL else {}
    message = _message(caller, account, conversation, content, now, **fields)
    writes = [
        new_message_write(message),
        replied_write(conversation, now),
        event_write(
            new_event(conversation.id, EventType.REPLIED, now, caller.user_id, message_id=message.id)
        ),
        *(sample_write(sample) for sample in _response_samples(message, for_metrics, stores)),
    ]
    if message.message_id:  # the customer's answer to it joins this conversation
        writes.append(mail_ref_write(account.id, message.message_id, conversation.id))
    stores.conversations.commit(writes)
    _hand_over(message, conversation, stores)
    logger.info(
        "Reply queued",
        extra={"conversation_id": conversation.id, "message_id": message.id, "sent_by": caller.user_id},
    )
    return message


def _message(
    caller: Caller,
    account: Account,
    conversation: Conversation,
    content: _Content,
    now: datetime,
    **fields: Any,
) -> Message:
    """The outgoing message, `queued`, sent by the caller (email: `fields` thread it)."""
    if account.channel is Channel.EMAIL and "message_id" not in fields:
        from inbox.email.compose import new_message_id

        fields["message_id"] = new_message_id(account.address.rsplit("@", 1)[-1])
    return Message(
        id=new_id("msg"),
        conversation_id=conversation.id,
        account_id=account.id,
        direction=Direction.OUT,
        text=content.text,
        html=content.html,
        sent_by=caller.user_id,
        template_id=content.template.id if content.template else None,
        template=content.template_message,
        status=MessageStatus.QUEUED,
        created_at=now,
        **fields,
    )


def _visible_account(
    caller: Caller, account_id: str, accounts: AccountStore, settings: AccountSettingsStore
) -> Account:
    if not caller.is_admin and not settings.authorizes(account_id, caller.user_id):
        raise NotFound(f"No account with id {account_id!r}.", code="account_not_found")
    return accounts.get(account_id)


def _address(account: Account, to: str) -> str:
    """`to` as the channel writes it: E.164 for WhatsApp, an email address (checked) for email."""
    from pydantic import TypeAdapter, ValidationError

    from inbox.accounts.models import EmailAddress, PhoneNumber

    kind: Any = PhoneNumber if account.channel is Channel.WHATSAPP else EmailAddress
    try:
        return str(TypeAdapter(kind).validate_python(to))
    except ValidationError as error:
        why = error.errors()[0]["msg"]
        raise Invalid(f"to: {why}", details=[FieldProblem("to", why)]) from None


def _customer(account: Account, address: str, customers: CustomerStore) -> Customer | None:
    found = (
        customers.find_by_phone(address)
        if account.channel is Channel.WHATSAPP
        else customers.find_by_email(address)
    )
    return found[0] if found else None


def _may_be_assigned(user_id: str, account_id: str, users: UserStore, settings: AccountSettingsStore) -> bool:
    try:
        user = users.get(user_id)
    except NotFound:
        return False
    return user.active and settings.authorizes(account_id, user_id)


def _response_samples(message: Message, earlier: Iterable[Message], stores: Stores) -> list[ResponseSample]:
    """What this reply answers (`earlier`: the messages before it, newest first), timed now with
    the business hours in force now (`inbox.response_times`); at most the latest `MAX_ANSWERED`
    waiting messages (and the first response), a transaction holding 100 writes."""
    hours = (stores.settings or AccountSettingsStore()).read(message.account_id, BusinessHours)
    samples = samples_for_reply(message, earlier, hours)
    first = [s for s in samples if s.kind is SampleKind.FIRST_RESPONSE]
    return first + [s for s in samples if s.kind is SampleKind.RESPONSE][-MAX_ANSWERED:]


def _check_sending(account: Account) -> None:
    if account.status is AccountStatus.PAUSED:
        raise Conflict(f"The account {account.name} is paused: nothing is sent.", code="account_paused")
    if account.status is AccountStatus.ERROR:
        reason = f": {account.status_reason}" if account.status_reason else ""
        raise Conflict(f"The account {account.name} is in error{reason}", code="account_error")


def _content(
    account: Account,
    conversation: Conversation,
    request: ReplyRequest,
    stores: Stores,
    now: datetime,
    *,
    starting: bool = False,
) -> _Content:
    whatsapp = account.channel is Channel.WHATSAPP
    if whatsapp and request.html is not None:
        raise Invalid("html: WhatsApp messages are text", details=[FieldProblem("html", "email only")])
    window_open = conversation.window_expires_at is not None and now < conversation.window_expires_at
    template = _template(account, request.template_id, stores) if request.template_id else None
    if starting and template is not None and template.type is TemplateType.REPLY:
        raise _not_usable(
            f"The template {template.name!r} is a reply template: it cannot start a conversation."
        )
    allowed = (TemplateType.START, TemplateType.WINDOW) if starting else (TemplateType.WINDOW,)
    if whatsapp and not window_open and (template is None or template.type not in allowed):
        raise _window_closed(conversation)
    context = {**_conversation_context(account, conversation, stores), **request.variables}
    if template is not None:
        text = _rendered(template.content, context, "template")
        return _Content(
            text, template=template, template_message=_template_message(account, template, context)
        )
    if request.html is not None:
        from inbox.email.parsing import html_text
        from inbox.signatures import sanitize_html

        html = sanitize_html(_rendered(request.html, context, "html"))
        return _Content(html_text(html), html=html)
    return _Content(_rendered(request.text or "", context, "text"))


def _template(account: Account, template_id: str, stores: Stores) -> Template:
    try:
        template = stores.templates.get(template_id)
    except NotFound:
        template = None
    if template is None or template.account_id != account.id:
        raise _not_usable(f"No template {template_id!r} of this account.")
    if account.channel is Channel.WHATSAPP and template.approval.status is not ApprovalStatus.APPROVED:
        raise _not_usable(
            f"The template {template.name!r} is {template.approval.status}, not approved by WhatsApp."
        )
    return template


def _not_usable(message: str) -> Invalid:
    return Invalid(message, code="template_not_usable", details=[FieldProblem("template_id", message)])


def _window_closed(conversation: Conversation) -> Invalid:
    expired = conversation.window_expires_at
    when = f"closed at {expired.isoformat()}" if expired else "not open (the contact has not written yet)"
    message = f"The 24-hour window is {when}: only an approved window template can be sent to this contact."
    named = expired.isoformat() if expired else "null"
    return Invalid(message, code="window_closed", details=[FieldProblem("window_expires_at", named)])


def _rendered(content: str, context: dict[str, Any], field: str) -> str:
    rendered = render(content, context)
    if rendered.missing:
        names = ", ".join(rendered.missing)
        raise Invalid(
            f"No value for {names}: give it in `variables`, or write it out.",
            code="missing_variables",
            details=[FieldProblem(f"variables.{name}", "no value") for name in rendered.missing],
        )
    return rendered.text


def _conversation_context(account: Account, conversation: Conversation, stores: Stores) -> dict[str, Any]:
    customer = None
    if conversation.customer_id:
        try:
            customer = stores.customers.get(conversation.customer_id)
        except NotFound:
            customer = None
    assignee: User | None = None
    if conversation.assignee_id:
        try:
            assignee = stores.users.get(conversation.assignee_id)
        except NotFound:
            assignee = None
    return conversation_context(
        account=account,
        contact_name=conversation.contact.name,
        customer=customer,
        assignee=assignee,
        extra=conversation.context,
    )


def _template_message(
    account: Account, template: Template, context: dict[str, Any]
) -> TemplateMessage | None:
    """The template as the provider sends it: Meta by name with named values, Twilio by its
    Content SID with the values in its order; None on email (the rendering is the message)."""
    if account.channel is not Channel.WHATSAPP:
        return None
    values = {name: str(context[name]).strip() for name in template.variables}
    approval = template.approval
    return TemplateMessage(
        name=approval.provider_name or template.name,
        language=template.language or "en",
        parameters=values,
        content_sid=approval.provider_template_id if account.provider.value == "twilio" else None,
        variable_order=approval.variable_order or list(values),
    )


def _email_fields(account: Account, conversation: Conversation, earlier: Iterable[Message]) -> dict[str, Any]:
    """Threading of an email reply: its own Message-ID, `Re:` the subject, what it answers (the
    contact's latest message, from `earlier`: newest first) and the provider's thread."""
    from inbox.email.compose import new_message_id, reply_subject

    latest = next((m for m in earlier if m.direction is Direction.IN), None)
    domain = account.address.rsplit("@", 1)[-1]
    fields: dict[str, Any] = {"message_id": new_message_id(domain)}
    if latest is None:
        return {**fields, "subject": conversation.subject or "(no subject)"}
    answered = [latest.message_id] if latest.message_id else []
    return {
        **fields,
        "subject": reply_subject(latest.subject or conversation.subject, automatic=False),
        "in_reply_to": latest.message_id,
        "references": [*(latest.references or []), *answered] or None,
        "thread_id": latest.thread_id,
    }


def _hand_over(message: Message, conversation: Conversation, stores: Stores) -> None:
    """To the outbound queue; if the queue cannot take it, the message is recorded `failed`
    (nothing was sent) and the caller told to try again."""
    key = message_key(message)
    request = OutboundRequest(
        account_id=message.account_id,
        conversation_id=conversation.id,
        message_pk=key["pk"],
        message_sk=key["sk"],
        to=conversation.contact.address,
    )
    try:
        stores.queue.send(request)
    except Exception as error:  # whatever SQS said: the message must not stay `queued` unseen
        logger.exception("The outbound queue refused a reply", extra={"message_id": message.id})
        failure = ProviderError(
            code="queue_unavailable", message="The reply could not be queued: send it again."
        )
        stores.conversations.fail_queued(message, failure)
        raise Unavailable(
            "The reply could not be queued; nothing was sent: try again.", code="queue_unavailable"
        ) from error
