"""Templates in the table (see `Registry`: claims, versions, tombstones).

- `pk = TEMPLATE#<id>, sk = TEMPLATE`: the template; listed through `gsi1`
  (`ACCOUNT_TEMPLATES#<account>` / id) and `gsi3` (`TEMPLATES` / id); while its approval is pending
  it is also in `gsi2` (`TEMPLATES_PENDING` / id), which the periodic sync reads (a sparse index).
- Claims: `TEMPLATE_NAME#<account>#<name key>` (names unique per account, any case) and, once the
  provider knows it, `PROVIDER_TEMPLATE#<provider id>` (how a review webhook finds its template).
"""

from __future__ import annotations

from typing import Any

from inbox.errors import Conflict, FieldProblem
from inbox.labels import name_key
from inbox.store import dynamo, items
from inbox.store.pagination import DEFAULT_LIMIT, Page, encode_cursor
from inbox.store.registry import Claim, Layout, Registry
from inbox.templates.models import ApprovalStatus, Template, TemplateType

PENDING = "TEMPLATES_PENDING"


def _claims(template: Template) -> list[Claim]:
    claims = [
        Claim(
            items.key(f"TEMPLATE_NAME#{template.account_id}#{name_key(template.name)}", "CLAIM"),
            Conflict(
                f"This account already has a template named {template.name!r}.",
                code="template_name_taken",
                details=[FieldProblem("name", "already used by another template of this account")],
            ),
        )
    ]
    if template.approval.provider_template_id:
        claims.append(
            Claim(
                provider_key(template.approval.provider_template_id),
                Conflict("Another template holds this provider template id.", code="template_changed"),
            )
        )
    return claims


def provider_key(provider_template_id: str) -> dict[str, str]:
    return items.key(f"PROVIDER_TEMPLATE#{provider_template_id}", "CLAIM")


def _index_keys(template: Template) -> dict[str, str]:
    keys = {
        "gsi1pk": f"ACCOUNT_TEMPLATES#{template.account_id}",
        "gsi1sk": template.id,
        "gsi3pk": "TEMPLATES",
        "gsi3sk": template.id,
    }
    if template.approval.status is ApprovalStatus.PENDING:
        keys.update(gsi2pk=PENDING, gsi2sk=template.id)
    return keys


LAYOUT: Layout[Template] = Layout(
    kind="template",
    item_key=lambda template_id: items.key(f"TEMPLATE#{template_id}", "TEMPLATE"),
    claims=_claims,
    list_partition="TEMPLATES",
    list_prefix="",
    list_index="gsi3",
    index_keys=_index_keys,
)


class TemplateStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()
        self.templates = Registry(self.table, Template, LAYOUT)

    def create(self, template: Template) -> Template:
        return self.templates.create(template)

    def read(self, template_id: str) -> tuple[Template, int]:
        return self.templates.read(template_id)

    def get(self, template_id: str) -> Template:
        return self.templates.get(template_id)

    def replace(self, before: Template, after: Template, *, version: int) -> Template:
        return self.templates.replace(before, after, version=version)

    def delete(self, template_id: str) -> Template:
        return self.templates.delete(template_id)

    def by_provider_template_id(self, provider_template_id: str) -> Template | None:
        owner = self.templates.owner(provider_key(provider_template_id))
        return None if owner is None else self.get(owner)

    def page(
        self,
        *,
        account_id: str | None = None,
        label: str | None = None,
        type: TemplateType | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Template]:
        index, partition = (
            ("gsi1", f"ACCOUNT_TEMPLATES#{account_id}") if account_id else ("gsi3", "TEMPLATES")
        )
        query: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": f"{index}pk = :pk",
            "ExpressionAttributeValues": {":pk": partition},
            "Limit": limit,
        }
        conditions = ["attribute_not_exists(deleted_at)"]
        if label is not None:
            conditions.append("contains(labels, :label)")
            query["ExpressionAttributeValues"][":label"] = label
        if type is not None:
            conditions.append("#type = :type")
            query["ExpressionAttributeValues"][":type"] = type.value
            query["ExpressionAttributeNames"] = {"#type": "type"}
        query["FilterExpression"] = " AND ".join(conditions)
        start = items.decode_start(cursor, index)
        if start:
            query["ExclusiveStartKey"] = start
        response = self.table.query(**query)
        return Page[Template](
            items=[items.from_item(Template, i) for i in response.get("Items", [])],
            next_cursor=encode_cursor(response.get("LastEvaluatedKey")),
        )

    def pending(self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Template]:
        """Templates whose review is pending (the sparse `gsi2`), for the periodic sync."""
        return items.query_page(
            self.table,
            Template,
            partition=PENDING,
            prefix="",
            cursor=cursor,
            limit=limit,
            index="gsi2",
            live_only=True,
        )
