"""`POST /v1/conversations/{id}/messages`: an agent's reply, through the API to the provider.
Conversations are opened by routing an inbound message through the route function; replies go
through the send function to loopback stand-ins of Meta's Graph API and Twilio (moto for AWS).
Each refusal answers its code and queues nothing."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import builders
from builders import call_api, invoke_handler
from inbox import aws as inbox_aws
from inbox import replies as replies_module
from inbox.access import Caller
from inbox.accounts.models import Channel, Provider
from inbox.ids import new_id
from inbox.local.resources import LocalResources
from inbox.replies import ReplyRequest
from inbox.routing.events import Contact, InboundMessage, MessageType, QueuedEvent, group_id
from inbox.store.conversations import ConversationStore
from inbox.store.templates import TemplateStore
from inbox.templates.models import Approval, ApprovalStatus, Category, Template, TemplateType
from mail_flow import function_variables, messages_of, queue_url, send_queued

TWILIO_SID = "AC" + "0123456789abcdef" * 2
CONTENT_SID = "HX" + "fedcba9876543210" * 2
PHONE_NUMBER_ID = "10987654321"
CONTACT = "+33611223344"
META_MESSAGES = f"/graph/{PHONE_NUMBER_ID}/messages"
TWILIO_MESSAGES = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"


@pytest.fixture
def stack(
    aws: LocalResources, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalResources]:
    monkeypatch.setenv("INBOX_META_GRAPH_URL", httpserver.url_for("/graph"))
    monkeypatch.setenv("INBOX_TWILIO_API_URL", httpserver.url_for("/twilio"))
    sent = iter(range(1, 1000))

    def accept(request: Request) -> Response:
        number = next(sent)
        if "twilio" in request.path:
            return Response(json.dumps({"sid": f"SM{number:032x}", "status": "queued"}), status=201)
        body = {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.reply.{number}"}]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(META_MESSAGES, method="POST").respond_with_handler(accept)
    httpserver.expect_request(TWILIO_MESSAGES, method="POST").respond_with_handler(accept)
    with function_variables(aws, "route", "send", "settings_api"):
        yield aws


def create_account(provider: str) -> str:
    bodies: dict[str, dict[str, Any]] = {
        "meta_cloud": {
            "provider": "meta_cloud",
            "name": "WhatsApp FR",
            "address": "+33 6 12 34 56 78",
            "config": {
                "waba_id": "1234567890",
                "phone_number_id": PHONE_NUMBER_ID,
                "business_name": "Garage",
            },
            "credentials": {"access_token": "EAAG-secret-token"},
        },
        "twilio": {
            "provider": "twilio",
            "name": "WhatsApp US",
            "address": "+14155550100",
            "config": {"account_sid": TWILIO_SID},
            "credentials": {"auth_token": "twilio-secret"},
        },
    }
    answer = call_api("POST", "/v1/accounts", body=bodies[provider])
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def inbound(
    account_id: str,
    *,
    ago: timedelta = timedelta(minutes=5),
    provider: str = "meta_cloud",
    sent_at: datetime | None = None,
) -> str:
    """The contact writes (`ago` before now, or at `sent_at`), routed by the route function: the
    conversation's id."""
    sent_at = sent_at or datetime.now(UTC) - ago
    message = InboundMessage(
        account_id=account_id,
        channel=Channel.WHATSAPP,
        provider=Provider(provider),
        provider_message_id=f"wamid.in.{new_id('m')}",
        contact=Contact(address=CONTACT, name="Ana Silva"),
        sent_at=sent_at,
        received_at=sent_at,
        type=MessageType.TEXT,
        text="Bonjour, ma voiture est prête ?",
    )
    record = builders.sqs_record(
        QueuedEvent(event=message).model_dump_json(),
        new_id("sqs"),
        queue="inbound.fifo",
        group_id=group_id(message),
    )
    assert invoke_handler("route", {"Records": [record]}) == {"batchItemFailures": []}
    answer = call_api("GET", "/v1/conversations", query=f"account_id={account_id}")
    (conversation,) = answer.body["items"]
    return str(conversation["id"])


def approved_template(
    account_id: str,
    *,
    type: TemplateType = TemplateType.WINDOW,
    status: ApprovalStatus = ApprovalStatus.APPROVED,
    content: str = "Bonjour {{customer_name}}, votre devis {{quote_number}} est prêt.",
    content_sid: str | None = None,
) -> str:
    now = datetime.now(UTC)
    variables = [v for v in ("customer_name", "quote_number") if "{{" + v + "}}" in content]
    template = Template(
        id=new_id("tpl"),
        account_id=account_id,
        name=f"Devis prêt {new_id('n')}",
        content=content,
        type=type,
        language="fr",
        category=Category.UTILITY,
        variables=variables,
        approval=Approval(
            status=status,
            provider_name="devis_pret",
            provider_template_id=content_sid or f"HX{secrets.token_hex(16)}",
            variable_order=variables,
        ),
        created_at=now,
        updated_at=now,
    )
    return TemplateStore().create(template).id


