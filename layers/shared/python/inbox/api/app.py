"""The `/v1` resolver: every router included once, validation on, OpenAPI and Swagger UI served."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme

from inbox.api import (
    accounts,
    conversations,
    directory,
    errors,
    labels,
    mail,
    metrics,
    oauth,
    templates,
    whatsapp,
)

TITLE = "inbox API"
VERSION = "1"
# Every `/v1` route sits behind API Gateway's JWT authorizer (CONTRACT.md, Authentication).
SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "bearer": HTTPBearer(bearerFormat="JWT", description="A Cognito access token")
}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def build_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    # Once for every reader of the document (the 405 handler too): the oauth callback's own
    # `security` needs the schemes declared.
    app.configure_openapi(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY)
    errors.register(app)
    for router in (
        accounts.router,
        labels.router,
        directory.router,
        whatsapp.router,
        conversations.router,
        templates.router,
        mail.router,
        oauth.router,
        metrics.router,
    ):
        app.include_router(router, prefix="/v1")
    app.enable_swagger(
        path="/docs", title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=app.get_openapi_json_schema(
                title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY
            ),
        )

    return app


app = build_app()
