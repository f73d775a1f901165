"""The first steps of a new user, over HTTP against `inbox dev` (CONTRACT.md, issue "Foundation")."""

from __future__ import annotations

import uuid

import httpx
from twilio.request_validator import RequestValidator

from builders import META_APP_SECRET, META_VERIFY_TOKEN, bearer
from inbox.local import simulate


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:8]}"


def test_an_admin_creates_a_label_and_a_duplicate_is_refused(client: httpx.Client) -> None:
    admin = bearer("alice", admin=True)
    name = unique("Urgent")

    created = client.post("/v1/labels", json={"name": name, "color": "#E53935"}, headers=admin)
    duplicate = client.post("/v1/labels", json={"name": name.lower()}, headers=admin)

    assert created.status_code == 201
    assert created.json()["id"]
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "label_name_taken"
    listed = client.get("/v1/labels", params={"limit": 200}, headers=admin).json()["items"]
    assert name in [label["name"] for label in listed]


def test_a_bad_colour_is_a_422_naming_color(client: httpx.Client) -> None:
    answer = client.post(
        "/v1/labels", json={"name": "X", "color": "red"}, headers=bearer("alice", admin=True)
    )

    assert answer.status_code == 422
    assert [d["field"] for d in answer.json()["error"]["details"]] == ["color"]


def test_malformed_json_is_refused_without_a_500(client: httpx.Client) -> None:
    answer = client.post(
        "/v1/labels",
        content=b'{"name": ',
        headers={**bearer("alice", admin=True), "content-type": "application/json"},
    )

    assert answer.status_code in (400, 422)
    assert "error" in answer.json()


def test_no_expired_or_tampered_token_is_a_401(client: httpx.Client) -> None:
    expired = bearer("alice", admin=True, lifetime_seconds=-10)
    good = bearer("alice", admin=True)["Authorization"]
    tampered = {"Authorization": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")}

    for headers in ({}, expired, tampered, {"Authorization": "Bearer nonsense"}):
        answer = client.get("/v1/labels", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"]["code"] == "unauthorized"


def test_an_agent_cannot_create_labels(client: httpx.Client) -> None:
    answer = client.post("/v1/labels", json={"name": unique("Agent label")}, headers=bearer("bob"))

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"


def test_the_openapi_document_and_swagger_ui_are_served_without_a_token(client: httpx.Client) -> None:
    document = client.get("/openapi.json")
    docs = client.get("/docs")

    assert document.status_code == 200
    paths = document.json()["paths"]
    assert {"get", "post"} <= set(paths["/v1/labels"])
    assert {"get", "patch", "delete"} <= set(paths["/v1/labels/{label_id}"])
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_meta_webhooks_are_verified_and_accepted_without_a_token(client: httpx.Client) -> None:
    admin = bearer("alice", admin=True)
    phone_number_id = str(uuid.uuid4().int)[:15]
    account = client.post(
        "/v1/accounts",
        headers=admin,
        json={
            "provider": "meta_cloud",
            "name": unique("WhatsApp"),
            "address": f"+3318{phone_number_id[:7]}",
            "config": {"waba_id": "1", "phone_number_id": phone_number_id},
            "credentials": {"access_token": "t"},
        },
    )
    assert account.status_code == 201, account.text
    payload = simulate.meta_text_payload(
        phone_number_id=phone_number_id, waba_id="1", sender="+33612345678", name="Jean", text="Bonjour"
    )

    handshake = client.get(
        "/webhooks/whatsapp/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": "42"},
    )
    signed = simulate.post_signed(f"{client.base_url}/webhooks/whatsapp/meta", payload, META_APP_SECRET)
    forged = simulate.post_signed(f"{client.base_url}/webhooks/whatsapp/meta", payload, "not-the-secret")

    assert (handshake.status_code, handshake.text) == (200, "42")
    assert (signed.status_code, signed.json()) == (200, {"queued": 1})
    assert forged.status_code == 401


def test_twilio_webhooks_pass_the_gateway_base64_and_verify_against_the_public_url(
    client: httpx.Client,
) -> None:
    token = uuid.uuid4().hex
    account = client.post(
        "/v1/accounts",
        headers=bearer("alice", admin=True),
        json={
            "provider": "twilio",
            "name": unique("Twilio"),
            "address": f"+1415{str(uuid.uuid4().int)[:7]}",
            "config": {"account_sid": "AC" + "12" * 16},
            "credentials": {"auth_token": token},
        },
    ).json()
    path = f"/webhooks/whatsapp/twilio/{account['id']}"
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "12" * 16,
        "Body": "Hi",
        "From": "whatsapp:+14155550123",
        "To": "whatsapp:" + account["address"],
    }
    signature = RequestValidator(token).compute_signature(f"{client.base_url}{path}", params)

    answer = client.post(path, data=params, headers={"x-twilio-signature": signature})
    forged = client.post(path, data=params, headers={"x-twilio-signature": "bm9wZQ=="})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/xml"
    assert forged.status_code == 403


def test_unknown_paths_are_404(client: httpx.Client) -> None:
    assert client.get("/nowhere").status_code == 404
    assert client.get("/v1/nowhere", headers=bearer("alice", admin=True)).status_code == 404