def reply(conversation_id: str, body: dict[str, Any], **caller: Any) -> builders.ApiAnswer:
    return call_api("POST", f"/v1/conversations/{conversation_id}/messages", body=body, **caller)


def replies(conversation_id: str) -> list[dict[str, Any]]:
    return [m for m in messages_of(conversation_id) if m["direction"] == "out"]


def provider_requests(httpserver: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path == path]


def queued_requests(stack: LocalResources) -> int:
    sqs = inbox_aws.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url(stack, "OutboundQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_a_text_reply_inside_the_window_is_queued_by_the_caller_then_sent_once(
    stack: LocalResources, httpserver: HTTPServer
) -> None:
    conversation_id = inbound(create_account("meta_cloud"))

    answer = reply(conversation_id, {"text": "Oui, {{customer_name}}, elle est prête."}, user="alice")

    assert answer.status == 202, answer.body
    assert (answer.body["status"], answer.body["sent_by"]) == ("queued", "alice")
    assert answer.body["text"] == "Oui, Ana Silva, elle est prête."
    assert send_queued(stack) == 1
    assert send_queued(stack) == 0
    (sent,) = provider_requests(httpserver, META_MESSAGES)
    assert sent.get_json()["text"] == {"body": "Oui, Ana Silva, elle est prête."}
    (stored,) = replies(conversation_id)
    assert (stored["status"], stored["provider_message_id"]) == ("sent", "wamid.reply.1")
    conversation = call_api("GET", f"/v1/conversations/{conversation_id}").body
    assert conversation["last_message_at"] == stored["created_at"]


def test_free_text_after_the_window_is_window_closed_and_nothing_is_queued(stack: LocalResources) -> None:
    conversation_id = inbound(create_account("meta_cloud"), ago=timedelta(hours=25))
    expires = call_api("GET", f"/v1/conversations/{conversation_id}").body["window_expires_at"]

    answer = reply(conversation_id, {"text": "Toujours là ?"})

    assert answer.status == 422
    assert answer.body["error"]["code"] == "window_closed"
    assert answer.body["error"]["details"] == [
        {"field": "window_expires_at", "message": expires.replace("Z", "+00:00")}
    ]
    assert replies(conversation_id) == []
    assert queued_requests(stack) == 0


def test_a_window_template_after_the_window_reaches_meta_as_a_template_with_named_parameters(
    stack: LocalResources, httpserver: HTTPServer
) -> None:
    account_id = create_account("meta_cloud")
    conversation_id = inbound(account_id, ago=timedelta(hours=30))
    template_id = approved_template(account_id)

    answer = reply(conversation_id, {"template_id": template_id, "variables": {"quote_number": "D-42"}})

    assert answer.status == 202, answer.body
    assert answer.body["text"] == "Bonjour Ana Silva, votre devis D-42 est prêt."
    assert answer.body["template_id"] == template_id
    assert send_queued(stack) == 1
    (sent,) = provider_requests(httpserver, META_MESSAGES)
    assert sent.get_json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CONTACT,
        "type": "template",
        "template": {
            "name": "devis_pret",
            "language": {"code": "fr"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "parameter_name": "customer_name", "text": "Ana Silva"},
                        {"type": "text", "parameter_name": "quote_number", "text": "D-42"},
                    ],
                }
            ],
        },
    }
    assert [m["status"] for m in replies(conversation_id)] == ["sent"]


def test_twilio_sends_a_template_as_its_content_sid_with_the_values_by_position(
    stack: LocalResources, httpserver: HTTPServer
) -> None:
    account_id = create_account("twilio")
    conversation_id = inbound(account_id, ago=timedelta(days=3), provider="twilio")
    template_id = approved_template(account_id, content_sid=CONTENT_SID)

    answer = reply(conversation_id, {"template_id": template_id, "variables": {"quote_number": "D-7"}})

    assert answer.status == 202, answer.body
    assert send_queued(stack) == 1
    (sent,) = provider_requests(httpserver, TWILIO_MESSAGES)
    form = {name: values[0] for name, values in parse_qs(sent.get_data(as_text=True)).items()}
    assert form["ContentSid"] == CONTENT_SID
    assert json.loads(form["ContentVariables"]) == {"1": "Ana Silva", "2": "D-7"}
    assert "Body" not in form


