"""A customer writes on WhatsApp outside business hours: the whole flow on the local stack, from
Meta's signed webhook to the auto-reply reaching (a stand-in of) Meta's Graph API."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from pytest_httpserver import HTTPServer

from builders import META_APP_SECRET, bearer
from inbox.local import simulate


def wait_for(check: Any, *, within: float = 30) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError("nothing happened in time")


def test_an_outside_hours_message_is_routed_assigned_and_answered_once(
    client: httpx.Client, httpserver: HTTPServer
) -> None:
    admin = bearer("admin", admin=True)
    run = uuid.uuid4().hex[:8]
    alice, dave = f"alice-{run}", f"dave-{run}"
    for user in (alice, dave):
        client.post(
            "/v1/users", headers=admin, json={"id": user, "name": user, "email": f"{user}@example.com"}
        )
    phone = f"+336{uuid.uuid4().int % 10**8:08d}"
    client.post(
        "/v1/customers", headers=admin, json={"name": "Jean Dupont", "sales_rep_id": alice, "phones": [phone]}
    ).raise_for_status()
    phone_number_id = str(uuid.uuid4().int)[:15]
    account = client.post(
        "/v1/accounts",
        headers=admin,
        json={
            "provider": "meta_cloud",
            "name": f"WhatsApp {run}",
            "address": f"+3318{phone_number_id[:7]}",
            "config": {"waba_id": "1", "phone_number_id": phone_number_id},
            "credentials": {"access_token": "t0k"},
        },
    ).json()
    for setting, body in {
        "authorized-users": {"user_ids": [alice]},
        "business-hours": {"timezone": "Europe/Paris", "days": {}},  # never open: always outside hours
        "auto-reply": {
            "enabled": True,
            "rules": [
                {
                    "trigger": "outside_business_hours",
                    "message": "Bonjour {{customer_name}}, nous sommes fermés.",
                }
            ],
        },
        "assignment-rules": {"rules": [{"type": "customer_sales_rep"}]},
    }.items():
        client.put(f"/v1/accounts/{account['id']}/{setting}", headers=admin, json=body).raise_for_status()
    httpserver.expect_request(f"/v21.0/{phone_number_id}/messages", method="POST").respond_with_json(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": phone, "wa_id": phone[1:]}],
            "messages": [{"id": f"wamid.reply.{run}"}],
        }
    )

    payload = simulate.meta_text_payload(
        phone_number_id=phone_number_id,
        waba_id="1",
        sender=phone,
        name="Jean",
        text="Avez-vous des disques de frein ?",
    )
    assert simulate.post_signed(
        f"{client.base_url}/webhooks/whatsapp/meta", payload, META_APP_SECRET
    ).is_success

    listed = wait_for(
        lambda: client.get(
            "/v1/conversations", headers=bearer(alice), params={"account_id": account["id"]}
        ).json()["items"]
    )
    (conversation,) = listed
    assert conversation["assignee_id"] == alice
    assert client.get(f"/v1/conversations/{conversation['id']}", headers=bearer(dave)).status_code == 404
    assert (
        client.get(
            "/v1/conversations", headers=bearer(dave), params={"account_id": account["id"]}
        ).status_code
        == 404
    )

    sent = wait_for(lambda: [r for r, _ in httpserver.log if r.path.endswith("/messages")])
    time.sleep(3)  # a second send would have arrived by now
    requests = [r for r, _ in httpserver.log if r.path.endswith("/messages")]
    assert len(requests) == len(sent) == 1
    body = requests[0].get_json()
    assert (body["to"], body["text"]["body"]) == (phone, "Bonjour Jean Dupont, nous sommes fermés.")
    assert requests[0].headers["Authorization"] == "Bearer t0k"
    messages = wait_for(
        lambda: [
            m
            for m in client.get(
                f"/v1/conversations/{conversation['id']}/messages", headers=bearer(alice)
            ).json()["items"]
            if m["direction"] == "out" and m["status"] == "sent"
        ]
    )
    assert messages[0]["provider_message_id"] == f"wamid.reply.{run}"
