"""The gateway's routing, events and answers, against API Gateway's documented behaviour."""

from __future__ import annotations

import base64
import json

import pytest

from inbox.local.gateway import MatchedRoute, RouteTable, answer_from_result, build_event
from inbox.local.template import Route

ROUTES = RouteTable(
    [
        Route("ANY", "/v1/{proxy+}", "Api", jwt=True),
        Route("GET", "/openapi.json", "Api", jwt=False),
        Route("GET", "/webhooks/whatsapp/meta", "Hook", jwt=False),
        Route("POST", "/webhooks/whatsapp/meta", "Hook", jwt=False),
        Route("POST", "/webhooks/whatsapp/twilio/{account_id}", "Hook", jwt=False),
        Route("POST", "/webhooks/whatsapp/twilio/{account_id}/status", "Hook", jwt=False),
    ]
)


def test_a_greedy_route_takes_any_depth_and_method() -> None:
    found = ROUTES.match("PATCH", "/v1/labels/lbl_1")

    assert found is not None
    assert found.route.key == "ANY /v1/{proxy+}"
    assert found.path_parameters == {"proxy": "labels/lbl_1"}


def test_path_variables_match_one_segment_only() -> None:
    account = ROUTES.match("POST", "/webhooks/whatsapp/twilio/acc_1")
    status = ROUTES.match("POST", "/webhooks/whatsapp/twilio/acc_1/status")

    assert account is not None
    assert account.path_parameters == {"account_id": "acc_1"}
    assert status is not None
    assert status.route.path.endswith("/status")


def test_no_route_for_other_methods_or_paths() -> None:
    assert ROUTES.match("DELETE", "/webhooks/whatsapp/meta") is None
    assert ROUTES.match("GET", "/v2/labels") is None
    assert ROUTES.match("GET", "/v1") is None


def test_the_default_route_takes_what_no_other_route_matches() -> None:
    table = RouteTable(
        [Route("GET", "/console", "Console", jwt=False), Route("ANY", "$default", "Console", jwt=False)]
    )

    found = table.match("GET", "/console/")
    assert found is not None
    assert found.route.key == "$default"
    assert found.path_parameters == {}
    exact = table.match("GET", "/console")
    assert exact is not None
    assert exact.route.key == "GET /console"


def event_for(body: bytes, content_type: str) -> dict[str, object]:
    route = MatchedRoute(Route("POST", "/webhooks/whatsapp/meta", "Hook", jwt=False), {})
    return build_event(
        route=route,
        method="POST",
        raw_path="/webhooks/whatsapp/meta",
        raw_query="a=1&a=2&b=",
        headers=[("Content-Type", content_type), ("Cookie", "x=1; y=2"), ("X-A", "1"), ("x-a", "2")],
        body=body,
        claims=None,
        host="127.0.0.1:3000",
        source_ip="127.0.0.1",
    )


def test_json_bodies_arrive_as_text_exactly_as_sent() -> None:
    raw = b'{"text":"caf\\u00e9"}'

    event = event_for(raw, "application/json; charset=utf-8")

    assert event["body"] == raw.decode()
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "application/octet-stream", "image/png", ""]
)
def test_non_text_bodies_arrive_base64_encoded(content_type: str) -> None:
    raw = b"Body=Hello&From=whatsapp%3A%2B33600000000"

    event = event_for(raw, content_type)

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(str(event["body"])) == raw


def test_headers_query_and_cookies_take_the_payload_2_shape() -> None:
    event = event_for(b"", "text/plain")

    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/whatsapp/meta"
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["cookies"] == ["x=1", "y=2"]
    headers = event["headers"]
    assert isinstance(headers, dict)
    assert headers["x-a"] == "1,2"
    assert "cookie" not in headers
    assert "body" not in event


def test_a_function_result_becomes_the_http_answer() -> None:
    answer = answer_from_result(
        {
            "statusCode": 201,
            "headers": {"content-type": "application/json"},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
            "cookies": ["a=b"],
        }
    )

    assert answer.status == 201
    assert answer.body == b"\x00\x01"
    assert ("set-cookie", "a=b") in answer.headers


def test_a_bare_return_value_is_a_200_json_answer() -> None:
    answer = answer_from_result({"ok": True})

    assert (answer.status, json.loads(answer.body)) == (200, {"ok": True})
