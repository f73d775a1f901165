"""The `/v1` resolver: every router included once, validation on, OpenAPI and Swagger UI served."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from inbox.api import accounts, conversations, directory, errors, labels, templates, whatsapp

TITLE = "inbox API"
VERSION = "1"


def build_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    errors.register(app)
    for router in (
        accounts.router,
        labels.router,
        directory.router,
        whatsapp.router,
        conversations.router,
        templates.router,
    ):
        app.include_router(router, prefix="/v1")
    app.enable_swagger(path="/docs", title=TITLE, version=VERSION)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=app.get_openapi_json_schema(title=TITLE, version=VERSION),
        )

    return app


app = build_app()
