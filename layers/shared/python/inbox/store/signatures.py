"""Signatures in their account's partition.

- `sk = SIGNATURE#<id>`: the signature (without `default_for_account`, which is derived);
- `sk = SIGNATURE_DEFAULT`: which signature is the account's default (one fact in one place, so
  there is never more than one default: choosing a new default replaces the pointer);
- `sk = SIGNATURE_USER#<user id>`: the claim of a user on one signature of this account, so a user
  has at most one own signature per account (a second one is a 409).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from inbox.errors import Conflict, FieldProblem, Invalid, NotFound
from inbox.ids import new_id
from inbox.signatures import Signature, SignatureFields, SignatureUpdate, choose_signature
from inbox.store import dynamo, items
from inbox.store.accounts import account_key

DEFAULT = "SIGNATURE_DEFAULT"


def _partition(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def _key(account_id: str, signature_id: str) -> dict[str, str]:
    return items.key(_partition(account_id), f"SIGNATURE#{signature_id}")


def _user_claim(account_id: str, user_id: str) -> dict[str, str]:
    return items.key(_partition(account_id), f"SIGNATURE_USER#{user_id}")


class SignatureStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def for_account(self, account_id: str) -> list[Signature]:
        """The account's signatures, oldest first (one query)."""
        response = self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": _partition(account_id), ":prefix": "SIGNATURE"},
            ConsistentRead=True,
        )
        found = response["Items"]
        default_id = next((i["signature_id"] for i in found if i["sk"] == DEFAULT), None)
        return [
            items.from_item(Signature, {**item, "default_for_account": item["id"] == default_id})
            for item in found
            if item["sk"].startswith("SIGNATURE#")
        ]

    def get(self, account_id: str, signature_id: str) -> Signature:
        found = next((s for s in self.for_account(account_id) if s.id == signature_id), None)
        if found is None:
            raise NotFound(
                f"No signature with id {signature_id!r} on this account.", code="signature_not_found"
            )
        return found

    def signature_for(self, account_id: str, user_id: str | None) -> Signature | None:
        """What the sender appends to a message from `user_id` (None: automatic) on this account."""
        return choose_signature(self.for_account(account_id), user_id)

    def create(self, account_id: str, fields: SignatureFields, *, now: datetime | None = None) -> Signature:
        stamp = now or datetime.now(UTC)
        signature = Signature(
            id=new_id("sig"), account_id=account_id, created_at=stamp, updated_at=stamp, **fields.model_dump()
        )
        writes = [items.check(account_key(account_id), items.LIVE), self._put(signature, version=1)]
        claims = {len(writes) + i: (i, user) for i, user in enumerate(signature.user_ids)}
        writes += [self._claim(account_id, user, signature.id) for user in signature.user_ids]
        if signature.default_for_account:
            writes.append(self._point_default(signature))
        self._transact(writes, account_id, claims)
        return signature

    def update(
        self, account_id: str, signature_id: str, changes: SignatureUpdate, *, now: datetime | None = None
    ) -> Signature:
        for required in ("name", "html", "default_for_account", "user_ids"):
            if required in changes.model_fields_set and getattr(changes, required) is None:
                raise Invalid(
                    f"{required}: cannot be null",
                    code="validation_error",
                    details=[FieldProblem(required, "cannot be null")],
                )
        current = self.get(account_id, signature_id)
        version = int(
            self.table.get_item(Key=_key(account_id, signature_id), ConsistentRead=True)["Item"]["version"]
        )
        after = current.model_copy(
            update={**changes.model_dump(exclude_unset=True), "updated_at": now or datetime.now(UTC)}
        )
        if changes.user_ids is not None:
            after = after.model_copy(update={"user_ids": list(dict.fromkeys(changes.user_ids))})
        writes = [
            items.check(account_key(account_id), items.LIVE),
            self._put(after, version=version + 1, seen=version),
        ]
        writes += [
            items.delete(_user_claim(account_id, u)) for u in current.user_ids if u not in after.user_ids
        ]
        claims: dict[int, tuple[int, str]] = {}
        for position, user in enumerate(after.user_ids):
            if user not in current.user_ids:
                claims[len(writes)] = (position, user)
                writes.append(self._claim(account_id, user, signature_id))
        if after.default_for_account and not current.default_for_account:
            writes.append(self._point_default(after))
        elif current.default_for_account and not after.default_for_account:
            writes.append(
                items.delete(
                    items.key(_partition(account_id), DEFAULT),
                    condition="signature_id = :id",
                    values={":id": signature_id},
                )
            )
        self._transact(writes, account_id, claims)
        return after

    def delete(self, account_id: str, signature_id: str) -> None:
        current = self.get(account_id, signature_id)
        writes = [items.delete(_key(account_id, signature_id))]
        writes += [items.delete(_user_claim(account_id, u)) for u in current.user_ids]
        if current.default_for_account:
            writes.append(
                items.delete(
                    items.key(_partition(account_id), DEFAULT),
                    condition="signature_id = :id",
                    values={":id": signature_id},
                )
            )
        self._transact(writes, account_id, {})

    def _put(self, signature: Signature, *, version: int, seen: int | None = None) -> dict[str, Any]:
        item = items.to_item(
            signature.model_copy(update={"default_for_account": False}),
            **_key(signature.account_id, signature.id),
            version=version,
        )
        item.pop("default_for_account", None)
        if seen is None:
            return items.put(item, condition=items.NOT_EXISTS)
        return items.put(item, condition="version = :seen", values={":seen": seen})

    def _claim(self, account_id: str, user_id: str, signature_id: str) -> dict[str, Any]:
        return items.put(
            {**_user_claim(account_id, user_id), "signature_id": signature_id}, condition=items.NOT_EXISTS
        )

    def _point_default(self, signature: Signature) -> dict[str, Any]:
        return items.put(
            {**items.key(_partition(signature.account_id), DEFAULT), "signature_id": signature.id}
        )

    def _transact(
        self, writes: list[dict[str, Any]], account_id: str, claims: dict[int, tuple[int, str]]
    ) -> None:
        def conflict(reasons: list[str]) -> Exception:
            if reasons and reasons[0] == items.CONDITION_FAILED and "ConditionCheck" in writes[0]:
                return NotFound(f"No account with id {account_id!r}.", code="account_not_found")
            for index, (position, user) in claims.items():
                if reasons[index] == items.CONDITION_FAILED:
                    return Conflict(
                        f"User {user!r} already has a signature on this account.",
                        code="signature_user_taken",
                        details=[
                            FieldProblem(f"user_ids[{position}]", "already has a signature on this account")
                        ],
                    )
            return Conflict(
                "The signature was changed by someone else meanwhile; reload and retry.",
                code="signature_changed",
            )

        items.transact(self.table, writes, on_conflict=conflict)
