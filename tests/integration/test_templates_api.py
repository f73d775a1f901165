"""/v1/templates: CRUD, variables, rendering, and the WhatsApp review life cycle through the API."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from builders import call_api
from inbox.accounts.models import Channel, Provider
from inbox.routing import consumer
from inbox.routing.events import Contact, InboundMessage, MessageType
from inbox.routing.router import Collaborators, Router
from routing_setup import CUSTOMER_PHONE, create_routing_account

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def email_account() -> str:
    answer = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "imap",
            "name": "Sales",
            "address": "sales@example.com",
            "config": {"imap_host": "imap.example.com", "smtp_host": "smtp.example.com", "username": "sales"},
            "credentials": {"password": "p"},
        },
    )
    return str(answer.body["id"])


@pytest.fixture
def graph(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setenv("INBOX_META_GRAPH_URL", httpserver.url_for("/v21.0"))
    return httpserver


@pytest.fixture
def whatsapp_account(graph: HTTPServer) -> str:
    answer = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "meta_cloud",
            "name": "WhatsApp",
            "address": "+33180000000",
            "config": {"waba_id": "555", "phone_number_id": "777"},
            "credentials": {"access_token": "tok"},
        },
    )
    return str(answer.body["id"])


def create(body: dict[str, Any]) -> dict[str, Any]:
    answer = call_api("POST", "/v1/templates", body=body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


QUOTE = "Bonjour {{customer_name}}, votre devis {{quote_number}} est prêt. {{user_name}}"
# Meta's format rules: no variable at either end, enough words around the variables.
WA_QUOTE = (
    "Bonjour {{customer_name}}, votre devis {{quote_number}} est prêt. Votre conseiller {{user_name}} "
    "reste à votre disposition pour toute question."
)


def test_an_email_template_needs_no_review_and_lists_its_variables(email_account: str) -> None:
    template = create(
        {
            "account_id": email_account,
            "name": "Quote ready",
            "content": QUOTE,
            "labels": ["Quote"],
            "type": "start",
        }
    )

    assert template["variables"] == ["customer_name", "quote_number", "user_name"]
    assert template["approval"]["status"] == "not_required"
    assert call_api("GET", f"/v1/templates/{template['id']}").body == template


def test_names_are_unique_per_account_whatever_their_case(email_account: str) -> None:
    create({"account_id": email_account, "name": "Quote ready", "content": "x"})

    again = call_api(
        "POST", "/v1/templates", body={"account_id": email_account, "name": "QUOTE READY", "content": "y"}
    )

    assert (again.status, again.body["error"]["code"]) == (409, "template_name_taken")


@pytest.mark.parametrize(
    ("content", "culprit"),
    [
        ("Hello {{ Name }}", "{{ Name }}"),
        ("Hello {{first name}}", "{{first name}}"),
        ("Hello {{1}} and {{customer_name}}", None),
        ("Dear {{customer_name}", "{{customer_name}"),
    ],
)
def test_anything_that_looks_like_a_placeholder_but_is_not_is_refused(
    email_account: str, content: str, culprit: str | None
) -> None:
    answer = call_api(
        "POST", "/v1/templates", body={"account_id": email_account, "name": "T", "content": content}
    )

    if culprit is None:  # {{1}} is a valid name: digits are allowed
        assert answer.status == 201
        return
    assert answer.status == 422
    assert answer.body["error"]["code"] == "invalid_placeholder"
    assert culprit in answer.body["error"]["details"][0]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "T", "content": "x"}, "account_id"),
        ({"account_id": "acc_nope", "name": "T", "content": "x"}, "account_id"),
        ({"name": "T", "content": ""}, "content"),
        ({"name": "", "content": "x"}, "name"),
        ({"name": "T", "content": "x", "type": "broadcast"}, "type"),
        ({"name": "T", "content": "Hi {{customer_name}}", "examples": {"nope": "x"}}, "examples.nope"),
    ],
)
def test_invalid_templates_are_refused_naming_the_field(
    email_account: str, body: dict[str, Any], field: str
) -> None:
    body = (
        {"account_id": email_account, **body} if "account_id" not in body and field != "account_id" else body
    )

    answer = call_api("POST", "/v1/templates", body=body)

    assert answer.status == 422, answer.body
    assert field in [d["field"] for d in answer.body["error"]["details"]]


def test_the_list_filters_by_account_label_and_type(email_account: str) -> None:
    create({"account_id": email_account, "name": "A", "content": "a", "labels": ["Quote"], "type": "start"})
    create({"account_id": email_account, "name": "B", "content": "b", "labels": ["Order"], "type": "reply"})

    def names(query: str) -> list[str]:
        return [t["name"] for t in call_api("GET", "/v1/templates", query=query).body["items"]]

    assert names(f"account_id={email_account}") == ["A", "B"]
    assert names("label=Quote") == ["A"]
    assert names("type=reply") == ["B"]
    assert names("account_id=acc_other") == []


def test_known_variables_say_what_fills_them() -> None:
    variables = {v["name"]: v for v in call_api("GET", "/v1/templates/variables").body["items"]}

    assert {"customer_name", "quote_number", "user_name", "company_name"} <= set(variables)
    assert variables["quote_number"]["contexts"] == ["conversation linked to a quote"]


def test_rendering_fills_what_it_can_and_lists_what_is_missing(email_account: str) -> None:
    template = create({"account_id": email_account, "name": "Q", "content": QUOTE})

    full = call_api(
        "POST",
        f"/v1/templates/{template['id']}/render",
        body={"context": {"customer_name": "Marie", "quote_number": "Q-42", "user_name": "Alice"}},
    ).body
    partial = call_api(
        "POST",
        f"/v1/templates/{template['id']}/render",
        body={"context": {"customer_name": "Marie", "user_name": "Alice", "unknown": "x"}},
    ).body

    assert full == {"text": "Bonjour Marie, votre devis Q-42 est prêt. Alice", "missing": []}
    assert partial["missing"] == ["quote_number"]
    assert call_api("POST", f"/v1/templates/{template['id']}/render", body={}).status == 422


def test_rendering_from_a_conversation_uses_its_customer_and_assignee(
    monkeypatch: pytest.MonkeyPatch, aws: Any
) -> None:
    outbound = next(
        u for lid, u in aws.queue_urls.items() if lid.startswith("OutboundQueue") and "Dead" not in lid
    )
    monkeypatch.setenv("INBOX_OUTBOUND_QUEUE_URL", outbound)
    consumer.clear_caches()
    account_id = create_routing_account()
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    Router(Collaborators(current=consumer.current, clock=lambda: at, rng=random.Random(1))).route_message(
        InboundMessage(
            account_id=account_id,
            channel=Channel.WHATSAPP,
            provider=Provider.META_CLOUD,
            provider_message_id="w1",
            contact=Contact(address=CUSTOMER_PHONE, name="Jean"),
            sent_at=at,
            received_at=at,
            type=MessageType.TEXT,
            text="Bonjour",
        )
    )
    (conversation,) = call_api("GET", "/v1/conversations").body["items"]
    email = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "imap",
            "name": "Mail",
            "address": "m@example.com",
            "config": {"imap_host": "i.example.com", "smtp_host": "s.example.com", "username": "m"},
            "credentials": {"password": "p"},
        },
    ).body
    template = create({"account_id": email["id"], "name": "Q", "content": QUOTE})

    rendered = call_api(
        "POST", f"/v1/templates/{template['id']}/render", body={"conversation_id": conversation["id"]}
    ).body
    with_quote = call_api(
        "POST",
        f"/v1/templates/{template['id']}/render",
        body={"conversation_id": conversation["id"], "context": {"quote_number": "Q-7"}},
    ).body
    consumer.clear_caches()

    assert rendered == {
        "text": "Bonjour Jean Dupont, votre devis {{quote_number}} est prêt. Alice",
        "missing": ["quote_number"],
    }
    assert with_quote["missing"] == []


def test_a_whatsapp_template_needs_a_language_and_a_category(whatsapp_account: str) -> None:
    answer = call_api(
        "POST", "/v1/templates", body={"account_id": whatsapp_account, "name": "T", "content": "x"}
    )

    assert answer.status == 422
    assert {d["field"] for d in answer.body["error"]["details"]} == {"language", "category"}


def whatsapp_template(graph: HTTPServer, account_id: str, *, status: str = "PENDING") -> dict[str, Any]:
    graph.expect_request("/v21.0/555/message_templates", method="POST").respond_with_json(
        {"id": "9001", "status": status, "category": "UTILITY"}
    )
    return create(
        {
            "account_id": account_id,
            "name": "Quote ready",
            "content": WA_QUOTE,
            "language": "fr",
            "category": "utility",
            "type": "window",
        }
    )


def test_a_whatsapp_template_is_submitted_for_review_on_creation(
    graph: HTTPServer, whatsapp_account: str
) -> None:
    template = whatsapp_template(graph, whatsapp_account)

    assert template["approval"]["status"] == "pending"
    assert template["approval"]["provider_template_id"] == "9001"
    ((request, _),) = [(r, a) for r, a in graph.log if r.path.endswith("/message_templates")]
    assert request.headers["Authorization"] == "Bearer tok"


def test_an_approved_whatsapp_template_keeps_its_content(graph: HTTPServer, whatsapp_account: str) -> None:
    template = whatsapp_template(graph, whatsapp_account, status="APPROVED")
    assert template["approval"]["status"] == "approved"

    locked = call_api(
        "PATCH", f"/v1/templates/{template['id']}", body={"content": "Changed {{customer_name}}!"}
    )
    renamed = call_api(
        "PATCH", f"/v1/templates/{template['id']}", body={"name": "Quote ready (v1)", "labels": ["Quote"]}
    )
    resubmitted = call_api("POST", f"/v1/templates/{template['id']}/submit")

    assert (locked.status, locked.body["error"]["code"]) == (409, "template_locked")
    assert renamed.status == 200
    assert renamed.body["content"] == WA_QUOTE
    assert (resubmitted.status, resubmitted.body["error"]["code"]) == (409, "template_not_resubmittable")


def test_a_graph_error_on_submit_leaves_the_template_visible_and_retryable(
    httpserver: HTTPServer, whatsapp_account: str
) -> None:
    httpserver.expect_request("/v21.0/555/message_templates", method="POST").respond_with_json(
        {"error": {"message": "Service temporarily unavailable", "code": 2}}, status=503
    )

    template = create(
        {
            "account_id": whatsapp_account,
            "name": "Quote ready",
            "content": WA_QUOTE,
            "language": "fr",
            "category": "utility",
        }
    )

    assert template["approval"]["status"] == "error"
    assert call_api("GET", f"/v1/templates/{template['id']}").body["approval"]["status"] == "error"
    httpserver.clear()
    httpserver.expect_request("/v21.0/555/message_templates", method="POST").respond_with_json(
        {"id": "9002", "status": "PENDING", "category": "UTILITY"}
    )
    retried = call_api("POST", f"/v1/templates/{template['id']}/submit").body
    assert (retried["approval"]["status"], retried["approval"]["provider_template_id"]) == ("pending", "9002")


def test_deleting_a_template_frees_its_name(email_account: str) -> None:
    template = create({"account_id": email_account, "name": "Q", "content": "x"})

    assert call_api("DELETE", f"/v1/templates/{template['id']}").status == 204

    assert call_api("GET", f"/v1/templates/{template['id']}").status == 404
    assert call_api("GET", "/v1/templates").body["items"] == []
    create({"account_id": email_account, "name": "q", "content": "y"})
