"""The caller of a `/v1` route, from the JWT claims API Gateway's authorizer verified."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from inbox.access import Caller, caller_from_claims
from inbox.errors import Forbidden, Unauthenticated


def current_caller(request: Request) -> Caller:
    """The authenticated caller; 401 when the request carries no verified identity."""
    event = request.resolved_event
    claims = event.request_context.authorizer.jwt_claim if isinstance(event, APIGatewayProxyEventV2) else {}
    caller = caller_from_claims(claims)
    if caller is None:
        raise Unauthenticated("Sign in: this request carries no valid token.", code="unauthorized")
    return caller


def admin_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """The caller, who must be an admin (settings endpoints); 403 otherwise."""
    if not caller.is_admin:
        raise Forbidden("Only admins can change settings.", code="forbidden")
    return caller


Admin = Annotated[Caller, Depends(admin_caller)]
Authenticated = Annotated[Caller, Depends(current_caller)]
