"""A template submitted for WhatsApp's review, provider by provider: what each one is sent, and
how to ask each one about a template later. `inbox.templates.approval` turns the answers into the
template's `Approval`; `inbox.channels` picks the provider.

- Meta: a template is created once (`POST /{waba_id}/message_templates`); after that it is edited
  in place (`POST /{template_id}`), because a name and language stay taken at Meta once used, and
  a rejected template may be edited any number of times (an approved one ten times a month).
- Twilio: content cannot be changed once submitted to WhatsApp, so every submission creates a new
  content (positional `{{1}}` variables, in the order `approval.variable_order` keeps) and requests
  its approval under a fresh name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from inbox.accounts.models import Account, MetaCloudCredentials, TwilioCredentials
from inbox.settings import settings
from inbox.store.credentials import CredentialVault
from inbox.templates.lint import MAX_NAME, example_of, meta_name
from inbox.templates.models import ApprovalStatus, Template
from inbox.templates.rendering import PLACEHOLDER, variables
from inbox.whatsapp.template_review import MetaTemplates, Review, TwilioContent


@dataclass(frozen=True)
class Submission:
    """The provider's first word on a submission, the name it was submitted under, and (Twilio)
    the order of the positional variables."""

    review: Review
    name: str
    variable_order: list[str] | None = None


def submit_to_meta(template: Template, account: Account, vault: CredentialVault) -> Submission:
    """Create the template at Meta, or edit the one Meta already has."""
    previous = template.approval
    credentials = vault.load(account.id, MetaCloudCredentials)
    meta = MetaTemplates(settings().meta_graph_url, credentials.access_token)
    name = previous.provider_name or meta_name(template)
    body = _meta_body(template)
    if previous.provider_template_id:
        # Meta keeps a template's name and language taken: the template is edited in place. Only a
        # rejected one may change category (approved ones are locked by the templates API, so one
        # in error with an id is a rejected one whose resubmission failed).
        changes: dict[str, object] = {"components": [body]}
        if previous.status in (ApprovalStatus.REJECTED, ApprovalStatus.ERROR):
            changes["category"] = _category(template)
        review = meta.edit(previous.provider_template_id, changes)
    else:
        review = meta.create(
            account.meta_config().waba_id,
            {
                "name": name,
                "language": template.language,
                "category": _category(template),
                "parameter_format": "named",
                "components": [body],
            },
        )
    return Submission(review, name)


def submit_to_twilio(template: Template, account: Account, vault: CredentialVault) -> Submission:
    """Create a new content at Twilio and request its WhatsApp approval under a fresh name."""
    previous = template.approval
    credentials = vault.load(account.id, TwilioCredentials)
    content_api = TwilioContent(
        settings().twilio_content_url, account.twilio_config().account_sid, credentials.auth_token
    )
    base = meta_name(template) or re.sub(r"[^a-z0-9]+", "_", template.id.lower()).strip("_")
    # WhatsApp keeps a submitted name taken: a resubmission goes under a new one.
    name = base if not previous.provider_template_id else _suffixed(base, f"_v{previous.attempts + 1}")
    order = variables(template.content)
    position = {variable: str(i) for i, variable in enumerate(order, start=1)}
    content: dict[str, object] = {
        "friendly_name": name,
        "language": template.language,
        "types": {
            "twilio/text": {
                "body": PLACEHOLDER.sub(lambda m: f"{{{{{position[m.group(1)]}}}}}", template.content)
            }
        },
    }
    if order:
        content["variables"] = {position[v]: example_of(template, v) for v in order}
    sid = content_api.create(content)
    review = content_api.request_whatsapp_approval(sid, name=name, category=_category(template))
    return Submission(review, name, order)


def meta_reviewer(account: Account, vault: CredentialVault) -> Callable[[str], Review]:
    """How to ask Meta about one of the account's templates (credentials loaded once)."""
    token = vault.load(account.id, MetaCloudCredentials).access_token
    return MetaTemplates(settings().meta_graph_url, token).review


def twilio_reviewer(account: Account, vault: CredentialVault) -> Callable[[str], Review]:
    """How to ask Twilio about one of the account's contents (credentials loaded once)."""
    twilio = TwilioContent(
        settings().twilio_content_url,
        account.twilio_config().account_sid,
        vault.load(account.id, TwilioCredentials).auth_token,
    )
    return twilio.review


def _meta_body(template: Template) -> dict[str, object]:
    """The BODY component: the text (placeholders written `{{name}}`) and an example per variable."""
    body: dict[str, object] = {"type": "BODY", "text": PLACEHOLDER.sub(r"{{\1}}", template.content)}
    named = variables(template.content)
    if named:
        body["example"] = {
            "body_text_named_params": [{"param_name": v, "example": example_of(template, v)} for v in named]
        }
    return body


def _category(template: Template) -> str:
    # Meta's enum (and Twilio's) is UTILITY, MARKETING, AUTHENTICATION.
    return template.category.value.upper() if template.category else ""


def _suffixed(name: str, suffix: str) -> str:
    return name[: MAX_NAME - len(suffix)].rstrip("_") + suffix
