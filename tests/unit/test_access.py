from __future__ import annotations

from typing import Any

import pytest

from inbox.access import caller_from_claims, parse_groups


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        ("[admins]", ["admins"]),  # how API Gateway's HTTP API passes a one-element array
        ("[admins agents]", ["admins", "agents"]),
        (["admins", "agents"], ["admins", "agents"]),
        ("admins", ["admins"]),
        ("[]", []),
        (None, []),
    ],
)
def test_groups_are_read_in_every_form_api_gateway_uses(claim: Any, groups: list[str]) -> None:
    assert parse_groups(claim) == groups


def test_a_member_of_admins_is_an_admin_and_others_are_not() -> None:
    admin = caller_from_claims({"sub": "alice", "cognito:groups": "[agents admins]"})
    agent = caller_from_claims({"sub": "bob", "cognito:groups": "[agents]"})

    assert admin is not None
    assert admin.is_admin
    assert agent is not None
    assert not agent.is_admin
    assert agent.user_id == "bob"


def test_claims_without_a_subject_name_no_caller() -> None:
    assert caller_from_claims({}) is None
    assert caller_from_claims({"sub": ""}) is None
