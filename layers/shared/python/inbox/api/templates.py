"""`/v1/templates`: message templates, their variables, rendering and WhatsApp review (admins)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ConfigDict, Field, model_validator

from inbox.api.auth import Admin
from inbox.api.errors import responses
from inbox.errors import NotFound
from inbox.model import Model
from inbox.store.accounts import AccountStore
from inbox.store.conversations import ConversationStore
from inbox.store.customers import CustomerStore
from inbox.store.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from inbox.store.templates import TemplateStore
from inbox.store.users import UserStore
from inbox.templates import lifecycle
from inbox.templates.models import Template, TemplateFields, TemplateType, TemplateUpdate
from inbox.templates.rendering import Rendered
from inbox.templates.variables import Variable, catalogue, conversation_context

router = Router()
TAG = ["Templates"]


class RenderRequest(Model):
    """Values given in `context` win over what the conversation says."""

    model_config = ConfigDict(extra="forbid")

    context: dict[str, str | None] = Field(default_factory=dict)
    conversation_id: str | None = None

    @model_validator(mode="after")
    def _something_to_render_from(self) -> RenderRequest:
        if not self.context and self.conversation_id is None:
            raise ValueError("give a context, a conversation_id, or both")
        return self


class Variables(Model):
    items: list[Variable]


@router.get("/templates/variables", tags=TAG, responses=responses())
def list_variables(_: Admin) -> Variables:
    return Variables(items=list(catalogue()))


@router.get("/templates", tags=TAG, responses=responses())
def list_templates(
    _: Admin,
    account_id: Annotated[str | None, Query()] = None,
    label: Annotated[str | None, Query()] = None,
    type: Annotated[TemplateType | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[Template]:
    return TemplateStore().page(account_id=account_id, label=label, type=type, cursor=cursor, limit=limit)


@router.post(
    "/templates",
    tags=TAG,
    status_code=HTTPStatus.CREATED,
    responses=responses(HTTPStatus.CREATED, body=True, conflict=True),
)
def create_template(_: Admin, template: TemplateFields) -> Template:
    return lifecycle.create_template(template, accounts=AccountStore(), templates=TemplateStore())


@router.get("/templates/<template_id>", tags=TAG, responses=responses(not_found=True))
def get_template(_: Admin, template_id: str) -> Template:
    return TemplateStore().get(template_id)


@router.patch(
    "/templates/<template_id>", tags=TAG, responses=responses(body=True, not_found=True, conflict=True)
)
def update_template(_: Admin, template_id: str, changes: TemplateUpdate) -> Template:
    return lifecycle.update_template(template_id, changes, accounts=AccountStore(), templates=TemplateStore())


@router.delete(
    "/templates/<template_id>",
    tags=TAG,
    status_code=HTTPStatus.NO_CONTENT,
    responses=responses(HTTPStatus.NO_CONTENT, not_found=True, conflict=True),
)
def delete_template(_: Admin, template_id: str) -> Response[None]:
    TemplateStore().delete(template_id)
    return Response(status_code=HTTPStatus.NO_CONTENT)


@router.post("/templates/<template_id>/submit", tags=TAG, responses=responses(not_found=True, conflict=True))
def submit_template(_: Admin, template_id: str) -> Template:
    return lifecycle.resubmit(template_id, accounts=AccountStore(), templates=TemplateStore())


@router.post("/templates/<template_id>/render", tags=TAG, responses=responses(body=True, not_found=True))
def render_template(_: Admin, template_id: str, request: RenderRequest) -> Rendered:
    template = TemplateStore().get(template_id)
    context: dict[str, str | None] = {}
    if request.conversation_id is not None:
        context = _conversation_context(request.conversation_id)
    return lifecycle.render_template(template, {**context, **request.context})


def _conversation_context(conversation_id: str) -> dict[str, str | None]:
    conversation = ConversationStore().get(conversation_id)
    account = AccountStore().get(conversation.account_id, include_deleted=True)
    customer = None
    if conversation.customer_id:
        try:
            customer = CustomerStore().get(conversation.customer_id)
        except NotFound:
            customer = None
    assignee = None
    if conversation.assignee_id:
        assignee = UserStore().get(conversation.assignee_id, include_deleted=True)
    return conversation_context(
        account=account,
        contact_name=conversation.contact.name,
        customer=customer,
        assignee=assignee,
        extra=conversation.context,
    )
