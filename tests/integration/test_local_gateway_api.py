"""The local gateway's HTTP server on loopback: every method reaches the route table, and what the
server itself refuses is answered in the API's JSON error shape, never http.server's HTML."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any, cast

import pytest

from inbox.local.functions import LocalFunction
from inbox.local.gateway import Gateway, serve
from inbox.local.template import Route


class RecordingApi:
    """A stand-in for the API function: answers 405 and remembers the methods it was called with."""

    name = "api"

    def __init__(self) -> None:
        self.methods: list[str] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.methods.append(event["requestContext"]["http"]["method"])
        return {
            "statusCode": 405,
            "headers": {"content-type": "application/json", "Allow": "GET"},
            "body": json.dumps({"error": {"code": "method_not_allowed", "message": "GET", "details": []}}),
        }


@pytest.fixture
def api() -> RecordingApi:
    return RecordingApi()


@pytest.fixture
def port(api: RecordingApi) -> Iterator[int]:
    routes = [Route("ANY", "/v1/{proxy+}", "Api", jwt=False), Route("GET", "/openapi.json", "Api", jwt=False)]
    server = serve(Gateway(routes, {"Api": cast(LocalFunction, api)}), 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers or {})
    return connection.getresponse()


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT"])
def test_a_method_http_server_does_not_know_reaches_the_function(
    port: int, api: RecordingApi, method: str
) -> None:
    answer = request(port, method, "/v1/labels")

    assert answer.status == 405
    assert answer.getheader("Allow") == "GET"
    assert api.methods == [method]


def test_a_method_no_route_takes_is_a_json_404(port: int, api: RecordingApi) -> None:
    answer = request(port, "TRACE", "/openapi.json")

    assert answer.status == 404
    assert answer.getheader("content-type") == "application/json"
    assert json.loads(answer.read())["error"]["code"] == "not_found"
    assert api.methods == []


def test_a_content_length_that_is_no_number_is_a_json_400(port: int) -> None:
    answer = request(port, "POST", "/v1/labels", headers={"Content-Length": "many"})

    assert answer.status == 400
    assert json.loads(answer.read())["error"]["code"] == "bad_request"


def test_a_request_http_server_cannot_read_is_answered_in_json(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"GET /v1/labels HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
        head, _, body = raw.makefile("rb").read().partition(b"\r\n\r\n")

    assert head.split()[1] == b"431"
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "request_header_fields_too_large"