def test_a_template_that_may_not_be_sent_is_refused_with_its_code(stack: LocalResources) -> None:
    account_id = create_account("meta_cloud")
    closed = inbound(account_id, ago=timedelta(hours=30))
    other_account = create_account("twilio")
    reply_only = approved_template(account_id, type=TemplateType.REPLY)
    pending = approved_template(account_id, status=ApprovalStatus.PENDING)
    elsewhere = approved_template(other_account)

    outside = reply(closed, {"template_id": reply_only, "variables": {"quote_number": "1"}})
    unapproved = reply(closed, {"template_id": pending, "variables": {"quote_number": "1"}})
    foreign = reply(closed, {"template_id": elsewhere, "variables": {"quote_number": "1"}})
    unknown = reply(closed, {"template_id": "tpl_nope"})

    assert (outside.status, outside.body["error"]["code"]) == (422, "window_closed")
    for refused in (unapproved, foreign, unknown):
        assert (refused.status, refused.body["error"]["code"]) == (422, "template_not_usable")
        assert refused.body["error"]["details"][0]["field"] == "template_id"
    assert replies(closed) == []
    assert queued_requests(stack) == 0


def test_an_unfilled_variable_is_missing_variables_and_never_sent(stack: LocalResources) -> None:
    account_id = create_account("meta_cloud")
    conversation_id = inbound(account_id)
    template_id = approved_template(account_id)

    templated = reply(conversation_id, {"template_id": template_id})
    typed = reply(conversation_id, {"text": "Votre devis {{quote_number}} est prêt"})

    for refused in (templated, typed):
        assert (refused.status, refused.body["error"]["code"]) == (422, "missing_variables")
        assert [d["field"] for d in refused.body["error"]["details"]] == ["variables.quote_number"]
    assert replies(conversation_id) == []
    assert queued_requests(stack) == 0


def test_a_paused_account_is_409_and_nothing_is_queued(stack: LocalResources) -> None:
    account_id = create_account("meta_cloud")
    conversation_id = inbound(account_id)
    assert call_api("POST", f"/v1/accounts/{account_id}/pause").status == 200

    answer = reply(conversation_id, {"text": "Bonjour"})

    assert (answer.status, answer.body["error"]["code"]) == (409, "account_paused")
    assert replies(conversation_id) == []
    assert queued_requests(stack) == 0


def test_an_account_in_error_is_409_and_nothing_is_queued(stack: LocalResources) -> None:
    from inbox.accounts.lifecycle import record_credentials_rejected
    from inbox.store.accounts import AccountStore

    account_id = create_account("meta_cloud")
    conversation_id = inbound(account_id)
    record_credentials_rejected(account_id, "Meta refused the token.", accounts=AccountStore())

    answer = reply(conversation_id, {"text": "Bonjour"})

    assert (answer.status, answer.body["error"]["code"]) == (409, "account_error")
    assert "Meta refused the token." in answer.body["error"]["message"]
    assert replies(conversation_id) == []
    assert queued_requests(stack) == 0


def test_an_agent_replies_only_where_authorized_else_404_as_on_reads(stack: LocalResources) -> None:
    account_id = create_account("meta_cloud")
    conversation_id = inbound(account_id)
    for user_id in ("bob", "dave"):
        body = {"id": user_id, "name": user_id.title(), "email": f"{user_id}@example.com"}
        assert call_api("POST", "/v1/users", body=body).status == 201
    assert (
        call_api("PUT", f"/v1/accounts/{account_id}/authorized-users", body={"user_ids": ["bob"]}).status
        == 200
    )

    outsider = reply(conversation_id, {"text": "Bonjour"}, user="dave", admin=False)
    unknown = reply("conv_nope", {"text": "Bonjour"}, user="bob", admin=False)
    member = reply(conversation_id, {"text": "Bonjour"}, user="bob", admin=False)

    assert (outsider.status, outsider.body["error"]["code"]) == (404, "conversation_not_found")
    assert unknown.status == 404
    assert member.status == 202
    assert [m["sent_by"] for m in replies(conversation_id)] == ["bob"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"text": "a", "template_id": "tpl_1"}, "body"),
        ({"text": "a", "variables": {"x": "1"}}, "body"),
        ({"text": ""}, "text"),
        ({"html": "<p>Bonjour</p>"}, "html"),
    ],
)
def test_a_malformed_reply_is_422_naming_the_field(
    stack: LocalResources, body: dict[str, Any], field: str
) -> None:
    conversation_id = inbound(create_account("meta_cloud"))

    answer = reply(conversation_id, body)

    assert answer.status == 422, answer.body
    assert answer.body["error"]["details"][0]["field"] == field
    assert replies(conversation_id) == []


