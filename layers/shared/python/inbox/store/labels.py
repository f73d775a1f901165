"""Labels in the table: one partition (`LABELS`), so the list is one query.

- `sk = LABEL#<id>`: the label; a deleted label keeps its item (conversations keep showing it).
- `sk = NAME#<name key>`: the claim on its name (case-insensitive uniqueness, see `Registry`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from inbox.errors import Conflict, FieldProblem
from inbox.ids import new_id
from inbox.labels import Label, LabelCreate, LabelUpdate, name_key
from inbox.store import dynamo, items
from inbox.store.pagination import DEFAULT_LIMIT, Page
from inbox.store.registry import Claim, Layout, Registry

PARTITION = "LABELS"


def _name_taken(label: Label) -> Conflict:
    return Conflict(
        f"A label named {label.name!r} already exists (names are compared without regard to case).",
        code="label_name_taken",
        details=[FieldProblem("name", "already used by another label")],
    )


LAYOUT: Layout[Label] = Layout(
    kind="label",
    item_key=lambda label_id: items.key(PARTITION, f"LABEL#{label_id}"),
    claims=lambda label: [Claim(items.key(PARTITION, f"NAME#{name_key(label.name)}"), _name_taken(label))],
    list_partition=PARTITION,
    list_prefix="LABEL#",
)


class LabelStore:
    def __init__(self, table: Any | None = None) -> None:
        self._labels = Registry(table if table is not None else dynamo.table(), Label, LAYOUT)

    def create(self, data: LabelCreate, *, now: datetime | None = None) -> Label:
        stamp = now or datetime.now(UTC)
        return self._labels.create(
            Label(id=new_id("lbl"), created_at=stamp, updated_at=stamp, **data.model_dump())
        )

    def get(self, label_id: str, *, include_deleted: bool = False) -> Label:
        """The label; a deleted one only when `include_deleted` (for conversations' history)."""
        return self._labels.get(label_id, include_deleted=include_deleted)

    def id_by_name(self, name: str) -> str | None:
        """The id of the live label with this name (any case), through its name claim."""
        return self._labels.owner(items.key(PARTITION, f"NAME#{name_key(name)}"))

    def page(self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Label]:
        return self._labels.page(cursor=cursor, limit=limit)

    def update(self, label_id: str, changes: LabelUpdate, *, now: datetime | None = None) -> Label:
        current, version = self._labels.read(label_id)
        updated = current.model_copy(
            update={**changes.model_dump(exclude_unset=True), "updated_at": now or datetime.now(UTC)}
        )
        return self._labels.replace(current, updated, version=version)

    def delete(self, label_id: str) -> None:
        self._labels.delete(label_id)
