"""/v1/labels through the settings_api handler, with the events API Gateway delivers (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from builders import call_api
from inbox.store.labels import LabelStore

pytestmark = pytest.mark.usefixtures("aws")


def create(name: str, **fields: Any) -> dict[str, Any]:
    answer = call_api("POST", "/v1/labels", body={"name": name, **fields})
    assert answer.status == 201, answer.body
    return dict(answer.body)


def test_an_admin_creates_a_label_and_finds_it_in_the_list() -> None:
    created = create("Urgent", color="#e53935", description="Answer today")

    assert created["id"].startswith("lbl_")
    assert created["color"] == "#E53935"
    listed = call_api("GET", "/v1/labels").body
    assert [label["name"] for label in listed["items"]] == ["Urgent"]
    assert listed["next_cursor"] is None
    assert call_api("GET", f"/v1/labels/{created['id']}").body == created


def test_a_label_without_colour_gets_the_default_grey() -> None:
    assert create("Quote")["color"] == "#9E9E9E"


@pytest.mark.parametrize("duplicate", ["urgent", "URGENT", "  Urgent  "])
def test_names_are_unique_whatever_their_case(duplicate: str) -> None:
    create("Urgent")

    answer = call_api("POST", "/v1/labels", body={"name": duplicate})

    assert answer.status == 409
    assert answer.body["error"]["code"] == "label_name_taken"
    assert answer.body["error"]["details"] == [{"field": "name", "message": "already used by another label"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "color": "red"}, "color"),
        ({"name": "X", "color": "#12345"}, "color"),
        ({"color": "#123456"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": 5}, "name"),
        ({"name": "X", "description": ["a"]}, "description"),
        ({"name": "X", "colour": "#123456"}, "colour"),
    ],
)
def test_invalid_labels_are_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    answer = call_api("POST", "/v1/labels", body=body)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert call_api("GET", "/v1/labels").body["items"] == []


@pytest.mark.parametrize("raw", [b"{not json", b'{"name": "X",}', b"\xff\xfe"])
def test_malformed_json_is_a_400_not_a_500(raw: bytes) -> None:
    answer = call_api("POST", "/v1/labels", raw_body=raw)

    assert answer.status in (400, 422)
    assert answer.body["error"]["code"] in ("invalid_json", "validation_error")


def test_a_body_that_is_not_an_object_is_refused() -> None:
    assert call_api("POST", "/v1/labels", body=["Urgent"]).status == 422
    assert call_api("POST", "/v1/labels").status == 422


def test_agents_may_not_manage_labels() -> None:
    answer = call_api("POST", "/v1/labels", body={"name": "Urgent"}, user="bob", admin=False)

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"
    assert call_api("GET", "/v1/labels").body["items"] == []


def test_a_request_without_identity_is_a_401() -> None:
    answer = call_api("GET", "/v1/labels", user=None)

    assert answer.status == 401
    assert answer.body["error"]["code"] == "unauthorized"


def test_unknown_ids_and_routes_are_404_in_the_error_shape() -> None:
    for method, path in [
        ("GET", "/v1/labels/lbl_nope"),
        ("DELETE", "/v1/labels/lbl_nope"),
        ("GET", "/v1/nothing-here"),
    ]:
        answer = call_api(method, path)
        assert answer.status == 404, (method, path)
        assert set(answer.body["error"]) == {"code", "message", "details"}
    assert call_api("PATCH", "/v1/labels/lbl_nope", body={"color": "#000000"}).status == 404


def test_renaming_frees_the_old_name_and_takes_the_new_one() -> None:
    urgent = create("Urgent")
    create("Later")

    renamed = call_api("PATCH", f"/v1/labels/{urgent['id']}", body={"name": "Critical", "color": "#000000"})

    assert renamed.status == 200
    assert (renamed.body["name"], renamed.body["color"]) == ("Critical", "#000000")
    assert renamed.body["created_at"] == urgent["created_at"]
    assert call_api("POST", "/v1/labels", body={"name": "urgent"}).status == 201
    assert call_api("POST", "/v1/labels", body={"name": "critical"}).status == 409
    clash = call_api("PATCH", f"/v1/labels/{urgent['id']}", body={"name": "LATER"})
    assert clash.status == 409
    assert call_api("GET", f"/v1/labels/{urgent['id']}").body["name"] == "Critical"


def test_changing_only_the_case_of_a_name_is_allowed() -> None:
    label = create("urgent")

    answer = call_api("PATCH", f"/v1/labels/{label['id']}", body={"name": "URGENT"})

    assert answer.status == 200
    assert answer.body["name"] == "URGENT"


def test_an_update_can_clear_the_description_but_not_the_name() -> None:
    label = create("Urgent", description="today")

    assert (
        call_api("PATCH", f"/v1/labels/{label['id']}", body={"description": None}).body["description"] is None
    )
    refused = call_api("PATCH", f"/v1/labels/{label['id']}", body={"name": None})
    assert refused.status == 422
    assert call_api("GET", f"/v1/labels/{label['id']}").body["name"] == "Urgent"


def test_a_deleted_label_leaves_the_list_but_its_record_remains_for_conversations() -> None:
    label = create("Urgent", color="#E53935")

    assert call_api("DELETE", f"/v1/labels/{label['id']}").status == 204

    assert call_api("GET", "/v1/labels").body["items"] == []
    assert call_api("GET", f"/v1/labels/{label['id']}").status == 404
    assert call_api("DELETE", f"/v1/labels/{label['id']}").status == 404
    kept = LabelStore().get(label["id"], include_deleted=True)
    assert (kept.name, kept.color, kept.deleted) == ("Urgent", "#E53935", True)
    assert call_api("POST", "/v1/labels", body={"name": "urgent"}).status == 201


def test_the_list_pages_with_a_cursor() -> None:
    names = [f"Label {i}" for i in range(5)]
    for name in names:
        create(name)

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = call_api("GET", "/v1/labels", query=f"limit=2&cursor={cursor}" if cursor else "limit=2").body
        assert len(page["items"]) <= 2
        seen += [label["name"] for label in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == names


@pytest.mark.parametrize(
    ("query", "field"), [("limit=0", "limit"), ("limit=abc", "limit"), ("cursor=bm90LWEtY3Vyc29y", "cursor")]
)
def test_bad_paging_parameters_are_422(query: str, field: str) -> None:
    answer = call_api("GET", "/v1/labels", query=query)

    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == [field]