def test_a_reply_the_queue_refuses_is_recorded_failed_and_answered_503(
    stack: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id = inbound(create_account("meta_cloud"))

    with monkeypatch.context() as gone:
        gone.setenv("INBOX_OUTBOUND_QUEUE_URL", queue_url(stack, "OutboundQueue") + "-deleted")
        answer = reply(conversation_id, {"text": "Bonjour"})

    assert (answer.status, answer.body["error"]["code"]) == (503, "queue_unavailable")
    (stored,) = replies(conversation_id)
    assert (stored["status"], stored["error"]["code"]) == ("failed", "queue_unavailable")
    assert send_queued(stack) == 0


def start(body: dict[str, Any], **caller: Any) -> builders.ApiAnswer:
    return call_api("POST", "/v1/conversations", body=body, **caller)


def test_a_whatsapp_conversation_starts_with_a_start_template_linked_to_the_customer(
    stack: LocalResources, httpserver: HTTPServer
) -> None:
    account_id = create_account("meta_cloud")
    customer = {"name": "Jean Dupont", "phones": ["+33 6 11 22 33 44"]}
    customer_id = call_api("POST", "/v1/customers", body=customer).body["id"]
    user = {"id": "bob", "name": "Bob", "email": "bob@example.com"}
    assert call_api("POST", "/v1/users", body=user).status == 201
    assert (
        call_api("PUT", f"/v1/accounts/{account_id}/authorized-users", body={"user_ids": ["bob"]}).status
        == 200
    )
    opening = approved_template(account_id, type=TemplateType.START)
    reply_only = approved_template(account_id, type=TemplateType.REPLY)

    text = start(
        {"account_id": account_id, "to": "+33 6 11 22 33 44", "text": "Bonjour"}, user="bob", admin=False
    )
    refused = start(
        {
            "account_id": account_id,
            "to": CONTACT,
            "template_id": reply_only,
            "variables": {"quote_number": "1"},
        }
    )
    answer = start(
        {
            "account_id": account_id,
            "to": "+33 6 11 22 33 44",
            "template_id": opening,
            "variables": {"quote_number": "Q-9"},
        },
        user="bob",
        admin=False,
    )

    assert (text.status, text.body["error"]["code"]) == (422, "window_closed")
    assert (refused.status, refused.body["error"]["code"]) == (422, "template_not_usable")
    assert answer.status == 201, answer.body
    started = answer.body
    assert (started["contact"]["address"], started["customer_id"], started["assignee_id"]) == (
        CONTACT,
        customer_id,
        "bob",
    )
    assert send_queued(stack) == 1
    (sent,) = provider_requests(httpserver, META_MESSAGES)
    assert sent.get_json()["template"]["components"][0]["parameters"][0]["text"] == "Jean Dupont"
    (message,) = replies(started["id"])
    assert (message["sent_by"], message["status"], message["text"]) == (
        "bob",
        "sent",
        "Bonjour Jean Dupont, votre devis Q-9 est prêt.",
    )
    again = start(
        {"account_id": account_id, "to": CONTACT, "template_id": opening, "variables": {"quote_number": "2"}}
    )
    assert (again.status, again.body["error"]["code"]) == (409, "conversation_open")

    # The contact answers: the answer joins the started conversation, whose window is now open.
    assert inbound(account_id) == started["id"]
    assert reply(started["id"], {"text": "Merci !"}).status == 202


def test_starting_on_an_account_the_agent_may_not_see_is_404_and_a_bad_number_422(
    stack: LocalResources,
) -> None:
    account_id = create_account("meta_cloud")
    opening = approved_template(account_id, type=TemplateType.START)
    body = {
        "account_id": account_id,
        "to": CONTACT,
        "template_id": opening,
        "variables": {"quote_number": "1"},
    }

    hidden = start(body, user="dave", admin=False)
    bad = start({**body, "to": "not a number"})

    assert (hidden.status, hidden.body["error"]["code"]) == (404, "account_not_found")
    assert (bad.status, bad.body["error"]["details"][0]["field"]) == (422, "to")
    assert call_api("GET", "/v1/conversations").body["items"] == []
    assert queued_requests(stack) == 0


PARIS_WEEK = {
    "timezone": "Europe/Paris",
    "days": {
        day: [{"start": "09:00", "end": "18:00"}]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    },
    # Monday 26 October 2026, the day after the clocks went back (CEST → CET on Sunday the 25th).
    "holidays": [{"date": "2026-10-26", "name": "Fermeture"}],
}
FRIDAY_17H = datetime(2026, 10, 23, 15, 0, tzinfo=UTC)  # 17:00 in Paris (CEST, UTC+2)
TUESDAY_8H30 = datetime(2026, 10, 27, 7, 30, tzinfo=UTC)  # 08:30 in Paris (CET, UTC+1)
TUESDAY_10H = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def metrics(account_id: str, **query: str) -> dict[str, Any]:
    params = {"account_id": account_id, "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", **query}
    answer = call_api(
        "GET", "/v1/metrics/response-times", query="&".join(f"{k}={v}" for k, v in params.items())
    )
    assert answer.status == 200, answer.body
    return dict(answer.body)


def test_response_times_count_business_hours_across_a_weekend_a_holiday_and_a_dst_change(
    stack: LocalResources,
) -> None:
    """Friday 17:00 (Paris) the contact writes, and again Tuesday 08:30; Monday is a holiday and the
    clocks go back on Sunday. The reply on Tuesday at 10:00 answers both, by hand:
    - first response, from Friday 17:00: 90 h of real time (89 h on the local clock, which went
      back an hour), 324 000 s; of business hours only Friday 17-18 and Tuesday 9-10: 7 200 s;
    - Friday's message: the same 324 000 s / 7 200 s, and it arrived inside business hours;
    - Tuesday's: 5 400 s (08:30 to 10:00), 3 600 s of business hours (9-10), arrived outside."""
    account_id = create_account("meta_cloud")
    assert call_api("PUT", f"/v1/accounts/{account_id}/business-hours", body=PARIS_WEEK).status == 200
    conversation_id = inbound(account_id, sent_at=FRIDAY_17H)
    assert inbound(account_id, sent_at=TUESDAY_8H30) == conversation_id
    conversation = ConversationStore().get(conversation_id)
    caller = Caller(user_id="alice", groups=frozenset({"admins"}))

    replies_module.reply(
        caller,
        conversation,
        ReplyRequest(text="Bonjour !"),
        stores=replies_module.default_stores(),
        now=TUESDAY_10H,
    )

    business = metrics(account_id)
    assert business["first_response"] == {"count": 1, "median_seconds": 7200.0, "p90_seconds": 7200.0}
    assert business["response"] == {"count": 2, "median_seconds": 5400.0, "p90_seconds": 7200.0}
    wall = metrics(account_id, business_hours="false")
    assert wall["first_response"] == {"count": 1, "median_seconds": 324000.0, "p90_seconds": 324000.0}
    assert wall["response"] == {"count": 2, "median_seconds": 164700.0, "p90_seconds": 324000.0}
    inside = metrics(account_id, arrived="inside")
    assert inside["response"] == {"count": 1, "median_seconds": 7200.0, "p90_seconds": 7200.0}
    outside = metrics(account_id, arrived="outside")
    assert outside["response"] == {"count": 1, "median_seconds": 3600.0, "p90_seconds": 3600.0}
    assert outside["first_response"] == {"count": 0, "median_seconds": None, "p90_seconds": None}

    # A second reply answers nothing new; an earlier period holds nothing.
    later = TUESDAY_10H + timedelta(minutes=5)
    replies_module.reply(
        caller,
        ConversationStore().get(conversation_id),
        ReplyRequest(text="…"),
        stores=replies_module.default_stores(),
        now=later,
    )
    assert metrics(account_id)["response"]["count"] == 2
    before_october = metrics(account_id, **{"from": "2026-09-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"})
    assert before_october["response"]["count"] == 0


def test_metrics_of_an_account_the_agent_may_not_see_are_404_and_a_bad_period_422(
    stack: LocalResources,
) -> None:
    account_id = create_account("meta_cloud")

    hidden = call_api(
        "GET", "/v1/metrics/response-times", query=f"account_id={account_id}", user="dave", admin=False
    )
    backwards = call_api(
        "GET", "/v1/metrics/response-times", query="from=2026-11-01T00:00:00Z&to=2026-10-01T00:00:00Z"
    )
    mine = call_api("GET", "/v1/metrics/response-times", user="dave", admin=False)

    assert (hidden.status, hidden.body["error"]["code"]) == (404, "account_not_found")
    assert (backwards.status, backwards.body["error"]["details"][0]["field"]) == (422, "from")
    unix = call_api("GET", "/v1/metrics/response-times", query="to=0.5")
    assert (unix.status, unix.body["error"]["details"][0]["field"]) == (422, "to")
    assert mine.status == 200
    assert mine.body["response"]["count"] == 0
