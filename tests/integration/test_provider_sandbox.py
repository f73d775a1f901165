"""The provider sandbox (`inbox dev --demo`): the product's own Meta and Twilio clients talk to it
over loopback HTTP, and its status callbacks pass the product's own webhook checks (signature,
payload). A pytest-httpserver plays the local stack's gateway that receives them."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from werkzeug import Request

from inbox.accounts.models import (
    Account,
    Channel,
    MetaCloudConfig,
    MetaCloudCredentials,
    Provider,
    TwilioConfig,
    TwilioCredentials,
)
from inbox.channels import send_message
from inbox.delivery.outcomes import CredentialsRejected, SendRefused
from inbox.local.sandbox import ProviderSandbox, Timing
from inbox.local.sandbox.callbacks import Callback, Callbacks
from inbox.whatsapp import meta_payload, meta_webhook, twilio_payload, twilio_webhook
from inbox.whatsapp.checks import check_meta, check_twilio
from inbox.whatsapp.meta_graph import GraphRefused, MetaGraph
from inbox.whatsapp.template_review import MetaTemplates, TwilioContent

APP_SECRET = "sandbox-app-secret"
META_TOKEN = "EAAG-demo-token"
PHONE_NUMBER_ID = "100000000000001"
WABA_ID = "200000000000001"
NUMBER = "+33180000000"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
TWILIO_NUMBER = "+33180000001"
CONTACT = "+33612345678"
FAST = Timing(sent=0.05, delivered=0.1, read=0.15, template_review=0.2)
STATUS_PATH = "/webhooks/whatsapp/twilio/acc-1/status"


@pytest.fixture
def sandbox(httpserver: HTTPServer) -> Iterator[ProviderSandbox]:
    """The sandbox with the demo's two accounts, posting its webhooks to `httpserver`."""
    httpserver.expect_request("/webhooks/whatsapp/meta", method="POST").respond_with_data("{}")
    httpserver.expect_request(STATUS_PATH, method="POST").respond_with_data("<Response/>")
    started = ProviderSandbox(meta_app_secret=APP_SECRET, timing=FAST)
    started.start()
    started.meta.add_number(
        phone_number_id=PHONE_NUMBER_ID,
        waba_id=WABA_ID,
        number=NUMBER,
        verified_name="Demo Parts",
        access_token=META_TOKEN,
    )
    started.twilio.add_account(sid=TWILIO_SID, auth_token=TWILIO_TOKEN, numbers={TWILIO_NUMBER})
    started.deliver_to(httpserver.url_for("/"))
    yield started
    started.stop()


def account(provider: Provider, config: dict[str, str], address: str) -> Account:
    now = datetime.now(UTC)
    return Account(
        id="acc-1",
        channel=Channel.WHATSAPP,
        provider=provider,
        name="Demo",
        address=address,
        config=config,
        created_at=now,
        updated_at=now,
    )


