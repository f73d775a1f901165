"""The `/v1` API as a whole (moto): what it answers a body it cannot read, a method a path lacks,
a caller who may not use a route, and what its OpenAPI document says of each."""

from __future__ import annotations

import json
from typing import Any

import pytest

from builders import call_api, http_event, invoke_handler
from inbox.api.app import SECURITY, SECURITY_SCHEMES, TITLE, VERSION, app

pytestmark = pytest.mark.usefixtures("aws")


def document() -> dict[str, Any]:
    return dict(
        json.loads(
            app.get_openapi_json_schema(
                title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY
            )
        )
    )


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
    ]


def concrete(path: str) -> str:
    """A path of the document with an id in each variable (no request below gets as far as a lookup)."""
    return path.replace("{", "x_").replace("}", "")


BODY_OPERATIONS = [(method, path) for method, path, operation in operations() if "requestBody" in operation]
# Those only admins may call (they answer 403); agents have their own, the write API.
ADMIN_BODY_OPERATIONS = [
    (method, path)
    for method, path, operation in operations()
    if "requestBody" in operation and "403" in operation["responses"]
]


def call(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """The handler's raw answer (status, headers, body) to an API Gateway event."""
    return dict(invoke_handler("settings_api", http_event(method, path, **kwargs)))


def test_every_operation_that_takes_a_body_is_in_the_list() -> None:
    assert len(BODY_OPERATIONS) >= 19
    assert ("POST", "/v1/labels") in ADMIN_BODY_OPERATIONS
    assert ("POST", "/v1/conversations/{conversation_id}/messages") not in ADMIN_BODY_OPERATIONS


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"],
)
def test_a_body_that_is_not_json_is_a_415(method: str, path: str, content_type: str) -> None:
    answer = call_api(method, concrete(path), raw_body=b"name=Urgent", content_type=content_type)

    assert answer.status == 415, answer.body
    assert answer.body["error"]["code"] == "unsupported_media_type"


def test_a_form_body_that_would_pass_validation_is_refused_too() -> None:
    answer = call_api(
        "POST", "/v1/labels", raw_body=b"name=Urgent", content_type="application/x-www-form-urlencoded"
    )

    assert answer.status == 415
    assert call_api("GET", "/v1/labels").body["items"] == []


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_malformed_json_is_a_400(method: str, path: str) -> None:
    answer = call_api(method, concrete(path), raw_body=b'{"name": ')

    assert answer.status == 400
    assert answer.body["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(("method", "path"), ADMIN_BODY_OPERATIONS)
@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"name": ', "application/json"),
        (b'{"no such field": true}', "application/json"),
        (b"--x--", "multipart/form-data"),
    ],
)
def test_an_agent_learns_nothing_from_the_body_of_an_admin_operation(
    method: str, path: str, raw: bytes, content_type: str
) -> None:
    answer = call_api(
        method, concrete(path), raw_body=raw, content_type=content_type, user="bob", admin=False
    )

    assert answer.status == 403, answer.body
    assert answer.body["error"]["code"] == "forbidden"


def test_an_agent_still_hears_what_is_wrong_with_a_request_it_may_make() -> None:
    answer = call_api("GET", "/v1/conversations", query="limit=0", user="bob", admin=False)

    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == ["limit"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/labels", "GET, POST"),
        ("TRACE", "/v1/templates/variables", "GET"),
        ("POST", "/v1/labels/lbl_1", "GET, DELETE, PATCH"),
        ("PUT", "/v1/accounts/test-connection", "POST"),
        ("OPTIONS", "/v1/users/u1", "GET, PUT, DELETE"),
    ],
)
def test_a_method_a_path_lacks_is_a_405_that_says_which_it_has(method: str, path: str, allowed: str) -> None:
    answer = call(method, path)

    assert answer["statusCode"] == 405
    assert answer["headers"]["Allow"] == allowed
    assert json.loads(answer["body"])["error"]["code"] == "method_not_allowed"


def test_a_path_the_api_lacks_is_a_404() -> None:
    answer = call_api("GET", "/v1/nothing/here")

    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"


def test_the_document_lists_the_errors_each_operation_answers() -> None:
    for method, path, operation in operations():
        statuses = set(operation["responses"])
        label = f"{method} {path}"
        assert "422" in statuses, label
        if path.startswith("/v1/oauth/") and path.endswith("/callback"):  # open: no token, no 401/403
            assert not {"401", "403"} & statuses, label
        else:
            assert "401" in statuses, label
            # What any signed-in user may call (on what they may see) answers no 403.
            anyone = path.startswith(("/v1/conversations", "/v1/metrics"))
            assert ("403" in statuses) is not anyone, label
        assert ({"400", "415"} <= statuses) is ("requestBody" in operation), label
        if "{" in path:
            assert "404" in statuses, label
        for status, answer in operation["responses"].items():
            if status >= "400":
                assert answer["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorBody"
                }, label


def test_a_delete_is_documented_as_204_with_no_content() -> None:
    deletes = [(path, operation) for method, path, operation in operations() if method == "DELETE"]

    assert deletes
    for path, operation in deletes:
        assert operation["responses"]["204"].get("content", {}) == {}, path


def test_the_document_says_every_operation_needs_a_bearer_token() -> None:
    described = document()

    assert described["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert described["security"] == [{"bearer": []}]


def test_a_patch_documents_no_null_for_the_fields_it_refuses_to_clear() -> None:
    schemas = document()["components"]["schemas"]

    assert schemas["LabelUpdate"]["properties"]["name"]["type"] == "string"
    assert "anyOf" in schemas["LabelUpdate"]["properties"]["description"]  # `null` clears it
    assert call_api("PATCH", "/v1/labels/lbl_1", body={"name": None}).status == 422
