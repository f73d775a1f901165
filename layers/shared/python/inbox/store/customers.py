"""Customers in the table, and the lookups the router uses to recognise a contact.

- `pk = CUSTOMER#<id>, sk = CUSTOMER`: the customer (listed through `gsi1`: `CUSTOMERS` / id);
- `pk = CUSTOMER_EMAIL#<address>` / `CUSTOMER_PHONE#<E.164>`, `sk = CUSTOMER#<id>`: one lookup
  item per address and number, written in the same transaction as the customer, so finding the
  customers of a phone number is one query (an index, not a scan).

A deleted customer is removed with its lookups (a person may ask to be forgotten); conversations
keep the customer id they recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from inbox.directory import Customer, CustomerFields
from inbox.errors import Conflict, NotFound
from inbox.ids import new_id
from inbox.store import dynamo, items
from inbox.store.pagination import DEFAULT_LIMIT, Page

LIST_INDEX = "gsi1"
LIST_PARTITION = "CUSTOMERS"


def _key(customer_id: str) -> dict[str, str]:
    return items.key(f"CUSTOMER#{customer_id}", "CUSTOMER")


def _email_lookup(email: str, customer_id: str) -> dict[str, str]:
    return items.key(f"CUSTOMER_EMAIL#{email.lower()}", f"CUSTOMER#{customer_id}")


def _phone_lookup(phone: str, customer_id: str) -> dict[str, str]:
    return items.key(f"CUSTOMER_PHONE#{phone}", f"CUSTOMER#{customer_id}")


def _lookups(customer: Customer) -> list[dict[str, str]]:
    return [
        *(_email_lookup(e, customer.id) for e in customer.emails),
        *(_phone_lookup(p, customer.id) for p in customer.phones),
    ]


class CustomerStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def create(self, data: CustomerFields, *, now: datetime | None = None) -> Customer:
        stamp = now or datetime.now(UTC)
        customer = Customer(id=new_id("cus"), created_at=stamp, updated_at=stamp, **data.model_dump())
        writes = [items.put(self._item(customer, version=1), condition=items.NOT_EXISTS)]
        writes += [items.put({**lookup, "customer_id": customer.id}) for lookup in _lookups(customer)]
        items.transact(self.table, writes, on_conflict=lambda _: _changed())
        return customer

    def get(self, customer_id: str) -> Customer:
        return self.read(customer_id)[0]

    def read(self, customer_id: str) -> tuple[Customer, int]:
        item = self.table.get_item(Key=_key(customer_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"No customer with id {customer_id!r}.", code="customer_not_found")
        return items.from_item(Customer, item), int(item["version"])

    def page(self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Customer]:
        return items.query_page(
            self.table,
            Customer,
            partition=LIST_PARTITION,
            prefix="",
            cursor=cursor,
            limit=limit,
            index=LIST_INDEX,
        )

    def replace(self, customer_id: str, data: CustomerFields, *, now: datetime | None = None) -> Customer:
        current, version = self.read(customer_id)
        updated = current.model_copy(update={**data.model_dump(), "updated_at": now or datetime.now(UTC)})
        before, after = _lookups(current), _lookups(updated)
        writes = [
            items.put(
                self._item(updated, version=version + 1),
                condition="version = :seen",
                values={":seen": version},
            )
        ]
        writes += [items.delete(lookup) for lookup in before if lookup not in after]
        writes += [
            items.put({**lookup, "customer_id": customer_id}) for lookup in after if lookup not in before
        ]
        items.transact(self.table, writes, on_conflict=lambda _: _changed())
        return updated

    def delete(self, customer_id: str) -> None:
        current, version = self.read(customer_id)
        writes = [items.delete(_key(customer_id), condition="version = :seen", values={":seen": version})]
        writes += [items.delete(lookup) for lookup in _lookups(current)]
        items.transact(self.table, writes, on_conflict=lambda _: _changed())

    def find_by_email(self, email: str) -> list[Customer]:
        """The customers who have this email address (usually one)."""
        return self._find(f"CUSTOMER_EMAIL#{email.strip().lower()}")

    def find_by_phone(self, phone: str) -> list[Customer]:
        """The customers who have this E.164 number (usually one)."""
        return self._find(f"CUSTOMER_PHONE#{phone}")

    def _find(self, lookup_partition: str) -> list[Customer]:
        found = self.table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": lookup_partition}
        )["Items"]
        customers = []
        for lookup in found:
            item = self.table.get_item(Key=_key(lookup["customer_id"])).get("Item")
            if item is not None:
                customers.append(items.from_item(Customer, item))
        return customers

    def _item(self, customer: Customer, *, version: int) -> dict[str, Any]:
        return items.to_item(
            customer, **_key(customer.id), gsi1pk=LIST_PARTITION, gsi1sk=customer.id, version=version
        )


def _changed() -> Conflict:
    return Conflict(
        "The customer was changed by someone else meanwhile; reload and retry.", code="customer_changed"
    )
