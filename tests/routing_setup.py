"""A WhatsApp account with a team, a customer and routing settings, entered through the API."""

from __future__ import annotations

from typing import Any

from builders import call_api

CUSTOMER_PHONE = "+33612345678"


def create_routing_account() -> str:
    """Users alice, bob, carol (authorized) and dave (not); customer Jean Dupont (rep alice);
    Mon-Fri 9-18 Paris; an outside-hours auto-reply; rules: customer_sales_rep, then load_balanced."""
    for user_id in ("alice", "bob", "carol", "dave"):
        assert (
            call_api(
                "POST",
                "/v1/users",
                body={
                    "id": user_id,
                    "name": user_id.title(),
                    "email": f"{user_id}@example.com",
                    "brands": ["Bosch"] if user_id == "bob" else [],
                },
            ).status
            == 201
        )
    call_api(
        "POST",
        "/v1/customers",
        body={
            "name": "Jean Dupont",
            "company_name": "Garage Dupont",
            "sales_rep_id": "alice",
            "brand": "Bosch",
            "phones": [CUSTOMER_PHONE],
        },
    )
    account = call_api(
        "POST",
        "/v1/accounts",
        body={
            "provider": "meta_cloud",
            "name": "WhatsApp FR",
            "address": "+33180000000",
            "config": {"waba_id": "1", "phone_number_id": "2"},
            "credentials": {"access_token": "t"},
        },
    ).body
    settings: dict[str, Any] = {
        "authorized-users": {"user_ids": ["alice", "bob", "carol"]},
        "business-hours": {
            "timezone": "Europe/Paris",
            "days": {
                d: [{"start": "09:00", "end": "18:00"}]
                for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
        },
        "auto-reply": {
            "enabled": True,
            "cooldown_minutes": 60,
            "rules": [
                {
                    "trigger": "outside_business_hours",
                    "message": "Bonjour {{customer_name}}, nous sommes fermés.",
                }
            ],
        },
        "assignment-rules": {"rules": [{"type": "customer_sales_rep"}, {"type": "load_balanced"}]},
    }
    for setting, body in settings.items():
        assert call_api("PUT", f"/v1/accounts/{account['id']}/{setting}", body=body).status == 200
    return str(account["id"])
