"""The console function's answers, through its handler, with API Gateway's payload-2.0 events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.console.handler import ASSETS, handler
from inbox.console import Console, hosted_sign_in, meta_signup
from inbox.local.gateway import MatchedRoute, build_event
from inbox.local.template import Route


def get(path: str, method: str = "GET", headers: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    route = MatchedRoute(Route("GET", "/console/{proxy+}", "Console", jwt=False), {})
    event = build_event(
        route=route,
        method=method,
        raw_path=path,
        raw_query="",
        headers=headers or [],
        body=b"",
        claims=None,
        host="127.0.0.1:3000",
        source_ip="127.0.0.1",
    )
    return handler(event, None)


def test_the_console_page_is_its_index_with_a_strict_content_security_policy() -> None:
    answer = get("/console/")

    assert answer["statusCode"] == 200
    assert answer["headers"]["content-type"] == "text/html; charset=utf-8"
    assert answer["body"] == (ASSETS / "index.html").read_text()
    policy = answer["headers"]["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-eval'" not in policy


def test_the_bare_path_redirects_so_relative_urls_resolve_under_console() -> None:
    answer = get("/console")

    assert answer["statusCode"] == 301
    assert answer["headers"]["location"] == "/console/"


def test_an_unchanged_file_costs_a_304_and_a_changed_one_is_sent() -> None:
    first = get("/console/")
    etag = first["headers"]["etag"]

    assert get("/console/", headers=[("If-None-Match", etag)])["statusCode"] == 304
    other = get("/console/", headers=[("If-None-Match", '"another"')])
    assert other["statusCode"] == 200
    assert other["body"] == first["body"]


@pytest.mark.parametrize(
    "path",
    [
        "/console/../cdk.json",
        "/console/../../functions/console/handler.py",
        "/console/.hidden",
        "/console/none.js",
    ],
)
def test_nothing_outside_the_assets_is_served(path: str) -> None:
    answer = get(path)

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"]["code"] == "not_found"


def test_paths_outside_the_console_are_a_404_in_the_api_shape() -> None:
    # `$default` brings every path no route matches to the console function
    answer = get("/v2/labels")

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {
        "error": {"code": "not_found", "message": "No route for this method and path.", "details": []}
    }


def test_writing_to_the_console_is_a_405() -> None:
    answer = get("/console/", method="POST")

    assert answer["statusCode"] == 405
    assert answer["headers"]["allow"] == "GET, HEAD"


def test_without_a_hosted_sign_in_the_console_is_told_so() -> None:
    # The handler reads the settings: a user's shell has no INBOX_CONSOLE_* variable
    answer = get("/console/config.json")

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"sign_in": None, "meta_signup": None}


def test_a_deployment_tells_the_console_its_hosted_sign_in() -> None:
    sign_in = hosted_sign_in("inbox-123456789012-eu-west-3", "client123", "eu-west-3")
    console = Console(ASSETS, sign_in)

    answer = console.answer("GET", "/console/config.json")

    domain = "https://inbox-123456789012-eu-west-3.auth.eu-west-3.amazoncognito.com"
    assert json.loads(answer.body)["sign_in"] == {
        "authorize_url": f"{domain}/oauth2/authorize",
        "token_url": f"{domain}/oauth2/token",
        "logout_url": f"{domain}/logout",
        "client_id": "client123",
        "scopes": ["openid", "email", "profile"],
    }
    # And the page may call the hosted UI's token endpoint, nothing else outside its origin but Meta's
    assert f"connect-src 'self' {domain} " in answer.headers["content-security-policy"]


@pytest.mark.parametrize(("prefix", "client", "region"), [("", "c", "r"), ("p", None, "r"), ("p", "c", None)])
def test_a_partial_sign_in_configuration_is_none(prefix: str, client: str | None, region: str | None) -> None:
    assert hosted_sign_in(prefix, client, region) is None


def test_a_deployment_with_meta_s_signup_configuration_tells_the_console_both_ids() -> None:
    console = Console(ASSETS, None, meta_signup("1234567890", "cfg-42"))

    config = json.loads(console.answer("GET", "/console/config.json").body)

    assert config["meta_signup"] == {"app_id": "1234567890", "config_id": "cfg-42"}
    assert meta_signup("1234567890", None) is None
