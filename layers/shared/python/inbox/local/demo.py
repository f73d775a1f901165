"""`inbox dev --demo`: a demo team, customers, labels and one WhatsApp (Meta Cloud API) account,
entered through the API as an admin would."""

from __future__ import annotations

import os
import secrets

import httpx

from inbox.local import tokens

DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_WABA_ID = "200000000000001"
DEMO_NUMBER = "+33180000000"

LABELS = [
    {"name": "Urgent", "color": "#E53935", "description": "Needs an answer today"},
    {"name": "Quote", "color": "#1E88E5", "description": "A quote was asked for or sent"},
    {"name": "Order", "color": "#43A047"},
    {"name": "Complaint", "color": "#FB8C00"},
]
USERS = [
    {"id": "alice", "name": "Alice Martin", "email": "alice@example.com", "brands": ["Bosch", "Valeo"]},
    {"id": "bob", "name": "Bob Durand", "email": "bob@example.com", "brands": ["Valeo"]},
    {"id": "chloe", "name": "Chloé Petit", "email": "chloe@example.com", "brands": ["Bosch"]},
]
CUSTOMERS = [
    {
        "name": "Jean Dupont",
        "company_name": "Garage Dupont",
        "sales_rep_id": "alice",
        "brand": "Bosch",
        "emails": ["jean@garage-dupont.example"],
        "phones": ["+33612345678"],
        "custom_fields": {"account_manager": "bob"},
    },
    {
        "name": "Marie Leroy",
        "company_name": "Auto Leroy",
        "sales_rep_id": "bob",
        "brand": "Valeo",
        "emails": ["marie@autoleroy.example"],
        "phones": ["+33698765432"],
    },
]


def configure_environment() -> None:
    """Give the demo the Meta app secrets webhooks need, unless the shell already has them."""
    for name in ("INBOX_META_APP_SECRET", "INBOX_META_VERIFY_TOKEN"):
        if not os.environ.get(name):
            os.environ[name] = secrets.token_hex(16)
        print(f"{name}={os.environ[name]}", flush=True)


def load(base_url: str) -> None:
    headers = {"Authorization": f"Bearer {tokens.mint('demo-admin', admin=True)}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for label in LABELS:
            client.post("/v1/labels", json=label).raise_for_status()
        for user in USERS:
            client.post("/v1/users", json=user).raise_for_status()
        for customer in CUSTOMERS:
            client.post("/v1/customers", json=customer).raise_for_status()
        account = client.post(
            "/v1/accounts",
            json={
                "provider": "meta_cloud",
                "name": "WhatsApp France",
                "address": DEMO_NUMBER,
                "sender_name": "Demo",
                "config": {
                    "waba_id": DEMO_WABA_ID,
                    "phone_number_id": DEMO_PHONE_NUMBER_ID,
                    "business_name": "Demo Parts",
                },
                "credentials": {"access_token": secrets.token_urlsafe(24)},
            },
        )
        account.raise_for_status()
        account_id = account.json()["id"]
        client.put(
            f"/v1/accounts/{account_id}/authorized-users", json={"user_ids": [u["id"] for u in USERS]}
        ).raise_for_status()
        week = [{"start": "09:00", "end": "12:30"}, {"start": "14:00", "end": "18:00"}]
        client.put(
            f"/v1/accounts/{account_id}/business-hours",
            json={
                "timezone": "Europe/Paris",
                "holiday_country": "FR",
                "days": {d: week for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
            },
        ).raise_for_status()
        client.put(
            f"/v1/accounts/{account_id}/auto-reply",
            json={
                "enabled": True,
                "cooldown_minutes": 240,
                "rules": [
                    {
                        "trigger": "outside_business_hours",
                        "message": "Hello {{customer_name}}, we are closed; we answer from 9:00.",
                    }
                ],
            },
        ).raise_for_status()
        client.put(
            f"/v1/accounts/{account_id}/assignment-rules",
            json={
                "rules": [
                    {"type": "customer_sales_rep"},
                    {"type": "team_brand"},
                    {"type": "load_balanced"},
                ]
            },
        ).raise_for_status()
    print(
        f"Demo loaded: WhatsApp account {account_id} (Meta phone number id {DEMO_PHONE_NUMBER_ID})",
        flush=True,
    )
