"""POST /v1/whatsapp/meta/signup: Meta embedded signup against a loopback Graph API (moto for AWS)."""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from builders import ApiAnswer, call_api
from inbox.accounts import lifecycle as account_lifecycle
from inbox.store.accounts import AccountStore
from mail_peers import Peer

pytestmark = pytest.mark.usefixtures("aws")

GRAPH_VERSION = "/v21.0"
WABA_ID = "104996122399160"
PHONE_NUMBER_ID = "106540352242922"
OTHER_NUMBER_ID = "106540352242999"
SIGNUP = "/v1/whatsapp/meta/signup"
NUMBER = {
    "id": PHONE_NUMBER_ID,
    "display_phone_number": "+33 6 12 34 56 78",
    "verified_name": "Garage Martin",
}
OTHER_NUMBER = {
    "id": OTHER_NUMBER_ID,
    "display_phone_number": "15550100123",
    "verified_name": "Garage Martin",
}


@dataclass
class Graph:
    """The Graph API stand-in, and the Meta app's settings pointed at it."""

    server: HTTPServer
    app_id: str
    app_secret: str

    def path(self, path: str) -> str:
        return f"{GRAPH_VERSION}{path}"

    def exchanges_code_for(self, token: str) -> None:
        self.server.expect_request(self.path("/oauth/access_token"), method="GET").respond_with_json(
            {"access_token": token, "token_type": "bearer"}
        )

    def lists_numbers(self, *numbers: dict[str, str]) -> None:
        self.server.expect_request(self.path(f"/{WABA_ID}/phone_numbers"), method="GET").respond_with_json(
            {"data": list(numbers), "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}}
        )

    def subscribes(self) -> None:
        self.server.expect_request(self.path(f"/{WABA_ID}/subscribed_apps"), method="POST").respond_with_json(
            {"success": True}
        )

    def registers(self, phone_number_id: str = PHONE_NUMBER_ID) -> None:
        self.server.expect_request(
            self.path(f"/{phone_number_id}/register"), method="POST"
        ).respond_with_json({"success": True})

    def connects(self, token: str, *numbers: dict[str, str]) -> None:
        """Every step succeeds."""
        self.exchanges_code_for(token)
        self.lists_numbers(*(numbers or (NUMBER,)))
        self.subscribes()
        for number in numbers or (NUMBER,):
            self.registers(number["id"])

    def requests(self) -> list[Request]:
        return [request for request, _ in self.server.log]

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path.removeprefix(GRAPH_VERSION)) for r in self.requests()]


@pytest.fixture
def graph(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Graph:
    app_id, app_secret = str(secrets.randbelow(10**15)), secrets.token_hex(16)
    monkeypatch.setenv("INBOX_META_GRAPH_URL", httpserver.url_for(GRAPH_VERSION))
    monkeypatch.setenv("INBOX_META_APP_ID", app_id)
    monkeypatch.setenv("INBOX_META_APP_SECRET", app_secret)
    monkeypatch.delenv("INBOX_META_APP_SECRET_NAME", raising=False)
    return Graph(httpserver, app_id, app_secret)


def graph_error(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC1", **extra}
    }


def signup(**fields: Any) -> dict[str, Any]:
    return {"code": "AQBx-signup-code", "waba_id": WABA_ID, **fields}


def stored_secret(account_id: str) -> dict[str, Any]:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=f"inbox/accounts/{account_id}")
    return dict(json.loads(value["SecretString"]))


def assert_nothing_created() -> None:
    assert call_api("GET", "/v1/accounts").body["items"] == []
    names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    assert [name for name in names if name.startswith("inbox/accounts/")] == []


def error_of(answer: ApiAnswer) -> tuple[int, str, list[str]]:
    error = answer.body["error"]
    return answer.status, error["code"], [d["field"] for d in error["details"]]