def meta_account() -> Account:
    return account(Provider.META_CLOUD, {"phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID}, NUMBER)


def twilio_account(address: str = TWILIO_NUMBER, sid: str = TWILIO_SID) -> Account:
    return account(Provider.TWILIO, {"account_sid": sid}, address)


def send_meta(sandbox: ProviderSandbox, token: str = META_TOKEN, text: str = "Bonjour !") -> str:
    return send_message(
        meta_account(),
        MetaCloudCredentials(access_token=SecretStr(token)),
        to=CONTACT,
        text=text,
        graph_url=sandbox.environment()["INBOX_META_GRAPH_URL"],
        twilio_api_url="http://unused.invalid",
    ).provider_message_id


def send_twilio(
    sandbox: ProviderSandbox, callback: str, *, token: str = TWILIO_TOKEN, account: Account | None = None
) -> str:
    return send_message(
        account or twilio_account(),
        TwilioCredentials(auth_token=SecretStr(token)),
        to=CONTACT,
        text="Bonjour !",
        graph_url="http://unused.invalid",
        twilio_api_url=sandbox.environment()["INBOX_TWILIO_API_URL"],
        status_callback=callback,
    ).provider_message_id


def posted(httpserver: HTTPServer, path: str, count: int, within: float = 5.0) -> list[Request]:
    """The first `count` requests the gateway got on `path`, waiting for them."""
    deadline = time.monotonic() + within
    while True:
        found = [request for request, _ in httpserver.log if request.path == path]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def meta_statuses(requests: list[Request]) -> list[tuple[str, str]]:
    """(provider message id, status) of each Meta webhook, checked as the product's webhook checks."""
    found = []
    for request in requests:
        raw = request.get_data()
        assert meta_webhook.signature_matches(raw, request.headers.get("x-hub-signature-256"), APP_SECRET)
        delivery = meta_webhook.read_delivery(
            raw, find_account=lambda _: meta_account(), received_at=datetime.now(UTC)
        )
        found += [(e.provider_message_id, e.status.value) for e in delivery.events]  # type: ignore[union-attr]
    return found


# Meta


def test_a_meta_send_is_answered_with_a_wamid_then_reported_sent_delivered_read_signed(
    sandbox: ProviderSandbox, httpserver: HTTPServer
) -> None:
    wamid = send_meta(sandbox)

    assert wamid.startswith("wamid.")
    statuses = meta_statuses(posted(httpserver, "/webhooks/whatsapp/meta", 3))
    assert statuses == [(wamid, "sent"), (wamid, "delivered"), (wamid, "read")]
    [sent] = sandbox.meta.sent
    assert sent.payload["text"] == {"body": "Bonjour !"}


def test_the_meta_answer_has_the_documented_shape(sandbox: ProviderSandbox) -> None:
    answer = httpx.post(
        f"{sandbox.environment()['INBOX_META_GRAPH_URL']}/{PHONE_NUMBER_ID}/messages",
        headers={"Authorization": f"Bearer {META_TOKEN}"},
        json={"messaging_product": "whatsapp", "to": CONTACT, "type": "text", "text": {"body": "Hi"}},
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": CONTACT, "wa_id": CONTACT.removeprefix("+")}]
    assert body["messages"][0]["id"].startswith("wamid.")


def test_meta_refuses_a_bad_token_as_meta_does_and_reports_nothing(
    sandbox: ProviderSandbox, httpserver: HTTPServer
) -> None:
    with pytest.raises(CredentialsRejected):
        send_meta(sandbox, token="EAAG-not-this-one")

    raw = httpx.post(
        f"{sandbox.environment()['INBOX_META_GRAPH_URL']}/{PHONE_NUMBER_ID}/messages",
        headers={"Authorization": "Bearer nope"},
        json={},
    )
    assert raw.status_code == 401
    assert raw.json()["error"]["code"] == 190
    assert raw.json()["error"]["type"] == "OAuthException"
    assert raw.json()["error"]["fbtrace_id"]
    time.sleep(0.3)
    assert posted(httpserver, "/webhooks/whatsapp/meta", 1, within=0) == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"to": CONTACT, "type": "text", "text": {"body": "Hi"}}, 100),  # no messaging_product
        ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "Hi"}}, 100),  # no to
        ({"messaging_product": "whatsapp", "to": CONTACT, "type": "text", "text": {}}, 100),
        ({"messaging_product": "whatsapp", "to": CONTACT, "type": "fax", "fax": {}}, 100),
        ({"messaging_product": "whatsapp", "to": "call me", "type": "text", "text": {"body": "Hi"}}, 131009),
        (
            {"messaging_product": "whatsapp", "to": CONTACT, "type": "template", "template": {"name": "x"}},
            100,
        ),
    ],
)
def test_meta_refuses_a_malformed_payload_with_its_error_shape(
    sandbox: ProviderSandbox, payload: dict[str, object], code: int
) -> None:
    answer = httpx.post(
        f"{sandbox.environment()['INBOX_META_GRAPH_URL']}/{PHONE_NUMBER_ID}/messages",
        headers={"Authorization": f"Bearer {META_TOKEN}"},
        json=payload,
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code
    assert sandbox.meta.sent == []


def test_a_text_over_4096_characters_is_a_refusal_the_product_records(sandbox: ProviderSandbox) -> None:
    with pytest.raises(SendRefused) as refused:
        send_meta(sandbox, text="x" * 4097)

    assert refused.value.code == "100"


def test_a_template_message_is_accepted(sandbox: ProviderSandbox) -> None:
    answer = httpx.post(
        f"{sandbox.environment()['INBOX_META_GRAPH_URL']}/{PHONE_NUMBER_ID}/messages",
        headers={"Authorization": f"Bearer {META_TOKEN}"},
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CONTACT,
            "type": "template",
            "template": {
                "name": "order_ready",
                "language": {"code": "fr"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "parameter_name": "customer_name", "text": "Jean"}],
                    }
                ],
            },
        },
    )

    assert answer.status_code == 200
    assert answer.json()["messages"][0]["message_status"] == "accepted"


