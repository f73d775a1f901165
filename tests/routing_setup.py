"""A WhatsApp account with a team, a customer and routing settings, entered through the API; and
what routing tests read back."""

from __future__ import annotations

from typing import Any

from builders import call_api
from inbox.conversations import RoutingRecord
from inbox.delivery.queue import OutboundQueue, OutboundRequest
from inbox.routing import consumer
from inbox.store import dynamo, items
from inbox.store.conversations import conversation_key

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


class RecordingQueue(OutboundQueue):
    """The outbound queue as a list: what the router handed over, in order."""

    def __init__(self) -> None:
        self.sent: list[OutboundRequest] = []

    def send(self, request: OutboundRequest) -> None:
        self.sent.append(request)


def read_back(conversation_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The conversation and its messages as the API answers them (both must be 200)."""
    conversation = call_api("GET", f"/v1/conversations/{conversation_id}")
    messages = call_api("GET", f"/v1/conversations/{conversation_id}/messages", query="limit=100")
    assert conversation.status == 200, conversation.body
    assert messages.status == 200, messages.body
    return conversation.body, messages.body["items"]


def stored_conversation(conversation_id: str) -> dict[str, Any]:
    """The conversation's item as the table holds it (numbers back to int and float)."""
    return dict(items.plain(dynamo.table().get_item(Key=conversation_key(conversation_id))["Item"]))


def assert_lossless(stored: dict[str, Any]) -> None:
    """The stored routing record is exactly what the model reads of it: no fact the model drops."""
    record = stored.get("routing", {})
    assert RoutingRecord.model_validate(record).model_dump(mode="json", exclude_none=True) == record


def start_afresh() -> None:
    """An empty table, and routers that forget what they read (between Hypothesis' examples, which
    share one moto: it copies the whole table in every transaction, so a table that grew over the
    examples would make each slower than the last)."""
    table = dynamo.table()
    scan: dict[str, Any] = {"ProjectionExpression": "pk, sk"}
    with table.batch_writer() as batch:
        while True:
            page = table.scan(**scan)
            for key in page["Items"]:
                batch.delete_item(Key=key)
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    consumer.clear_caches()
