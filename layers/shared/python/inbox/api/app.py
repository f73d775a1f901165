"""The `/v1` resolver: every router included once, validation on, OpenAPI and Swagger UI served."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from aws_lambda_powertools import event_handler
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

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

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme

TITLE = "inbox API"
VERSION = "1"
# Every `/v1` route sits behind API Gateway's JWT authorizer (CONTRACT.md, Authentication).
# As plain data, validated into Powertools' OpenAPI models when the document is built: importing
# those models costs every cold start ~90 ms, and only the document needs them.
SECURITY_SCHEMES = cast(
    "dict[str, SecurityScheme]",
    {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Cognito access token",
        }
    },
)
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

    def document() -> str:
        return app.get_openapi_json_schema(
            title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY
        )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=document())

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        # Powertools' `enable_swagger` would import the OpenAPI models at registration, on every
        # cold start; the same page from its parts costs them only here.
        from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

        assets = Path(event_handler.__file__).parent / "openapi" / "swagger_ui"
        page = generate_swagger_html(
            document().replace("</", "<\\/"),  # the document sits in a <script>: no `</` may end it
            (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
            (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
            swagger_base_url="",
            oauth2_config=None,
        )
        return Response(status_code=200, content_type="text/html", body=page)

    return app


app = build_app()