def test_a_submitted_template_is_pending_then_approved_by_webhook_and_on_read(
    sandbox: ProviderSandbox, httpserver: HTTPServer
) -> None:
    templates = MetaTemplates(sandbox.environment()["INBOX_META_GRAPH_URL"], SecretStr(META_TOKEN))
    body = {
        "type": "BODY",
        "text": "Bonjour {{customer_name}}, votre commande est prête.",
        "example": {"body_text_named_params": [{"param_name": "customer_name", "example": "Jean"}]},
    }

    review = templates.create(
        WABA_ID,
        {
            "name": "order_ready",
            "language": "fr",
            "category": "UTILITY",
            "parameter_format": "named",
            "components": [body],
        },
    )

    assert review.status == "PENDING"
    [request] = posted(httpserver, "/webhooks/whatsapp/meta", 1)
    raw = request.get_data()
    assert meta_webhook.signature_matches(raw, request.headers.get("x-hub-signature-256"), APP_SECRET)
    [change] = meta_payload.changes(json.loads(raw))
    event = meta_payload.template_status_of(change, received_at=datetime.now(UTC))
    assert event is not None
    assert (event.provider_template_id, event.event) == (review.provider_template_id, "APPROVED")
    assert templates.review(review.provider_template_id).status == "APPROVED"


def test_a_template_without_examples_or_a_duplicate_is_refused_as_meta_refuses(
    sandbox: ProviderSandbox,
) -> None:
    url = f"{sandbox.environment()['INBOX_META_GRAPH_URL']}/{WABA_ID}/message_templates"
    headers = {"Authorization": f"Bearer {META_TOKEN}"}
    template = {
        "name": "hello",
        "language": "fr",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Bonjour {{customer_name}}"}],
    }

    no_example = httpx.post(url, headers=headers, json=template)
    template["components"] = [{"type": "BODY", "text": "Bonjour"}]
    first = httpx.post(url, headers=headers, json=template)
    again = httpx.post(url, headers=headers, json=template)

    assert no_example.status_code == 400
    assert no_example.json()["error"]["error_user_title"] == "Missing sample values"
    assert first.status_code == 200
    assert again.status_code == 400
    assert again.json()["error"]["error_subcode"] == 2388024


def test_the_meta_connection_check_sees_the_number_with_its_token_only(sandbox: ProviderSandbox) -> None:
    config = MetaCloudConfig(waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID)
    graph_url = sandbox.environment()["INBOX_META_GRAPH_URL"]

    good = check_meta(config, MetaCloudCredentials(access_token=SecretStr(META_TOKEN)), graph_url=graph_url)
    bad = check_meta(config, MetaCloudCredentials(access_token=SecretStr("other")), graph_url=graph_url)

    assert good.ok
    assert not bad.ok
    assert bad.error is not None
    assert bad.error.code == "auth"


def test_the_embedded_signup_calls_are_answered(sandbox: ProviderSandbox) -> None:
    graph = MetaGraph(sandbox.environment()["INBOX_META_GRAPH_URL"])

    token = graph.exchange_code(SecretStr("signup-code"), app_id="1", app_secret=APP_SECRET)
    numbers = graph.phone_numbers(WABA_ID, token)
    graph.subscribe_app(WABA_ID, token)
    graph.register_number(PHONE_NUMBER_ID, token, pin=SecretStr("123456"))

    assert [(n.id, n.verified_name) for n in numbers] == [(PHONE_NUMBER_ID, "Demo Parts")]
    with pytest.raises(GraphRefused) as mismatch:
        graph.register_number(PHONE_NUMBER_ID, token, pin=SecretStr("654321"))
    assert mismatch.value.code == "meta_pin_mismatch"
    with pytest.raises(GraphRefused) as used:
        graph.exchange_code(SecretStr("signup-code"), app_id="1", app_secret=APP_SECRET)
    assert used.value.code == "meta_code_refused"


