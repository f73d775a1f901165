"""Who is calling: the user id and groups carried by the Cognito token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The Cognito group whose members may change settings; created by the CDK stack.
ADMINS_GROUP = "admins"
GROUPS_CLAIM = "cognito:groups"


@dataclass(frozen=True)
class Caller:
    user_id: str
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMINS_GROUP in self.groups


def caller_from_claims(claims: Mapping[str, Any]) -> Caller | None:
    """The caller named by verified JWT claims, or None when there is no subject."""
    subject = claims.get("sub")
    if not subject:
        return None
    return Caller(user_id=str(subject), groups=frozenset(parse_groups(claims.get(GROUPS_CLAIM))))


def parse_groups(value: Any) -> list[str]:
    """Groups as API Gateway's JWT authorizer hands them over.

    HTTP APIs flatten array claims to a string such as `[admins agents]`; a list (or a plain
    string naming one group) is accepted too.
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    text = str(value).strip().removeprefix("[").removesuffix("]")
    return [g for g in text.replace(",", " ").split() if g]
