"""What happens to a template: created (and submitted for review on WhatsApp), edited, resubmitted,
rendered, deleted.

Editing an approved or pending WhatsApp template: its name, labels and type may change (they are
ours); its content, language, category and examples may not (Meta limits edits of approved
templates and reviews each one again, and a template must not change under messages already
sent with it): 409 `template_locked`, create a new template instead. A rejected template (or one
whose submission failed) may be edited, and is resubmitted at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from inbox.accounts.models import Account
from inbox.errors import Conflict, FieldProblem, Invalid, NotFound
from inbox.ids import new_id
from inbox.store.accounts import AccountStore
from inbox.store.templates import TemplateStore
from inbox.templates import approval as template_approval
from inbox.templates.models import (
    Approval,
    ApprovalStatus,
    Template,
    TemplateFields,
    TemplateUpdate,
    check_fields_for,
    variables_of,
)
from inbox.templates.rendering import Rendered, render

# What a review covers: changing any of these needs a new review.
REVIEWED_FIELDS = ("content", "language", "category", "examples")
LOCKED = {ApprovalStatus.APPROVED, ApprovalStatus.PENDING, ApprovalStatus.PAUSED, ApprovalStatus.DISABLED}
RESUBMITTABLE = {ApprovalStatus.REJECTED, ApprovalStatus.ERROR}

Submit = Callable[[Template, Account], Approval]


def _submit(template: Template, account: Account) -> Approval:
    return template_approval.submit(template, account, now=datetime.now(UTC))


def create_template(
    fields: TemplateFields,
    *,
    accounts: AccountStore,
    templates: TemplateStore,
    submit: Submit = _submit,
    now: datetime | None = None,
) -> Template:
    account = _account(accounts, fields.account_id)
    check_fields_for(account.channel, fields)
    variables = _checked_variables(fields.content, fields.examples)
    stamp = now or datetime.now(UTC)
    reviewed = template_approval.needs_review(account.provider)
    template = Template(
        id=new_id("tpl"),
        variables=variables,
        created_at=stamp,
        updated_at=stamp,
        approval=Approval(status=ApprovalStatus.PENDING if reviewed else ApprovalStatus.NOT_REQUIRED),
        **fields.model_dump(),
    )
    if reviewed:
        template_approval.lint(template, account.provider)
    templates.create(template)
    return _submitted(template, account, templates, submit) if reviewed else template


def update_template(
    template_id: str,
    changes: TemplateUpdate,
    *,
    accounts: AccountStore,
    templates: TemplateStore,
    submit: Submit = _submit,
    now: datetime | None = None,
) -> Template:
    for required in ("name", "content", "type"):
        if required in changes.model_fields_set and getattr(changes, required) is None:
            raise Invalid(
                f"{required}: cannot be null",
                code="validation_error",
                details=[FieldProblem(required, "cannot be null")],
            )
    current, version = templates.read(template_id)
    account = _account(accounts, current.account_id)
    update = changes.model_dump(exclude_unset=True)
    reviewed_change = any(
        name in update and update[name] != getattr(current, name) for name in REVIEWED_FIELDS
    )
    reviewed = template_approval.needs_review(account.provider)
    if reviewed and reviewed_change and current.approval.status in LOCKED:
        raise Conflict(
            f"This template is {current.approval.status} by WhatsApp: its content, language, category and "
            "examples cannot change. Create a new template instead.",
            code="template_locked",
        )
    after = current.model_copy(update={**update, "updated_at": now or datetime.now(UTC)})
    check_fields_for(account.channel, after)
    after = after.model_copy(update={"variables": _checked_variables(after.content, after.examples)})
    if reviewed and reviewed_change:
        template_approval.lint(after, account.provider)
    saved = templates.replace(current, after, version=version)
    return _submitted(saved, account, templates, submit) if reviewed and reviewed_change else saved


def resubmit(
    template_id: str, *, accounts: AccountStore, templates: TemplateStore, submit: Submit = _submit
) -> Template:
    """Submit again a template whose review was rejected or whose submission failed."""
    template = templates.get(template_id)
    account = _account(accounts, template.account_id)
    if not template_approval.needs_review(account.provider):
        raise Conflict("Email templates need no review.", code="template_not_reviewed")
    if template.approval.status not in RESUBMITTABLE:
        raise Conflict(
            f"The template is {template.approval.status}: only a rejected template, or one whose "
            "submission failed, can be submitted again.",
            code="template_not_resubmittable",
        )
    template_approval.lint(template, account.provider)
    return _submitted(template, account, templates, submit)


def render_template(template: Template, context: Mapping[str, str | None]) -> Rendered:
    return render(template.content, context)


def _submitted(template: Template, account: Account, templates: TemplateStore, submit: Submit) -> Template:
    """Submit for review and keep the outcome (a failure is kept as a retryable `error`, never lost)."""
    approval = submit(template, account)
    current, version = templates.read(template.id)
    return templates.replace(current, current.model_copy(update={"approval": approval}), version=version)


def _checked_variables(content: str, examples: Mapping[str, str]) -> list[str]:
    variables = variables_of(content)
    strays = [name for name in examples if name not in variables]
    if strays:
        raise Invalid(
            "; ".join(f"examples.{n}: not a variable of the content" for n in strays),
            code="validation_error",
            details=[FieldProblem(f"examples.{n}", "not a variable of the content") for n in strays],
        )
    return variables


def _account(accounts: AccountStore, account_id: str) -> Account:
    try:
        return accounts.get(account_id)
    except NotFound:
        raise Invalid(
            f"account_id: no account with id {account_id!r}",
            code="validation_error",
            details=[FieldProblem("account_id", f"no account with id {account_id!r}")],
        ) from None
