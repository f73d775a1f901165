"""/v1/users and /v1/customers: the directory admins keep, and the lookups the router uses."""

from __future__ import annotations

from typing import Any

import pytest

from builders import call_api
from inbox.store.customers import CustomerStore

pytestmark = pytest.mark.usefixtures("aws")


def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = call_api("POST", path, body=body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def test_an_admin_adds_a_team_member_under_their_cognito_id() -> None:
    user = create(
        "/v1/users",
        {
            "id": "cognito-sub-1",
            "name": "Alice",
            "email": "Alice@Example.com",
            "brands": ["Bosch", "Bosch", "Valeo"],
        },
    )

    assert user["id"] == "cognito-sub-1"
    assert user["email"] == "Alice@example.com"
    assert user["brands"] == ["Bosch", "Valeo"]
    assert user["active"] is True
    assert call_api("GET", "/v1/users/cognito-sub-1").body == user


def test_two_users_cannot_share_an_email_address_or_an_id() -> None:
    create("/v1/users", {"id": "u1", "name": "Alice", "email": "alice@example.com"})

    same_email = call_api("POST", "/v1/users", body={"name": "Alicia", "email": "alice@example.com"})
    same_id = call_api("POST", "/v1/users", body={"id": "u1", "name": "Bob", "email": "bob@example.com"})

    assert (same_email.status, same_email.body["error"]["code"]) == (409, "user_email_taken")
    assert (same_id.status, same_id.body["error"]["code"]) == (409, "user_exists")


def test_a_user_is_replaced_whole_and_deleted_users_leave_the_list() -> None:
    create("/v1/users", {"id": "u1", "name": "Alice", "email": "alice@example.com", "brands": ["Bosch"]})

    replaced = call_api(
        "PUT", "/v1/users/u1", body={"name": "Alice B", "email": "alice@example.com", "active": False}
    )
    assert (replaced.body["name"], replaced.body["brands"], replaced.body["active"]) == ("Alice B", [], False)

    assert call_api("DELETE", "/v1/users/u1").status == 204
    assert call_api("GET", "/v1/users").body["items"] == []
    assert call_api("GET", "/v1/users/u1").status == 404
    assert call_api("POST", "/v1/users", body={"name": "New", "email": "alice@example.com"}).status == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com"}, "name"),
        ({"name": "A"}, "email"),
        ({"name": "A", "email": "not-an-address"}, "email"),
        ({"name": "A", "email": "a@example.com", "brands": "Bosch"}, "brands"),
        ({"name": "A", "email": "a@example.com", "active": "sometimes"}, "active"),
        ({"name": "A", "email": "a@example.com", "id": "has spaces"}, "id"),
        ({"name": "A", "email": "a@example.com", "role": "boss"}, "role"),
    ],
)
def test_invalid_users_are_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    answer = call_api("POST", "/v1/users", body=body)

    assert answer.status == 422
    assert field in [d["field"] for d in answer.body["error"]["details"]]


@pytest.mark.parametrize(
    "address", ["support@acme.local", "desk@corp.internal", "it@intranet.lan", "root@mailhost"]
)
def test_addresses_on_internal_mail_domains_are_accepted(address: str) -> None:
    user = create("/v1/users", {"name": "Desk", "email": address})
    customer = create("/v1/customers", {"name": "Plant", "emails": [address]})

    assert user["email"] == address
    assert customer["emails"] == [address]
    assert [c["id"] for c in call_api("GET", "/v1/customers", query=f"email={address}").body["items"]] == [
        customer["id"]
    ]


def test_a_customer_is_found_by_any_of_its_addresses_and_numbers() -> None:
    create("/v1/users", {"id": "rep", "name": "Rep", "email": "rep@example.com"})
    customer = create(
        "/v1/customers",
        {
            "name": "Jean Dupont",
            "company_name": "Garage Dupont",
            "sales_rep_id": "rep",
            "brand": "Bosch",
            "custom_fields": {"account_manager": "rep", "tier": 2},
            "emails": ["Jean@Garage.fr"],
            "phones": ["+33 6 12 34 56 78", "+33612345678"],
        },
    )

    assert customer["phones"] == ["+33612345678"]
    assert customer["custom_fields"] == {"account_manager": "rep", "tier": 2}
    store = CustomerStore()
    assert [c.id for c in store.find_by_phone("+33612345678")] == [customer["id"]]
    assert [c.id for c in store.find_by_email("jean@garage.fr")] == [customer["id"]]
    by_query = call_api("GET", "/v1/customers", query="phone=%2B33612345678").body["items"]
    assert [c["id"] for c in by_query] == [customer["id"]]


def test_changing_a_customers_numbers_moves_its_lookups() -> None:
    customer = create("/v1/customers", {"name": "Jean", "phones": ["+33612345678"], "emails": ["j@x.fr"]})

    answer = call_api(
        "PUT",
        f"/v1/customers/{customer['id']}",
        body={"name": "Jean", "phones": ["+33700000000"], "emails": ["j@x.fr"]},
    )

    assert answer.status == 200
    store = CustomerStore()
    assert store.find_by_phone("+33612345678") == []
    assert [c.id for c in store.find_by_phone("+33700000000")] == [customer["id"]]
    assert [c.id for c in store.find_by_email("j@x.fr")] == [customer["id"]]


def test_a_deleted_customer_is_no_longer_found() -> None:
    customer = create("/v1/customers", {"name": "Jean", "phones": ["+33612345678"]})

    assert call_api("DELETE", f"/v1/customers/{customer['id']}").status == 204

    assert CustomerStore().find_by_phone("+33612345678") == []
    assert call_api("GET", f"/v1/customers/{customer['id']}").status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "J", "sales_rep_id": "nobody"}, "sales_rep_id"),
        ({"name": "J", "phones": ["0612345678"]}, "phones[0]"),
        ({"name": "J", "emails": ["nope"]}, "emails[0]"),
        ({"name": "J", "custom_fields": {"bad key": 1}}, "custom_fields.bad key.[key]"),
        ({"name": "J", "custom_fields": {"x": {"nested": 1}}}, "custom_fields.x"),
        ({"company_name": "X"}, "name"),
        ({"name": "J", "emails": ["support@"]}, "emails[0]"),
        ({"name": "J", "emails": ["two words@acme.local"]}, "emails[0]"),
        # Beyond DynamoDB's numbers: more than 38 digits, or a magnitude out of 1e-130..9.99e125.
        ({"name": "J", "custom_fields": {"score": 1e200}}, "custom_fields.score"),
        ({"name": "J", "custom_fields": {"score": 10**42}}, "custom_fields.score"),
        ({"name": "J", "custom_fields": {"score": -1e-200}}, "custom_fields.score"),
    ],
)
def test_invalid_customers_are_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    answer = call_api("POST", "/v1/customers", body=body)

    assert answer.status == 422, answer.body
    fields = [d["field"] for d in answer.body["error"]["details"]]
    assert any(f.startswith(field) for f in fields), fields


def test_custom_field_numbers_within_dynamodbs_range_are_kept() -> None:
    fields = {"fleet": 10**37 + 1, "ratio": 0.125, "tiny": 1.5e-130, "vip": True, "note": "x"}

    customer = create("/v1/customers", {"name": "Fleet", "custom_fields": fields})

    assert call_api("GET", f"/v1/customers/{customer['id']}").body["custom_fields"] == fields