def test_an_unknown_graph_path_gets_a_meta_error(sandbox: ProviderSandbox) -> None:
    base = sandbox.environment()["INBOX_META_GRAPH_URL"]
    headers = {"Authorization": f"Bearer {META_TOKEN}"}

    edge = httpx.get(f"{base}/{PHONE_NUMBER_ID}/nothing_here", headers=headers)
    node = httpx.post(f"{base}/not-an-id", headers=headers)

    assert (edge.status_code, edge.json()["error"]["code"]) == (400, 2500)
    assert (node.status_code, node.json()["error"]["code"], node.json()["error"]["error_subcode"]) == (
        400,
        100,
        33,
    )


# Twilio


def twilio_statuses(
    requests: list[Request], signed_url: str, token: str = TWILIO_TOKEN
) -> list[tuple[str, str]]:
    """(sid, status) of each status callback, checked as the product's webhook checks them."""
    found = []
    for request in requests:
        params = dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        assert twilio_webhook.signature_matches(
            signed_url, params, request.headers.get("x-twilio-signature"), token
        )
        status = twilio_payload.status_of(params, account_id="acc-1", occurred_at=datetime.now(UTC))
        assert status is not None
        found.append((status.provider_message_id, status.status.value))
    return found


def test_a_twilio_send_is_queued_then_reported_to_its_status_callback_signed(
    sandbox: ProviderSandbox, httpserver: HTTPServer
) -> None:
    callback = httpserver.url_for(STATUS_PATH)

    sid = send_twilio(sandbox, callback)

    assert sid.startswith("SM")
    assert len(sid) == 34
    statuses = twilio_statuses(posted(httpserver, STATUS_PATH, 3), callback)
    assert statuses == [(sid, "sent"), (sid, "delivered"), (sid, "read")]
    [sent] = sandbox.twilio.sent
    assert (sent.params["From"], sent.params["To"]) == (f"whatsapp:{TWILIO_NUMBER}", f"whatsapp:{CONTACT}")


def test_a_public_status_callback_url_is_posted_on_loopback_and_signed_as_given(
    sandbox: ProviderSandbox, httpserver: HTTPServer
) -> None:
    public = f"https://tunnel.example{STATUS_PATH}"

    sid = send_twilio(sandbox, public)

    assert twilio_statuses(posted(httpserver, STATUS_PATH, 3), public)[0] == (sid, "sent")


def test_the_twilio_answer_has_the_documented_shape(sandbox: ProviderSandbox) -> None:
    answer = httpx.post(
        f"{sandbox.environment()['INBOX_TWILIO_API_URL']}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
        auth=(TWILIO_SID, TWILIO_TOKEN),
        data={"From": f"whatsapp:{TWILIO_NUMBER}", "To": f"whatsapp:{CONTACT}", "Body": "Hi"},
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "queued"
    assert body["account_sid"] == TWILIO_SID
    assert body["uri"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{body['sid']}.json"


def test_twilio_refuses_a_bad_auth_token_or_a_number_not_the_accounts(sandbox: ProviderSandbox) -> None:
    with pytest.raises(CredentialsRejected):
        send_twilio(sandbox, "", token="f" * 32)
    with pytest.raises(SendRefused) as refused:
        send_twilio(sandbox, "", account=twilio_account(address="+14155550100"))

    assert refused.value.code == "63007"
    assert sandbox.twilio.sent == []


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": f"whatsapp:{TWILIO_NUMBER}", "Body": "Hi"}, 21604),
        ({"To": f"whatsapp:{CONTACT}", "Body": "Hi"}, 21603),
        ({"From": f"whatsapp:{TWILIO_NUMBER}", "To": f"whatsapp:{CONTACT}"}, 21619),
        ({"From": f"whatsapp:{TWILIO_NUMBER}", "To": CONTACT, "Body": "Hi"}, 21910),
        ({"From": f"whatsapp:{TWILIO_NUMBER}", "To": f"whatsapp:{CONTACT}", "Body": "x" * 1601}, 21617),
    ],
)
def test_twilio_refuses_a_malformed_request_with_its_error_shape(
    sandbox: ProviderSandbox, form: dict[str, str], code: int
) -> None:
    answer = httpx.post(
        f"{sandbox.environment()['INBOX_TWILIO_API_URL']}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
        auth=(TWILIO_SID, TWILIO_TOKEN),
        data=form,
    )

    assert answer.status_code == 400
    assert answer.json() == {
        "code": code,
        "message": answer.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }


def test_an_account_the_sandbox_was_not_told_about_signs_with_the_token_it_is_given(
    sandbox: ProviderSandbox, httpserver: HTTPServer
) -> None:
    other_sid, other_token = "AC" + "f" * 32, "e" * 32
    callback = httpserver.url_for(STATUS_PATH)

    sid = send_twilio(
        sandbox, callback, token=other_token, account=twilio_account(address="+14155550100", sid=other_sid)
    )

    assert twilio_statuses(posted(httpserver, STATUS_PATH, 1), callback, token=other_token)[0] == (
        sid,
        "sent",
    )


def test_twilio_content_templates_are_received_then_approved(sandbox: ProviderSandbox) -> None:
    content = TwilioContent(
        sandbox.environment()["INBOX_TWILIO_CONTENT_URL"], TWILIO_SID, SecretStr(TWILIO_TOKEN)
    )

    sid = content.create(
        {
            "friendly_name": "order_ready",
            "language": "fr",
            "types": {"twilio/text": {"body": "Bonjour {{1}}"}},
        }
    )
    asked = content.request_whatsapp_approval(sid, name="order_ready", category="UTILITY")
    time.sleep(FAST.template_review + 0.05)
    later = content.review(sid)

    assert sid.startswith("HX")
    assert asked.status == "received"
    assert later.status == "approved"


def test_the_twilio_connection_check_reads_the_account(sandbox: ProviderSandbox) -> None:
    api_url = sandbox.environment()["INBOX_TWILIO_API_URL"]
    config = TwilioConfig(account_sid=TWILIO_SID)

    good = check_twilio(config, TwilioCredentials(auth_token=SecretStr(TWILIO_TOKEN)), api_url=api_url)
    bad = check_twilio(config, TwilioCredentials(auth_token=SecretStr("x" * 32)), api_url=api_url)

    assert good.ok
    assert bad.error is not None
    assert bad.error.code == "auth"


# Configuration


def test_the_sandbox_leaves_a_provider_url_the_shell_set(
    sandbox: ProviderSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_META_GRAPH_URL", "https://graph.example/v21.0")
    monkeypatch.delenv("INBOX_TWILIO_API_URL", raising=False)
    monkeypatch.delenv("INBOX_TWILIO_CONTENT_URL", raising=False)

    sandbox.configure_environment()

    assert os.environ["INBOX_META_GRAPH_URL"] == "https://graph.example/v21.0"
    assert os.environ["INBOX_TWILIO_API_URL"] == sandbox.environment()["INBOX_TWILIO_API_URL"]
    assert os.environ["INBOX_TWILIO_CONTENT_URL"].startswith("http://127.0.0.1:")


def test_a_number_the_sandbox_was_not_told_about_takes_any_token(
    sandbox: ProviderSandbox, httpserver: HTTPServer
) -> None:
    answer = httpx.post(
        f"{sandbox.environment()['INBOX_META_GRAPH_URL']}/123456789/messages",
        headers={"Authorization": "Bearer whatever-the-admin-entered"},
        json={"messaging_product": "whatsapp", "to": CONTACT, "type": "text", "text": {"body": "Hi"}},
    )

    assert answer.status_code == 200
    [request] = posted(httpserver, "/webhooks/whatsapp/meta", 1)
    assert json.loads(request.get_data())["entry"][0]["changes"][0]["value"]["metadata"][
        "phone_number_id"
    ] == ("123456789")


def test_a_callback_the_gateway_could_not_take_is_posted_again(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    callbacks = Callbacks()
    callbacks.start()

    callbacks.schedule(0, Callback(httpserver.url_for("/hook"), b"{}", {}, "test"))

    try:
        deadline = time.monotonic() + 5
        while len(callbacks.answers) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [status for _, status in callbacks.answers] == [503, 200]
        assert len(posted(httpserver, "/hook", 2)) == 2
    finally:
        callbacks.stop()