def test_a_signed_up_number_becomes_an_active_meta_account_with_its_token_in_secrets_manager(
    graph: Graph,
) -> None:
    token = "EAAG" + secrets.token_urlsafe(24)
    graph.connects(token, NUMBER, OTHER_NUMBER)

    answer = call_api(
        "POST",
        SIGNUP,
        body=signup(phone_number_id=PHONE_NUMBER_ID, pin="123456", name="WhatsApp FR", sender_name="Garage"),
    )

    assert answer.status == 201, answer.body
    account = answer.body
    assert {k: account[k] for k in ("provider", "channel", "name", "address", "sender_name", "status")} == {
        "provider": "meta_cloud",
        "channel": "whatsapp",
        "name": "WhatsApp FR",
        "address": "+33612345678",
        "sender_name": "Garage",
        "status": "active",
    }
    assert account["config"] == {
        "waba_id": WABA_ID,
        "phone_number_id": PHONE_NUMBER_ID,
        "business_name": "Garage Martin",
    }
    assert account["has_credentials"] is True
    assert token not in json.dumps(account)
    assert stored_secret(account["id"]) == {"access_token": token}
    found = AccountStore().by_meta_phone_number_id(PHONE_NUMBER_ID)
    assert found is not None
    assert found.id == account["id"]

    exchange, numbers, subscribe, register = graph.requests()
    assert graph.calls() == [
        ("GET", "/oauth/access_token"),
        ("GET", f"/{WABA_ID}/phone_numbers"),
        ("POST", f"/{WABA_ID}/subscribed_apps"),
        ("POST", f"/{PHONE_NUMBER_ID}/register"),
    ]
    assert exchange.args.to_dict() == {
        "client_id": graph.app_id,
        "client_secret": graph.app_secret,
        "code": "AQBx-signup-code",
    }
    assert "Authorization" not in exchange.headers
    assert numbers.args.to_dict() == {"fields": "id,display_phone_number,verified_name"}
    for request in (numbers, subscribe, register):
        assert request.headers["Authorization"] == f"Bearer {token}"
    assert register.get_json() == {"messaging_product": "whatsapp", "pin": "123456"}


def test_without_a_pin_the_only_number_is_registered_with_a_random_one_and_named_after_the_business(
    graph: Graph,
) -> None:
    graph.connects("EAAG-token", OTHER_NUMBER)

    answer = call_api("POST", SIGNUP, body=signup())

    assert answer.status == 201, answer.body
    assert (answer.body["name"], answer.body["address"]) == ("Garage Martin", "+15550100123")
    assert answer.body["config"]["phone_number_id"] == OTHER_NUMBER_ID
    register = graph.requests()[-1]
    assert register.get_json()["messaging_product"] == "whatsapp"
    assert re.fullmatch(r"[0-9]{6}", register.get_json()["pin"])


def test_a_refused_code_answers_422_and_creates_nothing(graph: Graph) -> None:
    graph.server.expect_request(graph.path("/oauth/access_token")).respond_with_json(
        graph_error(100, "This authorization code has been used.", error_subcode=36009), status=400
    )

    answer = call_api("POST", SIGNUP, body=signup())

    assert error_of(answer) == (422, "meta_code_refused", ["code"])
    assert graph.calls() == [("GET", "/oauth/access_token")]
    assert_nothing_created()


def test_an_account_without_numbers_answers_422_and_creates_nothing(graph: Graph) -> None:
    graph.exchanges_code_for("EAAG-token")
    graph.lists_numbers()

    answer = call_api("POST", SIGNUP, body=signup())

    assert error_of(answer) == (422, "no_phone_numbers", ["waba_id"])
    assert [path for _, path in graph.calls()] == ["/oauth/access_token", f"/{WABA_ID}/phone_numbers"]
    assert_nothing_created()


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({}, (422, "choose_phone_number", ["phone_number_id"])),
        ({"phone_number_id": "999"}, (422, "unknown_phone_number", ["phone_number_id"])),
    ],
)
def test_the_number_must_be_one_of_the_accounts_and_named_when_there_are_several(
    graph: Graph, chosen: dict[str, str], expected: tuple[int, str, list[str]]
) -> None:
    graph.exchanges_code_for("EAAG-token")
    graph.lists_numbers(NUMBER, OTHER_NUMBER)

    answer = call_api("POST", SIGNUP, body=signup(**chosen))

    assert error_of(answer) == expected
    assert PHONE_NUMBER_ID in answer.body["error"]["message"]
    assert OTHER_NUMBER_ID in answer.body["error"]["message"]
    assert len(graph.calls()) == 2
    assert_nothing_created()


