"""Who may use which template: enforced in the domain for every sender."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inbox.accounts.models import Channel
from inbox.errors import Invalid
from inbox.templates.models import (
    Approval,
    ApprovalStatus,
    Purpose,
    Template,
    TemplateType,
    check_usable,
    usable,
)

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def template(kind: TemplateType, status: ApprovalStatus) -> Template:
    return Template(
        id="tpl_1",
        account_id="acc_1",
        name="T",
        content="Hi",
        type=kind,
        approval=Approval(status=status),
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize("status", [s for s in ApprovalStatus if s is not ApprovalStatus.APPROVED])
def test_only_approved_templates_can_be_sent_on_whatsapp(status: ApprovalStatus) -> None:
    for purpose in Purpose:
        assert (
            usable(template(TemplateType.WINDOW, status), Channel.WHATSAPP, purpose)
            == "template_not_approved"
        )


def test_a_reply_template_cannot_open_a_conversation() -> None:
    with pytest.raises(Invalid) as refused:
        check_usable(
            template(TemplateType.REPLY, ApprovalStatus.APPROVED), Channel.WHATSAPP, Purpose.OPEN_CONVERSATION
        )

    assert refused.value.code == "template_cannot_open_conversation"
    assert (
        usable(
            template(TemplateType.START, ApprovalStatus.APPROVED), Channel.WHATSAPP, Purpose.OPEN_CONVERSATION
        )
        is None
    )
    assert (
        usable(
            template(TemplateType.REPLY, ApprovalStatus.NOT_REQUIRED),
            Channel.EMAIL,
            Purpose.OPEN_CONVERSATION,
        )
        == "template_cannot_open_conversation"
    )


def test_outside_the_window_only_window_templates_go() -> None:
    assert (
        usable(
            template(TemplateType.START, ApprovalStatus.APPROVED),
            Channel.WHATSAPP,
            Purpose.REPLY_OUTSIDE_WINDOW,
        )
        == "template_not_for_closed_window"
    )
    assert (
        usable(
            template(TemplateType.WINDOW, ApprovalStatus.APPROVED),
            Channel.WHATSAPP,
            Purpose.REPLY_OUTSIDE_WINDOW,
        )
        is None
    )


def test_email_templates_need_no_approval() -> None:
    assert (
        usable(
            template(TemplateType.REPLY, ApprovalStatus.NOT_REQUIRED), Channel.EMAIL, Purpose.REPLY_IN_WINDOW
        )
        is None
    )
