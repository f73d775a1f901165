"""The WhatsApp webhooks through the webhook_whatsapp handler: signatures, normalization, the queue."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from twilio.request_validator import RequestValidator

import whatsapp_payloads as wa
from builders import call_api, call_webhook, webhook_event
from inbox.api import webhooks
from inbox.local.resources import LocalResources
from inbox.whatsapp import meta_webhook, twilio_webhook

META_PATH = "/webhooks/whatsapp/meta"
PUBLIC_URL = "https://hooks.example.com"
TWILIO_SID = "AC" + "ab" * 16


@pytest.fixture
def queue_url(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = next(
        u
        for logical_id, u in aws.queue_urls.items()
        if logical_id.startswith("InboundQueue") and "DeadLetters" not in logical_id
    )
    monkeypatch.setenv("INBOX_INBOUND_QUEUE_URL", url)
    monkeypatch.setenv("INBOX_PUBLIC_URL", PUBLIC_URL)
    webhooks.clear_caches()
    yield url
    webhooks.clear_caches()


@pytest.fixture
def app_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    secret = secrets.token_hex(16)
    monkeypatch.setenv("INBOX_META_APP_SECRET", secret)
    monkeypatch.setenv("INBOX_META_VERIFY_TOKEN", "verify-me")
    return secret


@pytest.fixture
def meta_account(queue_url: str) -> dict[str, Any]:
    return create_account(
        {
            "provider": "meta_cloud",
            "name": "WhatsApp FR",
            "address": "+15550783881",
            "config": {"waba_id": wa.WABA_ID, "phone_number_id": wa.PHONE_NUMBER_ID},
            "credentials": {"access_token": "meta-token"},
        }
    )


@pytest.fixture
def twilio_account(queue_url: str) -> tuple[dict[str, Any], str]:
    token = secrets.token_hex(16)
    account = create_account(
        {
            "provider": "twilio",
            "name": "WhatsApp US",
            "address": "+14155238886",
            "config": {"account_sid": TWILIO_SID},
            "credentials": {"auth_token": token},
        }
    )
    return account, token


def create_account(body: dict[str, Any]) -> dict[str, Any]:
    answer = call_api("POST", "/v1/accounts", body=body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(body: bytes, signature: str | None) -> dict[str, Any]:
    headers = {} if signature is None else {"x-hub-signature-256": signature}
    return call_webhook(webhook_event("POST", META_PATH, route_path=META_PATH, body=body, headers=headers))


def queued(url: str) -> list[dict[str, Any]]:
    """Everything on the inbound queue, in delivery order (each FIFO group in order)."""
    sqs = boto3.client("sqs")
    found = []
    for _ in range(100):
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"],
        )
        messages = received.get("Messages", [])
        if not messages:
            break
        for message in messages:
            found.append({"event": json.loads(message["Body"])["event"], **message["Attributes"]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


# Meta: the handshake and the signature


def test_the_meta_sdk_signature_vector() -> None:
    vector = "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221"

    assert meta_webhook.signature_matches(b"test", vector, "TEST_APP_SECRET")
    assert not meta_webhook.signature_matches(b"test ", vector, "TEST_APP_SECRET")


@pytest.mark.usefixtures("app_secret", "queue_url")
@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 200, "1158201444"),
        ("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", 403, None),
        ("hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1", 403, None),
        ("", 403, None),
    ],
)
def test_meta_subscription_handshake(query: str, status: int, body: str | None) -> None:
    answer = call_webhook(webhook_event("GET", META_PATH, route_path=META_PATH, query=query))

    assert answer["statusCode"] == status
    if body is not None:
        assert answer["body"] == body
        assert answer["headers"]["Content-Type"].startswith("text/plain")


def test_a_signed_message_is_normalized_and_queued(
    app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    payload = wa.meta_payload(messages=[wa.meta_text("Bonjour, où en est ma commande ?", id="wamid.ONE")])
    body = wa.meta_body(payload)

    answer = post_meta(body, sign(body, app_secret))

    assert answer["statusCode"] == 200
    (message,) = queued(queue_url)
    event = message["event"]
    assert event["kind"] == "message"
    assert event["account_id"] == meta_account["id"]
    assert event["provider_message_id"] == "wamid.ONE"
    contact = event["contact"]
    assert (contact["address"], contact["name"], contact["provider_id"]) == (
        "+33612345678",
        wa.CUSTOMER_NAME,
        wa.CUSTOMER_WA_ID,
    )
    assert event["text"] == "Bonjour, où en est ma commande ?"
    assert event["sent_at"].startswith("2025-02-12T00:43:44")


def test_escaped_unicode_verifies_only_over_the_raw_bytes(
    app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    payload = wa.meta_payload(messages=[wa.meta_text("Café crème, s'il vous plaît")])
    raw = wa.meta_body(payload)  # "Caf\\u00e9 cr\\u00e8me" on the wire
    reserialized = json.dumps(payload, ensure_ascii=False).encode()
    assert b"\\u00e9" in raw

    refused = post_meta(raw, sign(reserialized, app_secret))
    accepted = post_meta(raw, sign(raw, app_secret))

    assert refused["statusCode"] == 401
    assert accepted["statusCode"] == 200
    assert [m["event"]["text"] for m in queued(queue_url)] == ["Café crème, s'il vous plaît"]


@pytest.mark.parametrize("forge", ["missing", "garbage", "other secret", "sha1 prefix", "tampered body"])
def test_bad_signatures_are_401_and_nothing_is_queued(
    forge: str, app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    body = wa.meta_body(wa.meta_payload(messages=[wa.meta_text()]))
    signature = {
        "missing": None,
        "garbage": "sha256=nothex",
        "other secret": sign(body, "an-old-secret"),
        "sha1 prefix": sign(body, app_secret).replace("sha256=", "sha1="),
        "tampered body": sign(body + b" ", app_secret),
    }[forge]

    answer = post_meta(body, signature)

    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["error"]["code"] == "invalid_signature"
    assert queued(queue_url) == []


@pytest.mark.parametrize("body", [b"{not json", b'{"object": "page", "entry": []}', b'{"entry": 5}', b"[]"])
def test_a_signed_body_that_is_not_a_whatsapp_webhook_is_400(
    body: bytes, app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    answer = post_meta(body, sign(body, app_secret))

    assert answer["statusCode"] == 400
    assert queued(queue_url) == []


def test_a_body_over_3_mb_is_refused_before_anything_else(app_secret: str, queue_url: str) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": [], "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'

    answer = post_meta(body, sign(body, app_secret))

    assert answer["statusCode"] == 413
    assert queued(queue_url) == []


# Meta: what a POST holds


def test_the_same_payload_posted_three_times_is_queued_once(
    app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    body = wa.meta_body(
        wa.meta_payload(messages=[wa.meta_text("one", id="wamid.A"), wa.meta_text("two", id="wamid.B")])
    )

    answers = [post_meta(body, sign(body, app_secret)) for _ in range(3)]

    assert [a["statusCode"] for a in answers] == [200, 200, 200]
    events = [m["event"] for m in queued(queue_url)]
    assert [e["provider_message_id"] for e in events] == ["wamid.A", "wamid.B"]


def test_a_batched_payload_yields_every_event_in_order_per_contact(
    app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    contacts = ["33600000001", "33600000002"]
    changes = []
    for entry in range(2):
        for change in range(2):
            messages = [
                wa.meta_text(
                    f"{contacts[change]} e{entry}c{change}m{i}",
                    sender=contacts[change],
                    id=f"wamid.{entry}{change}{i}",
                )
                for i in range(3)
            ]
            statuses = [
                wa.meta_status(f"wamid.out{entry}{change}", "delivered", recipient_id=contacts[change])
            ]
            changes.append(
                (
                    entry,
                    wa.meta_change(
                        messages=messages,
                        statuses=statuses,
                        contacts=[wa.meta_contact(wa_id=contacts[change], name=f"Contact {change}")],
                    ),
                )
            )
    payload = wa.meta_envelope([wa.meta_entry(*[c for e, c in changes if e == entry]) for entry in range(2)])
    body = wa.meta_body(payload)

    assert post_meta(body, sign(body, app_secret))["statusCode"] == 200

    found = queued(queue_url)
    messages = [m["event"] for m in found if m["event"]["kind"] == "message"]
    statuses = [m["event"] for m in found if m["event"]["kind"] == "status"]
    assert len(messages) == 12
    assert len(statuses) == 4
    for change, contact in enumerate(contacts):
        texts = [e["text"] for e in messages if e["contact"]["address"] == f"+{contact}"]
        assert texts == [f"{contact} e{entry}c{change}m{i}" for entry in range(2) for i in range(3)]
    groups = {m["MessageGroupId"] for m in found if m["event"]["kind"] == "message"}
    assert len(groups) == 2


def test_statuses_and_template_reviews_are_queued_as_events(
    app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    statuses = wa.meta_payload(
        statuses=[
            wa.meta_status(
                "wamid.OUT", "failed", errors=[wa.meta_error(code=131047, title="Re-engagement message")]
            )
        ]
    )
    template = wa.meta_envelope(
        [wa.meta_entry(wa.meta_template_status(event="REJECTED", template_id=1234567890))]
    )
    for payload in (statuses, template):
        body = wa.meta_body(payload)
        assert post_meta(body, sign(body, app_secret))["statusCode"] == 200

    status, review = (m["event"] for m in queued(queue_url))

    assert (status["kind"], status["status"], status["error"]["code"]) == ("status", "failed", "131047")
    assert (review["kind"], review["provider_template_id"], review["event"]) == (
        "template_status",
        "1234567890",
        "REJECTED",
    )


def test_messages_for_an_unknown_or_deleted_number_are_acknowledged_not_queued(
    app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    unknown = wa.meta_body(wa.meta_payload(phone_number_id="999999999", messages=[wa.meta_text()]))
    assert post_meta(unknown, sign(unknown, app_secret))["statusCode"] == 200

    call_api("DELETE", f"/v1/accounts/{meta_account['id']}")
    webhooks.clear_caches()
    deleted = wa.meta_body(wa.meta_payload(messages=[wa.meta_text()]))
    assert post_meta(deleted, sign(deleted, app_secret))["statusCode"] == 200

    assert queued(queue_url) == []


def test_a_paused_accounts_messages_are_still_queued(
    app_secret: str, meta_account: dict[str, Any], queue_url: str
) -> None:
    call_api("POST", f"/v1/accounts/{meta_account['id']}/pause")
    body = wa.meta_body(wa.meta_payload(messages=[wa.meta_text()]))

    assert post_meta(body, sign(body, app_secret))["statusCode"] == 200
    assert len(queued(queue_url)) == 1


def test_without_an_app_secret_webhooks_are_refused_as_unavailable(
    queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INBOX_META_APP_SECRET", raising=False)
    body = wa.meta_body(wa.meta_payload(messages=[wa.meta_text()]))

    assert post_meta(body, sign(body, "anything"))["statusCode"] == 503
    assert queued(queue_url) == []


# Twilio


def twilio_post(
    account_id: str,
    params: dict[str, str],
    token: str | None,
    *,
    status: bool = False,
    signed_url: str | None = None,
) -> dict[str, Any]:
    path = f"/webhooks/whatsapp/twilio/{account_id}" + ("/status" if status else "")
    route = "/webhooks/whatsapp/twilio/{account_id}" + ("/status" if status else "")
    headers = {}
    if token is not None:
        headers["x-twilio-signature"] = RequestValidator(token).compute_signature(
            signed_url or PUBLIC_URL + path, params
        )
    return call_webhook(
        webhook_event(
            "POST",
            path,
            route_path=route,
            body=wa.twilio_form(params),
            headers=headers,
            path_parameters={"account_id": account_id},
            content_type="application/x-www-form-urlencoded",
        )
    )


def test_the_twilio_docs_signature_vector() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675310",
        "Digits": "1234",
        "From": "+14158675310",
        "To": "+18005551212",
    }

    assert twilio_webhook.signature_matches(
        "https://example.com/myapp.php?foo=1&bar=2", params, "L/OH5YylLD5NRKLltdqwSvS0BnU=", "12345"
    )
    assert not twilio_webhook.signature_matches(
        "https://example.com/myapp.php?foo=1&bar=3", params, "L/OH5YylLD5NRKLltdqwSvS0BnU=", "12345"
    )


def test_a_signed_twilio_message_is_queued_and_answered_with_empty_twiml(
    twilio_account: tuple[dict[str, Any], str], queue_url: str
) -> None:
    account, token = twilio_account
    params = wa.twilio_inbound(AccountSid=TWILIO_SID, Body="Hola, ¿tienen filtros?", SomeNewTwilioField="x")

    answer = twilio_post(account["id"], params, token)

    assert answer["statusCode"] == 200
    assert answer["body"] == twilio_webhook.EMPTY_TWIML
    assert answer["headers"]["Content-Type"] == "text/xml"
    (message,) = queued(queue_url)
    assert message["event"]["provider"] == "twilio"
    assert message["event"]["text"] == "Hola, ¿tienen filtros?"
    assert message["event"]["provider_message_id"] == params["MessageSid"]


@pytest.mark.parametrize("forge", ["missing", "other token", "internal url", "other account sid"])
def test_forged_twilio_requests_are_403_and_nothing_is_queued(
    forge: str, twilio_account: tuple[dict[str, Any], str], queue_url: str
) -> None:
    account, token = twilio_account
    params = wa.twilio_inbound(AccountSid="AC" + "cd" * 16 if forge == "other account sid" else TWILIO_SID)
    path = f"/webhooks/whatsapp/twilio/{account['id']}"

    answer = twilio_post(
        account["id"],
        params,
        {"missing": None, "other token": "not-the-token"}.get(forge, token),
        signed_url=f"https://internal.execute-api.test{path}" if forge == "internal url" else None,
    )

    assert answer["statusCode"] == 403
    assert queued(queue_url) == []


def test_twilio_status_callbacks_become_status_events(
    twilio_account: tuple[dict[str, Any], str], queue_url: str
) -> None:
    account, token = twilio_account
    params = wa.twilio_status("undelivered", ErrorCode="63016", AccountSid=TWILIO_SID)

    assert twilio_post(account["id"], params, token, status=True)["statusCode"] == 200

    (message,) = queued(queue_url)
    assert (message["event"]["status"], message["event"]["error"]["code"]) == ("failed", "63016")


def test_a_replaced_auth_token_is_used_at_once(
    twilio_account: tuple[dict[str, Any], str], queue_url: str
) -> None:
    account, old_token = twilio_account
    assert (
        twilio_post(account["id"], wa.twilio_inbound(AccountSid=TWILIO_SID), old_token)["statusCode"] == 200
    )
    new_token = secrets.token_hex(16)
    call_api("PATCH", f"/v1/accounts/{account['id']}", body={"credentials": {"auth_token": new_token}})

    assert (
        twilio_post(account["id"], wa.twilio_inbound(AccountSid=TWILIO_SID), new_token)["statusCode"] == 200
    )
    assert len(queued(queue_url)) == 2


def test_twilio_posts_for_an_unknown_account_are_acknowledged_not_queued(queue_url: str) -> None:
    answer = twilio_post("acc_unknown", wa.twilio_inbound(AccountSid=TWILIO_SID), "any")

    assert answer["statusCode"] == 200
    assert queued(queue_url) == []


def test_a_route_the_function_does_not_serve_is_a_404_in_the_api_shape(aws: LocalResources) -> None:
    # Given API Gateway sending the function a route it does not serve (a stack wired wrongly)
    event = webhook_event("POST", "/webhooks/whatsapp/other", route_path="/webhooks/whatsapp/other")

    answer = call_webhook(event)

    # Then the answer says so, in the API's error shape
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"]["code"] == "not_found"
    assert answer["headers"]["Content-Type"] == "application/json"
