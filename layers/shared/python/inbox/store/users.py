"""The team in the table: one partition (`USERS`), each user unique by email address.

- `sk = USER#<id>`: the user (a deleted user keeps its record: conversations keep its name);
- `sk = EMAIL#<address>`: the claim on the address;
- `sk = VERSION`: the team's version, a fresh token written with every change of a user, so a
  warm router knows at once whether its copy of the team is current (`store.versions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from inbox.directory import User, UserCreate, UserFields
from inbox.errors import Conflict, FieldProblem
from inbox.ids import new_id
from inbox.store import dynamo, items
from inbox.store.pagination import DEFAULT_LIMIT, Page
from inbox.store.registry import Claim, Layout, Registry

PARTITION = "USERS"


def _email_taken(user: User) -> Conflict:
    return Conflict(
        f"Another user already has the address {user.email}.",
        code="user_email_taken",
        details=[FieldProblem("email", "already used by another user")],
    )


def _id_taken(user: User) -> Conflict:
    return Conflict(
        f"A user with id {user.id!r} already exists.",
        code="user_exists",
        details=[FieldProblem("id", "already used by another user")],
    )


TEAM_VERSION_KEY = items.key(PARTITION, "VERSION")


def team_changed() -> dict[str, Any]:
    """The transaction write that gives the team a new version (a token, never a count: a token
    cannot come back, so a copy read at an old version is never taken for current)."""
    return {
        "Update": {
            "Key": TEAM_VERSION_KEY,
            "UpdateExpression": "SET version = :token",
            "ExpressionAttributeValues": {":token": new_id("team")},
        }
    }


LAYOUT: Layout[User] = Layout(
    kind="user",
    item_key=lambda user_id: items.key(PARTITION, f"USER#{user_id}"),
    claims=lambda user: [Claim(items.key(PARTITION, f"EMAIL#{user.email.lower()}"), _email_taken(user))],
    list_partition=PARTITION,
    list_prefix="USER#",
)


class UserStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()
        self._users = Registry(self.table, User, LAYOUT)

    def create(self, data: UserCreate, *, now: datetime | None = None) -> User:
        stamp = now or datetime.now(UTC)
        fields = data.model_dump(exclude={"id"})
        user = User(id=data.id or new_id("usr"), created_at=stamp, updated_at=stamp, **fields)
        existing = self.table.get_item(Key=LAYOUT.item_key(user.id), ConsistentRead=True).get("Item")
        if existing is not None:
            # Ids come from Cognito and are never reused, even after a deletion.
            raise _id_taken(user)
        return self._users.create(user, extra_writes=[team_changed()])

    def get(self, user_id: str, *, include_deleted: bool = False) -> User:
        return self._users.get(user_id, include_deleted=include_deleted)

    def page(self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[User]:
        return self._users.page(cursor=cursor, limit=limit)

    def replace(self, user_id: str, data: UserFields, *, now: datetime | None = None) -> User:
        current, version = self._users.read(user_id)
        updated = current.model_copy(update={**data.model_dump(), "updated_at": now or datetime.now(UTC)})
        return self._users.replace(current, updated, version=version, extra_writes=[team_changed()])

    def delete(self, user_id: str) -> None:
        self._users.delete(user_id, extra_writes=[team_changed()])

    def everyone(self) -> dict[str, User]:
        """Every current user by id, strongly consistent (the team is small: a few pages at most)."""
        found: dict[str, User] = {}
        cursor = None
        while True:
            page = self._users.page(cursor=cursor, limit=200, consistent=True)
            found.update({user.id: user for user in page.items})
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    def missing(self, user_ids: Iterable[str]) -> list[str]:
        """Which of `user_ids` are not (or no longer) in the directory, in the order given."""
        wanted = list(dict.fromkeys(user_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 100):
            keys = [LAYOUT.item_key(u) for u in wanted[start : start + 100]]
            request: dict[str, Any] = {self.table.name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self.table.meta.client.batch_get_item(RequestItems=request)
                found |= {
                    i["id"] for i in response["Responses"].get(self.table.name, []) if not i.get("deleted_at")
                }
                request = response.get("UnprocessedKeys") or {}
        return [u for u in wanted if u not in found]
