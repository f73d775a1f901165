"""Message templates: written once with `{{variables}}`, used by agents and auto-replies.

On WhatsApp a template must be approved by Meta (or through Twilio) before it can be sent; the
rules of who may use which template live here (`check_usable`), so every sender applies them.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from inbox.accounts.models import Channel, Omittable
from inbox.errors import FieldProblem, Invalid
from inbox.model import Model
from inbox.templates.rendering import PLACEHOLDER

TemplateName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Content = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
TemplateLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# Anything that looks like it was meant as a placeholder: `{{`, then up to the next `}}` (or the end).
_PLACEHOLDER_LIKE = re.compile(r"\{\{.*?(\}\}|$)", re.DOTALL)


class TemplateType(StrEnum):
    START = "start"  # may open a new conversation
    REPLY = "reply"  # only inside an existing conversation
    WINDOW = "window"  # WhatsApp: usable outside the 24-hour customer-service window


class Category(StrEnum):
    UTILITY = "utility"
    MARKETING = "marketing"
    AUTHENTICATION = "authentication"


class ApprovalStatus(StrEnum):
    NOT_REQUIRED = "not_required"  # email
    PENDING = "pending"  # submitted, under review
    APPROVED = "approved"
    REJECTED = "rejected"
    PAUSED = "paused"
    DISABLED = "disabled"
    ERROR = "error"  # the submission itself failed: retryable with POST .../submit


class Approval(Model):
    status: ApprovalStatus
    reason: str | None = None
    provider_template_id: str | None = None
    provider_name: str | None = None  # the name the provider knows it by
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    attempts: int = 0
    # Twilio: its content takes positional `{{1}}`, `{{2}}` …: the named variable each number stands for.
    variable_order: list[str] | None = None
    checked_at: datetime | None = None  # when the periodic sync last asked the provider


def variables_of(content: str) -> list[str]:
    """The variables a content uses, once each, in order; 422 pointing at anything that looks like
    a placeholder but is not one (`{{ Name }}`, `{{first name}}`, `{{1}}`, an unclosed `{{`)."""
    problems = []
    for found in _PLACEHOLDER_LIKE.finditer(content):
        if not PLACEHOLDER.fullmatch(found.group(0)):
            problems.append(
                FieldProblem(
                    "content",
                    f"{found.group(0)[:40]!r} at character {found.start() + 1} is not a placeholder: write "
                    "{{name}} with lowercase letters, digits and underscores",
                )
            )
    if problems:
        raise Invalid("; ".join(p.message for p in problems), code="invalid_placeholder", details=problems)
    return list(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(content)))


class TemplateFields(Model):
    model_config = ConfigDict(extra="forbid")

    account_id: str
    name: TemplateName
    content: Content
    labels: list[TemplateLabel] = Field(default_factory=list, max_length=20)
    type: TemplateType = TemplateType.REPLY
    language: Language | None = Field(default=None, description="WhatsApp: e.g. fr, en_US")
    category: Category | None = Field(
        default=None, description="WhatsApp: utility, marketing, authentication"
    )
    examples: dict[str, Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=dict, description="an example value per variable, shown to Meta's reviewers"
    )

    @field_validator("labels")
    @classmethod
    def _distinct(cls, labels: list[str]) -> list[str]:
        return list(dict.fromkeys(labels))


class TemplateUpdate(Model):
    model_config = ConfigDict(extra="forbid")

    name: Omittable[TemplateName] = None
    content: Omittable[Content] = None
    labels: list[TemplateLabel] | None = Field(default=None, max_length=20)
    type: Omittable[TemplateType] = None
    language: Language | None = None
    category: Category | None = None
    examples: dict[str, Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = None


class Template(TemplateFields):
    id: str
    variables: list[str] = Field(default_factory=list)
    approval: Approval
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(default=None, exclude=True)


def check_fields_for(channel: Channel, fields: TemplateFields | Template) -> None:
    """A WhatsApp template needs its language and category (Meta reviews them)."""
    if channel is not Channel.WHATSAPP:
        return
    missing = [name for name in ("language", "category") if getattr(fields, name) is None]
    if missing:
        raise Invalid(
            "; ".join(f"{m}: is required for a WhatsApp template" for m in missing),
            code="validation_error",
            details=[FieldProblem(m, "is required for a WhatsApp template") for m in missing],
        )


class Purpose(StrEnum):
    OPEN_CONVERSATION = "open_conversation"
    REPLY_IN_WINDOW = "reply_in_window"  # inside the 24-hour window (any channel)
    REPLY_OUTSIDE_WINDOW = "reply_outside_window"  # WhatsApp, window closed


def usable(template: Template, channel: Channel, purpose: Purpose) -> str | None:
    """Why the template cannot be used for this purpose (a code), or None when it can."""
    if channel is Channel.WHATSAPP and template.approval.status is not ApprovalStatus.APPROVED:
        return "template_not_approved"
    if purpose is Purpose.OPEN_CONVERSATION and template.type is TemplateType.REPLY:
        return "template_cannot_open_conversation"
    if purpose is Purpose.REPLY_OUTSIDE_WINDOW and template.type is not TemplateType.WINDOW:
        return "template_not_for_closed_window"
    return None


def check_usable(template: Template, channel: Channel, purpose: Purpose) -> None:
    """Refuse (422, with a code that says why) a template this purpose may not use."""
    reason = usable(template, channel, purpose)
    if reason is not None:
        messages = {
            "template_not_approved": "Only templates approved by WhatsApp can be sent on WhatsApp.",
            "template_cannot_open_conversation": "A reply template cannot open a conversation.",
            "template_not_for_closed_window": "Outside the 24-hour window only window templates can be sent.",
        }
        raise Invalid(messages[reason], code=reason, details=[FieldProblem("template_id", messages[reason])])