def test_a_failing_subscription_answers_502_naming_the_step_and_creates_nothing(graph: Graph) -> None:
    graph.exchanges_code_for("EAAG-token")
    graph.lists_numbers(NUMBER)
    graph.server.expect_request(graph.path(f"/{WABA_ID}/subscribed_apps")).respond_with_json(
        {"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1}}, status=500
    )

    answer = call_api("POST", SIGNUP, body=signup())

    assert error_of(answer) == (502, "meta_unavailable", [])
    assert "subscribing the app" in answer.body["error"]["message"]
    assert ("POST", f"/{PHONE_NUMBER_ID}/register") not in graph.calls()
    assert_nothing_created()


def test_a_pin_that_is_not_the_numbers_answers_422_on_the_pin(graph: Graph) -> None:
    graph.exchanges_code_for("EAAG-token")
    graph.lists_numbers(NUMBER)
    graph.subscribes()
    graph.server.expect_request(graph.path(f"/{PHONE_NUMBER_ID}/register")).respond_with_json(
        graph_error(133005, "Two step verification PIN Mismatch"), status=400
    )

    answer = call_api("POST", SIGNUP, body=signup(pin="654321"))

    assert error_of(answer) == (422, "meta_pin_mismatch", ["pin"])
    assert_nothing_created()


def test_other_refusals_of_a_step_answer_502_with_metas_words(graph: Graph) -> None:
    graph.exchanges_code_for("EAAG-token")
    graph.lists_numbers(NUMBER)
    graph.subscribes()
    graph.server.expect_request(graph.path(f"/{PHONE_NUMBER_ID}/register")).respond_with_json(
        graph_error(133016, "Account register deregister rate limit exceeded"), status=400
    )

    answer = call_api("POST", SIGNUP, body=signup())

    assert error_of(answer) == (502, "meta_refused", [])
    assert "registering the phone number" in answer.body["error"]["message"]
    assert "rate limit exceeded" in answer.body["error"]["message"]
    assert_nothing_created()


def test_an_unreachable_graph_answers_502(
    graph: Graph, closed_port: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_META_GRAPH_URL", f"http://{closed_port.host}:{closed_port.port}/v21.0")

    answer = call_api("POST", SIGNUP, body=signup())

    assert error_of(answer) == (502, "meta_unavailable", [])
    assert "exchanging the signup code" in answer.body["error"]["message"]
    assert_nothing_created()


def test_signing_up_a_connected_number_again_reconnects_its_account(graph: Graph) -> None:
    graph.connects("EAAG-first-token")
    first = call_api("POST", SIGNUP, body=signup()).body
    account_lifecycle.record_credentials_rejected(
        first["id"], "Meta refused the access token.", accounts=AccountStore()
    )
    assert call_api("GET", f"/v1/accounts/{first['id']}").body["status"] == "error"
    graph.server.clear()
    graph.exchanges_code_for("EAAG-second-token")
    graph.lists_numbers(NUMBER)
    graph.subscribes()

    answer = call_api("POST", SIGNUP, body=signup(code="AQBx-second-code"))

    assert answer.status == 200, answer.body
    assert answer.body["id"] == first["id"]
    assert (answer.body["status"], answer.body["status_reason"]) == ("active", None)
    assert stored_secret(first["id"]) == {"access_token": "EAAG-second-token"}
    assert len(call_api("GET", "/v1/accounts").body["items"]) == 1
    # Registered once, when first connected: a reconnect without a PIN leaves registration alone.
    assert [path for _, path in graph.calls()] == [
        "/oauth/access_token",
        f"/{WABA_ID}/phone_numbers",
        f"/{WABA_ID}/subscribed_apps",
    ]


def test_a_reconnect_with_a_pin_registers_the_number_again(graph: Graph) -> None:
    graph.connects("EAAG-first-token")
    first = call_api("POST", SIGNUP, body=signup()).body
    graph.server.clear()
    graph.connects("EAAG-second-token")

    answer = call_api("POST", SIGNUP, body=signup(code="AQBx-second-code", pin="246810"))

    assert (answer.status, answer.body["id"]) == (200, first["id"])
    assert graph.requests()[-1].get_json() == {"messaging_product": "whatsapp", "pin": "246810"}


def test_agents_cannot_connect_numbers(graph: Graph) -> None:
    answer = call_api("POST", SIGNUP, body=signup(), user="bob", admin=False)

    assert answer.status == 403
    assert graph.calls() == []


def test_without_the_meta_app_settings_the_signup_answers_that_it_is_not_configured(
    graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INBOX_META_APP_ID")
    monkeypatch.delenv("INBOX_META_APP_SECRET")

    answer = call_api("POST", SIGNUP, body=signup())

    assert error_of(answer) == (502, "meta_not_configured", [])
    assert "INBOX_META_APP_ID" in answer.body["error"]["message"]
    assert "INBOX_META_APP_SECRET" in answer.body["error"]["message"]
    assert graph.calls() == []


@pytest.mark.parametrize(
    ("field", "value"), [("pin", "12ab56"), ("pin", "1234567"), ("waba_id", "not-an-id"), ("code", "")]
)
def test_bad_requests_are_refused_naming_the_field(graph: Graph, field: str, value: str) -> None:
    answer = call_api("POST", SIGNUP, body=signup(**{field: value}))

    assert error_of(answer) == (422, "validation_error", [field])
    assert graph.calls() == []


def test_no_answer_and_no_log_line_carries_the_token_the_code_the_pin_or_the_app_secret(
    graph: Graph, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    token, code, pin = "EAAG" + secrets.token_urlsafe(24), secrets.token_urlsafe(24), "918273"
    answers: list[ApiAnswer] = []

    graph.connects(token)
    answers.append(call_api("POST", SIGNUP, body=signup(code=code, pin=pin)))
    graph.server.clear()
    # A peer that echoes what it was sent in its error messages.
    graph.server.expect_request(graph.path("/oauth/access_token")).respond_with_json(
        graph_error(1, f"Error validating client secret {graph.app_secret} for code {code}"), status=400
    )
    answers.append(call_api("POST", SIGNUP, body=signup(code=code)))
    graph.server.clear()
    graph.exchanges_code_for(token)
    graph.lists_numbers(NUMBER)
    graph.server.expect_request(graph.path(f"/{WABA_ID}/subscribed_apps")).respond_with_json(
        graph_error(200, f"Permissions error for token {token}"), status=403
    )
    answers.append(call_api("POST", SIGNUP, body=signup(code=code, pin=pin)))
    answers.append(call_api("POST", SIGNUP, body=signup(code=code, pin="12345x")))

    assert [a.status for a in answers] == [201, 502, 502, 422]
    assert "[hidden]" in answers[1].body["error"]["message"]
    # The stand-in's own access log (werkzeug) is Meta's side of the wire, not ours.
    ours = [
        r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records if r.name != "werkzeug"
    ]
    seen = json.dumps([a.body for a in answers]) + "".join(ours) + "".join(capsys.readouterr())
    for secret in (token, code, pin, "12345x", graph.app_secret):
        assert secret not in seen
