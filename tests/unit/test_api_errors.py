from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from inbox.api.errors import field_name, is_json, responses


@pytest.mark.parametrize(
    ("location", "name"),
    [
        (("body", "color"), "color"),
        (("body",), "body"),
        (("query", "limit"), "limit"),
        (("body", "rules", 0, "type"), "rules[0].type"),
    ],
)
def test_validation_locations_become_field_names(location: tuple[Any, ...], name: str) -> None:
    assert field_name(location) == name


def test_a_route_documents_the_errors_it_can_answer() -> None:
    read = responses(admin=False, not_found=True)
    write = responses(HTTPStatus.CREATED, body=True, conflict=True)

    assert set(read) == {HTTPStatus.OK, 401, 404, 422}
    assert set(write) == {HTTPStatus.CREATED, 400, 401, 403, 409, 415, 422}


def test_a_204_is_documented_with_no_content() -> None:
    assert responses(HTTPStatus.NO_CONTENT)[HTTPStatus.NO_CONTENT]["content"] == {}
    assert "content" not in responses()[HTTPStatus.OK]  # Powertools fills it from the return type


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("", True),
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/plain", False),
        ("multipart/form-data", False),
        ("application/x-www-form-urlencoded", False),
    ],
)
def test_json_is_told_by_the_content_type(content_type: str, json: bool) -> None:
    assert is_json(content_type) is json
