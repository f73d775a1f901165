"""An account's settings: authorized users, business hours, auto-reply, assignment rules, signatures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from builders import call_api
from inbox.store.account_settings import AccountSettingsStore
from inbox.store.signatures import SignatureStore

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def account_id() -> str:
    for user_id, name in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")):
        call_api("POST", "/v1/users", body={"id": user_id, "name": name, "email": f"{user_id}@example.com"})
    answer = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "twilio",
            "name": "WhatsApp",
            "address": "+14155550100",
            "config": {"account_sid": "AC" + "0" * 32},
            "credentials": {"auth_token": "t"},
        },
    )
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def put(account_id: str, setting: str, body: Any) -> Any:
    return call_api("PUT", f"/v1/accounts/{account_id}/{setting}", body=body)


def fields_of(answer: Any) -> list[str]:
    assert answer.status == 422, answer.body
    return [d["field"] for d in answer.body["error"]["details"]]


# Authorized users


def test_authorized_users_are_stored_once_each(account_id: str) -> None:
    assert call_api("GET", f"/v1/accounts/{account_id}/authorized-users").body == {"user_ids": []}

    answer = put(account_id, "authorized-users", {"user_ids": ["alice", "bob", "alice"]})

    assert answer.body == {"user_ids": ["alice", "bob"]}
    assert call_api("GET", f"/v1/accounts/{account_id}/authorized-users").body == {
        "user_ids": ["alice", "bob"]
    }


def test_authorizing_an_unknown_or_deleted_user_is_refused_naming_it(account_id: str) -> None:
    call_api("DELETE", "/v1/users/carol")

    answer = put(account_id, "authorized-users", {"user_ids": ["alice", "nobody", "carol"]})

    assert fields_of(answer) == ["user_ids[1]", "user_ids[2]"]
    assert fields_of(put(account_id, "authorized-users", {"user_ids": "alice"})) == ["user_ids"]


# Business hours


def test_business_hours_default_to_always_open_until_configured(account_id: str) -> None:
    hours = call_api("GET", f"/v1/accounts/{account_id}/business-hours").body

    assert hours["timezone"] == "UTC"
    assert hours["days"]["sunday"] == [{"start": "00:00", "end": "24:00"}]


def test_business_hours_are_saved_and_answer_for_the_router(account_id: str) -> None:
    week = [{"start": "09:00", "end": "12:30"}, {"start": "14:00", "end": "18:00"}]
    body = {
        "timezone": "Europe/Paris",
        "days": {d: week for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
        "holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}],
        "holiday_country": "FR",
    }

    saved = put(account_id, "business-hours", body)

    assert saved.status == 200, saved.body
    assert saved.body["days"]["saturday"] == []
    hours = AccountSettingsStore().snapshot(account_id).business_hours
    assert hours.is_open(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))  # 10:30 in Paris, a Tuesday
    assert not hours.is_open(datetime(2026, 12, 25, 10, 0, tzinfo=UTC))  # a public holiday in France
    assert not hours.is_open(datetime(2026, 12, 24, 10, 0, tzinfo=UTC))  # an explicit holiday


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus", "days": {}}, "timezone"),
        (
            {"timezone": "Europe/Paris", "days": {"monday": [{"start": "18:00", "end": "09:00"}]}},
            "days.monday[0]",
        ),
        (
            {"timezone": "Europe/Paris", "days": {"monday": [{"start": "9h", "end": "18:00"}]}},
            "days.monday[0].start",
        ),
        (
            {
                "timezone": "Europe/Paris",
                "days": {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "14:00"}]},
            },
            "days.monday",
        ),
        ({"timezone": "Europe/Paris", "days": {"funday": []}}, "days.funday"),
        ({"timezone": "Europe/Paris", "days": {}, "holiday_country": "XX"}, "holiday_country"),
        ({"timezone": "Europe/Paris", "days": {}, "holidays": [{"date": "2026-02-30"}]}, "holidays[0].date"),
        ({"days": {}}, "timezone"),
    ],
)
def test_invalid_business_hours_are_refused_naming_the_field(account_id: str, body: Any, field: str) -> None:
    fields = fields_of(put(account_id, "business-hours", body))

    assert any(f.startswith(field) for f in fields), fields


# Auto-reply


def test_auto_reply_settings_are_saved(account_id: str) -> None:
    body = {
        "enabled": True,
        "cooldown_minutes": 120,
        "rules": [
            {"trigger": "outside_business_hours", "message": "We are closed, {{customer_name}}."},
            {"trigger": "first_contact", "message": "Thanks for writing!"},
        ],
    }

    assert put(account_id, "auto-reply", body).body == body
    assert call_api("GET", f"/v1/accounts/{account_id}/auto-reply").body == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "rules": []}, "rules"),
        ({"enabled": True, "rules": [{"trigger": "sometimes", "message": "x"}]}, "rules[0].trigger"),
        ({"enabled": True, "rules": [{"trigger": "always", "message": ""}]}, "rules[0].message"),
        (
            {
                "enabled": True,
                "rules": [{"trigger": "always", "message": "a"}, {"trigger": "always", "message": "b"}],
            },
            "rules",
        ),
        ({"enabled": False, "rules": [], "cooldown_minutes": -1}, "cooldown_minutes"),
        ({"enabled": "yes please"}, "enabled"),
    ],
)
def test_invalid_auto_reply_settings_are_refused(account_id: str, body: Any, field: str) -> None:
    assert field in fields_of(put(account_id, "auto-reply", body))


# Assignment rules


def test_assignment_rules_say_exactly_which_rule_params_and_fallback(account_id: str) -> None:
    body = {
        "rules": [
            {"type": "customer_sales_rep"},
            {
                "type": "customer_custom_field",
                "params": {"field": "account_manager"},
                "fallback": {"action": "next_rule"},
            },
            {"type": "team_brand", "params": {"brand": "Bosch"}},
            {"type": "load_balanced", "fallback": {"action": "assign_user", "user_id": "alice"}},
        ]
    }

    saved = put(account_id, "assignment-rules", body).body

    assert [r["type"] for r in saved["rules"]] == [
        "customer_sales_rep",
        "customer_custom_field",
        "team_brand",
        "load_balanced",
    ]
    assert saved["rules"][0]["fallback"] == {"action": "next_rule", "user_id": None}
    assert saved["rules"][1]["params"] == {"field": "account_manager"}
    assert saved["rules"][3]["fallback"] == {"action": "assign_user", "user_id": "alice"}
    rules = AccountSettingsStore().snapshot(account_id).assignment_rules
    assert rules.rules[1].typed_params().model_dump() == {"field": "account_manager"}


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"type": "round_robin"}, "rules[0].type"),
        ({"type": "customer_custom_field"}, "rules[0].params.field"),
        ({"type": "customer_custom_field", "params": {"field": "has space"}}, "rules[0].params.field"),
        ({"type": "random", "params": {"seed": 4}}, "rules[0].params.seed"),
        ({"type": "last_assigned_user", "params": {"within_days": 0}}, "rules[0].params.within_days"),
        ({"type": "random", "fallback": {"action": "assign_user"}}, "rules[0].fallback"),
        (
            {"type": "random", "fallback": {"action": "assign_user", "user_id": "nobody"}},
            "rules[0].fallback.user_id",
        ),
        ({"type": "random", "fallback": {"action": "panic"}}, "rules[0].fallback.action"),
    ],
)
def test_invalid_assignment_rules_are_refused_naming_the_field(
    account_id: str, rule: Any, field: str
) -> None:
    fields = fields_of(put(account_id, "assignment-rules", {"rules": [rule]}))

    assert field in fields
    assert call_api("GET", f"/v1/accounts/{account_id}/assignment-rules").body == {"rules": []}


# Signatures


def create_signature(account_id: str, **body: Any) -> dict[str, Any]:
    answer = call_api(
        "POST", f"/v1/accounts/{account_id}/signatures", body={"name": "Sig", "html": "<p>x</p>", **body}
    )
    assert answer.status == 201, answer.body
    return dict(answer.body)


def test_signature_html_is_sanitized(account_id: str) -> None:
    signature = create_signature(
        account_id,
        html=(
            '<p style="color:#333;position:fixed">Alice <b>Martin</b></p><script>steal()</script>'
            '<img src="https://cdn.example.com/logo.png" onerror="steal()">'
            '<img src="http://cdn.example.com/tracker.png"><img src="data:image/png;base64,iVBORw0KGgo=">'
            '<a href="javascript:steal()">x</a><a href="https://example.com" onclick="steal()">site</a>'
            '<a href="mailto:alice@example.com">mail</a><a href="tel:+33612345678">call</a>'
            '<div style="background:url(https://evil.example/x)">y</div><iframe src="https://evil.example"></iframe>'
        ),
    )

    html = signature["html"]
    for dangerous in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "position",
        "http://cdn",
        "url(",
        "<iframe",
    ):
        assert dangerous not in html
    for kept in (
        "<b>Martin</b>",
        "color:#333",
        'src="https://cdn.example.com/logo.png"',
        'src="data:image/png;base64,iVBORw0KGgo="',
        'href="https://example.com"',
        'href="mailto:alice@example.com"',
        'href="tel:+33612345678"',
    ):
        assert kept in html


def test_a_users_own_signature_wins_over_the_account_default(account_id: str) -> None:
    default = create_signature(account_id, name="Team", default_for_account=True)
    alice = create_signature(account_id, name="Alice", user_ids=["alice"])
    store = SignatureStore()

    assert store.signature_for(account_id, "alice").id == alice["id"]  # type: ignore[union-attr]
    assert store.signature_for(account_id, "bob").id == default["id"]  # type: ignore[union-attr]
    assert store.signature_for(account_id, None).id == default["id"]  # type: ignore[union-attr]


def test_choosing_a_new_default_replaces_the_old_one(account_id: str) -> None:
    first = create_signature(account_id, name="First", default_for_account=True)
    second = create_signature(account_id, name="Second", default_for_account=True)

    listed = call_api("GET", f"/v1/accounts/{account_id}/signatures").body["items"]

    assert {s["id"]: s["default_for_account"] for s in listed} == {first["id"]: False, second["id"]: True}
    call_api(
        "PATCH", f"/v1/accounts/{account_id}/signatures/{second['id']}", body={"default_for_account": False}
    )
    assert SignatureStore().signature_for(account_id, None) is None


def test_a_user_has_at_most_one_own_signature_per_account(account_id: str) -> None:
    create_signature(account_id, name="Alice", user_ids=["alice"])

    answer = call_api(
        "POST",
        f"/v1/accounts/{account_id}/signatures",
        body={"name": "Alice 2", "html": "<p>x</p>", "user_ids": ["bob", "alice"]},
    )

    assert answer.status == 409
    assert answer.body["error"]["details"][0]["field"] == "user_ids[1]"


def test_deleting_a_signature_frees_its_users_and_default(account_id: str) -> None:
    signature = create_signature(account_id, default_for_account=True, user_ids=["alice"])

    assert call_api("DELETE", f"/v1/accounts/{account_id}/signatures/{signature['id']}").status == 204

    assert SignatureStore().signature_for(account_id, "alice") is None
    create_signature(account_id, user_ids=["alice"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"html": "<p>x</p>"}, "name"),
        ({"name": "x"}, "html"),
        ({"name": "x", "html": 5}, "html"),
        ({"name": "x", "html": "x", "user_ids": ["nobody"]}, "user_ids[0]"),
        ({"name": "x", "html": "x", "default_for_account": "maybe"}, "default_for_account"),
    ],
)
def test_invalid_signatures_are_refused_naming_the_field(account_id: str, body: Any, field: str) -> None:
    assert field in fields_of(call_api("POST", f"/v1/accounts/{account_id}/signatures", body=body))


def test_settings_of_a_deleted_account_cannot_be_written(account_id: str) -> None:
    call_api("DELETE", f"/v1/accounts/{account_id}")

    answer = put(account_id, "auto-reply", {"enabled": False})

    assert answer.status == 404
