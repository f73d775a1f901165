"""`inbox dev --demo`: a demo team, customers, labels and two WhatsApp accounts (Meta Cloud API and
Twilio), entered through the API as an admin would, their providers played by the sandbox."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any

import httpx

from inbox.local import tokens

if TYPE_CHECKING:
    from inbox.local.sandbox import ProviderSandbox

DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_WABA_ID = "200000000000001"
DEMO_NUMBER = "+33180000000"
DEMO_BUSINESS_NAME = "Demo Parts"
DEMO_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000001"
DEMO_TWILIO_NUMBER = "+33180000001"
# `inbox webhook twilio` signs with the auth token the demo prints under this name (Twilio's own).
TWILIO_AUTH_TOKEN_VARIABLE = "TWILIO_AUTH_TOKEN"  # noqa: S105 (a variable name, not a secret)

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


_WEEK = [{"start": "09:00", "end": "12:30"}, {"start": "14:00", "end": "18:00"}]
BUSINESS_HOURS = {
    "timezone": "Europe/Paris",
    "holiday_country": "FR",
    "days": {d: _WEEK for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
}
# Closed: the closed notice; open: a welcome on a contact's first message. Either way a contact's
# first message is answered, whatever the time of day.
AUTO_REPLY = {
    "enabled": True,
    "cooldown_minutes": 240,
    "rules": [
        {
            "trigger": "outside_business_hours",
            "message": "Hello {{customer_name}}, we are closed; we answer from 9:00.",
        },
        {
            "trigger": "first_contact",
            "message": "Hello {{customer_name}}, thank you for writing to {{business_name}}: "
            "one of us answers you shortly.",
        },
    ],
}


def configure_environment() -> None:
    """Give the demo the Meta app secrets webhooks need, unless the shell already has them."""
    for name in ("INBOX_META_APP_SECRET", "INBOX_META_VERIFY_TOKEN"):
        if not os.environ.get(name):
            os.environ[name] = secrets.token_hex(16)
        print(f"{name}={os.environ[name]}", flush=True)


def load(base_url: str, *, sandbox: ProviderSandbox | None = None) -> None:
    """Enter the demo through the API at `base_url`; the accounts' providers are `sandbox`'s."""
    meta_token = secrets.token_urlsafe(24)
    twilio_token = secrets.token_hex(16)
    if sandbox is not None:
        sandbox.meta.add_number(
            phone_number_id=DEMO_PHONE_NUMBER_ID,
            waba_id=DEMO_WABA_ID,
            number=DEMO_NUMBER,
            verified_name=DEMO_BUSINESS_NAME,
            access_token=meta_token,
        )
        sandbox.twilio.add_account(
            sid=DEMO_TWILIO_ACCOUNT_SID, auth_token=twilio_token, numbers={DEMO_TWILIO_NUMBER}
        )
    headers = {"Authorization": f"Bearer {tokens.mint('demo-admin', admin=True)}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for label in LABELS:
            client.post("/v1/labels", json=label).raise_for_status()
        for user in USERS:
            client.post("/v1/users", json=user).raise_for_status()
        for customer in CUSTOMERS:
            client.post("/v1/customers", json=customer).raise_for_status()
        meta = _account(
            client,
            {
                "provider": "meta_cloud",
                "name": "WhatsApp France",
                "address": DEMO_NUMBER,
                "config": {
                    "waba_id": DEMO_WABA_ID,
                    "phone_number_id": DEMO_PHONE_NUMBER_ID,
                    "business_name": DEMO_BUSINESS_NAME,
                },
                "credentials": {"access_token": meta_token},
            },
        )
        twilio = _account(
            client,
            {
                "provider": "twilio",
                "name": "WhatsApp France (Twilio)",
                "address": DEMO_TWILIO_NUMBER,
                "config": {"account_sid": DEMO_TWILIO_ACCOUNT_SID, "business_name": DEMO_BUSINESS_NAME},
                "credentials": {"auth_token": twilio_token},
            },
        )
    print(f"{TWILIO_AUTH_TOKEN_VARIABLE}={twilio_token}", flush=True)
    print(
        f"Demo loaded: WhatsApp account {meta} (Meta phone number id {DEMO_PHONE_NUMBER_ID}) and "
        f"{twilio} (Twilio {DEMO_TWILIO_NUMBER}, account SID {DEMO_TWILIO_ACCOUNT_SID})",
        flush=True,
    )


def _account(client: httpx.Client, account: dict[str, Any]) -> str:
    """Create the account with the demo's settings; its id."""
    created = client.post("/v1/accounts", json={**account, "sender_name": "Demo"})
    created.raise_for_status()
    account_id = str(created.json()["id"])
    client.put(
        f"/v1/accounts/{account_id}/authorized-users", json={"user_ids": [u["id"] for u in USERS]}
    ).raise_for_status()
    client.put(f"/v1/accounts/{account_id}/business-hours", json=BUSINESS_HOURS).raise_for_status()
    client.put(f"/v1/accounts/{account_id}/auto-reply", json=AUTO_REPLY).raise_for_status()
    client.put(
        f"/v1/accounts/{account_id}/assignment-rules",
        json={"rules": [{"type": "customer_sales_rep"}, {"type": "team_brand"}, {"type": "load_balanced"}]},
    ).raise_for_status()
    return account_id
