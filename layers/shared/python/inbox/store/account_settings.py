"""An account's settings documents, each one item in the account's partition:
`AUTHORIZED_USERS`, `BUSINESS_HOURS`, `AUTO_REPLY`, `ASSIGNMENT_RULES`.

Writes are conditioned on the account being alive, so settings never outlive a deleted account's
end by a race, and move the account item's `version` in the same transaction: that version then
versions the whole snapshot (the account's own changes move it too), which is how a warm router
knows its copy is current (`store.versions`). `snapshot` reads the account and all its settings in
one strongly consistent query (the router's view of an account).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from inbox.accounts.models import Account
from inbox.business_hours import BusinessHours
from inbox.errors import NotFound
from inbox.model import Model
from inbox.routing.assignment_rules import AssignmentRules
from inbox.routing.auto_reply import AutoReplySettings
from inbox.store import dynamo, items
from inbox.store.accounts import account_key

S = TypeVar("S", bound=BaseModel)


class AuthorizedUsers(Model):
    """The team members who may see and answer this account's conversations (admins see all)."""

    model_config = ConfigDict(extra="forbid")

    user_ids: list[str] = Field(default_factory=list, max_length=500)


SORT_KEY: dict[type[BaseModel], str] = {
    AuthorizedUsers: "AUTHORIZED_USERS",
    BusinessHours: "BUSINESS_HOURS",
    AutoReplySettings: "AUTO_REPLY",
    AssignmentRules: "ASSIGNMENT_RULES",
}


def default(kind: type[S]) -> S:
    """What an account has before an admin configures it: nobody authorized but admins, always
    open (so nothing is "outside business hours"), no auto-reply, no rules (unassigned)."""
    if kind is BusinessHours:
        return BusinessHours.always_open()  # type: ignore[return-value]
    return kind()


class AccountSnapshot(Model):
    account: Account
    authorized_users: AuthorizedUsers
    business_hours: BusinessHours
    auto_reply: AutoReplySettings
    assignment_rules: AssignmentRules


class AccountSettingsStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def read(self, account_id: str, kind: type[S]) -> S:
        """The account's settings of this kind (its default when never set); 404 if no account."""
        account = self.table.get_item(Key=account_key(account_id), ConsistentRead=True).get("Item")
        if account is None or account.get("deleted_at"):
            raise _no_account(account_id)
        item = self.table.get_item(
            Key=items.key(f"ACCOUNT#{account_id}", SORT_KEY[kind]), ConsistentRead=True
        ).get("Item")
        return default(kind) if item is None else items.from_item(kind, item)

    def authorized_accounts(self, user_id: str) -> list[str]:
        """The accounts a user is authorized for: the index `USER_ACCOUNTS#<user>` proposes them,
        each account's own list confirms (the index is written after the list, so it may lag)."""
        found = self.table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"USER_ACCOUNTS#{user_id}"}
        )["Items"]
        proposed = [item["sk"].removeprefix("ACCOUNT#") for item in found]
        return [a for a in proposed if self._authorizes(a, user_id)]

    def authorizes(self, account_id: str, user_id: str) -> bool:
        """Whether the user is on the account's authorized list (the account must be live)."""
        return self._authorizes(account_id, user_id)

    def _authorizes(self, account_id: str, user_id: str) -> bool:
        try:
            return user_id in self.read(account_id, AuthorizedUsers).user_ids
        except NotFound:
            return False

    def write(self, account_id: str, value: S) -> S:
        key = items.key(f"ACCOUNT#{account_id}", SORT_KEY[type(value)])
        before = self.read(account_id, AuthorizedUsers) if isinstance(value, AuthorizedUsers) else None
        account_changed = {
            "Update": {
                "Key": account_key(account_id),
                "UpdateExpression": "ADD version :one",
                "ConditionExpression": items.LIVE,
                "ExpressionAttributeValues": {":one": 1},
            }
        }
        items.transact(
            self.table,
            [account_changed, items.put(items.to_item(value, **key))],
            on_conflict=lambda _: _no_account(account_id),
        )
        if isinstance(value, AuthorizedUsers) and before is not None:
            self._index_users(account_id, before.user_ids, value.user_ids)
        return value

    def _index_users(self, account_id: str, before: list[str], after: list[str]) -> None:
        with self.table.batch_writer() as batch:
            for user_id in set(before) - set(after):
                batch.delete_item(Key=items.key(f"USER_ACCOUNTS#{user_id}", f"ACCOUNT#{account_id}"))
            for user_id in set(after) - set(before):
                batch.put_item(Item=items.key(f"USER_ACCOUNTS#{user_id}", f"ACCOUNT#{account_id}"))

    def snapshot(self, account_id: str) -> AccountSnapshot:
        """The account and all its settings as they are now, in one strongly consistent query of
        its partition."""
        found: dict[str, dict[str, Any]] = {}
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": f"ACCOUNT#{account_id}"},
            "ConsistentRead": True,
        }
        while True:
            response = self.table.query(**query)
            found.update({item["sk"]: item for item in response["Items"]})
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        account = found.get("ACCOUNT")
        if account is None or account.get("deleted_at"):
            raise _no_account(account_id)

        def part(kind: type[S]) -> S:
            item = found.get(SORT_KEY[kind])
            return default(kind) if item is None else items.from_item(kind, item)

        return AccountSnapshot(
            account=items.from_item(Account, account),
            authorized_users=part(AuthorizedUsers),
            business_hours=part(BusinessHours),
            auto_reply=part(AutoReplySettings),
            assignment_rules=part(AssignmentRules),
        )


def _no_account(account_id: str) -> NotFound:
    return NotFound(f"No account with id {account_id!r}.", code="account_not_found")
