"""`/v1/whatsapp`: connecting WhatsApp numbers (admins)."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from inbox.accounts.models import Account
from inbox.api.auth import Admin
from inbox.api.error_body import ErrorBody
from inbox.api.errors import responses
from inbox.meta_app import meta_app
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault
from inbox.whatsapp.meta_graph import MetaGraph
from inbox.whatsapp.meta_signup import MetaSignupRequest, connect_meta_number

router = Router()
WHATSAPP = ["WhatsApp"]


@router.post(
    "/whatsapp/meta/signup",
    tags=WHATSAPP,
    status_code=HTTPStatus.CREATED,
    responses={
        **responses(HTTPStatus.CREATED, body=True, conflict=True),
        HTTPStatus.CREATED: {"description": "A new `meta_cloud` account for the number"},
        HTTPStatus.OK: {
            "description": "The number's existing account, reconnected with the new token",
            "content": {content_types.APPLICATION_JSON: {"model": Account}},
        },
        HTTPStatus.BAD_GATEWAY: {
            "description": "Meta failed or refused a step, or the deployment lacks the Meta app settings",
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        },
    },
)
def meta_signup(_: Admin, signup: MetaSignupRequest) -> Response[Account]:
    """Meta embedded signup: exchange the code, pick the number, subscribe, register, then create
    the account (201) or reconnect the number's existing one (200)."""
    app = meta_app()
    connection = connect_meta_number(
        signup,
        accounts=AccountStore(),
        vault=CredentialVault(),
        graph=MetaGraph(),
        app_id=app.app_id,
        app_secret=app.app_secret,
    )
    status = HTTPStatus.CREATED if connection.created else HTTPStatus.OK
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=connection.account)
