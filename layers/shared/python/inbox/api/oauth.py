"""`/v1/oauth`: connecting Gmail and Office 365 mailboxes (CONTRACT.md, "OAuth").

`start` is an admin's call like any settings route. `callback` is where the provider sends the
admin's browser back: it has no JWT (API Gateway leaves the route open, in the stack and the local
gateway alike), the single-use `state` authenticates it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated
from urllib.parse import urlencode, urlsplit, urlunsplit

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from inbox.api.auth import Admin
from inbox.api.error_body import ErrorBody
from inbox.api.errors import responses
from inbox.oauth.connect import (
    ConnectFailed,
    ConnectResult,
    OAuthConnected,
    OAuthStart,
    OAuthStarted,
    ProviderName,
    Stores,
    finish,
    start,
)
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault
from inbox.store.oauth_states import OAuthStateStore

router = Router()
OAUTH = ["OAuth"]


def _stores() -> Stores:
    from inbox.store import dynamo

    table = dynamo.table()
    return Stores(accounts=AccountStore(table), vault=CredentialVault(), states=OAuthStateStore(table))


@router.post(
    "/oauth/<provider>/start",
    tags=OAUTH,
    responses={
        **responses(body=True, not_found=True),
        HTTPStatus.BAD_GATEWAY: {
            "description": "The provider's sign-in could not be reached (`oauth_provider_unavailable`)",
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        },
        HTTPStatus.SERVICE_UNAVAILABLE: {
            "description": "The deployment has no OAuth app for the provider (`oauth_not_configured`)",
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        },
    },
)
def oauth_start(provider: ProviderName, admin: Admin, request: OAuthStart) -> OAuthStarted:
    """The provider's consent URL for a new mailbox, or to reconnect `account_id`; open it in the
    admin's browser. The `state` in it is valid ten minutes, once."""
    return start(provider, admin, request, stores=_stores())


@router.get(
    "/oauth/<provider>/callback",
    tags=OAUTH,
    # No bearer token: OpenAPI's empty requirement (Powertools drops an empty list).
    security=[{}],
    responses={
        HTTPStatus.OK: {
            "description": "Connected or reconnected (without `redirect_to`)",
            "content": {content_types.APPLICATION_JSON: {"model": OAuthConnected}},
        },
        HTTPStatus.FOUND: {"description": "Back to `redirect_to` with `account_id`, `result` (and `code`)"},
        **{
            status: {
                "description": description,
                "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
            }
            for status, description in (
                (HTTPStatus.BAD_REQUEST, "A missing, forged, expired or used state (`oauth_state_invalid`)"),
                (HTTPStatus.NOT_FOUND, "The account to reconnect was deleted meanwhile"),
                (HTTPStatus.CONFLICT, "Signed in with another mailbox than the one reconnected"),
                (HTTPStatus.UNPROCESSABLE_ENTITY, "Code refused, consent denied or without the mail scope"),
                (HTTPStatus.BAD_GATEWAY, "The provider could not be reached"),
            )
        },
    },
)
def oauth_callback(
    provider: ProviderName,
    code: Annotated[str | None, Query()] = None,
    state: Annotated[str | None, Query()] = None,
    error: Annotated[str | None, Query()] = None,
) -> Response[str]:
    """Where the provider sends the admin back after the consent."""
    try:
        finished = finish(provider, state=state, code=code, denied=error, stores=_stores())
    except ConnectFailed as failed:
        if failed.pending.redirect_to is None:
            raise failed.error from None
        back = {"account_id": failed.pending.account_id or "", "result": ConnectResult.ERROR.value}
        return _redirect(failed.pending.redirect_to, {**back, "code": failed.error.code})
    connected = finished.connected
    if finished.redirect_to is None:
        return Response(
            status_code=HTTPStatus.OK,
            content_type=content_types.APPLICATION_JSON,
            body=connected.model_dump_json(),
        )
    query = {"account_id": connected.account.id, "result": connected.result.value}
    return _redirect(finished.redirect_to, query)


def _redirect(url: str, query: dict[str, str]) -> Response[str]:
    parts = urlsplit(url)
    joined = "&".join(part for part in (parts.query, urlencode(query)) if part)
    location = urlunsplit(parts._replace(query=joined))
    return Response(status_code=HTTPStatus.FOUND, body="", headers={"Location": location})
