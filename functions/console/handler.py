"""The admin console's page and files at /console/ (`inbox.console`): static, so nothing but the
standard library and the settings is imported, and a cold start is little more than the interpreter's."""

import base64
import os
from pathlib import Path
from typing import Any

from inbox.console import Console, hosted_sign_in, meta_signup
from inbox.settings import settings

ASSETS = Path(__file__).parent / "assets"


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    configured = settings()
    sign_in = hosted_sign_in(
        configured.console_sign_in_domain, configured.console_client_id, os.environ.get("AWS_REGION")
    )
    headers = event.get("headers") or {}
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    signup = meta_signup(configured.meta_app_id, configured.meta_signup_config_id)
    answer = Console(ASSETS, sign_in, signup).answer(
        method, event.get("rawPath", ""), headers.get("if-none-match")
    )
    if answer.is_text:
        return {"statusCode": answer.status, "headers": answer.headers, "body": answer.body.decode()}
    return {
        "statusCode": answer.status,
        "headers": answer.headers,
        "body": base64.b64encode(answer.body).decode(),
        "isBase64Encoded": True,
    }
