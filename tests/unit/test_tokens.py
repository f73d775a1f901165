from __future__ import annotations

import base64
import json

import pytest

from inbox.local import tokens

KEY = b"k" * 32


def test_a_minted_token_verifies_with_its_claims() -> None:
    claims = tokens.verify("Bearer " + tokens.mint("alice", admin=True, key=KEY), key=KEY)

    assert claims["sub"] == "alice"
    assert claims["cognito:groups"] == ["admins"]
    assert tokens.as_authorizer_claims(claims)["cognito:groups"] == "[admins]"


def test_an_agent_token_has_no_admin_group() -> None:
    assert "cognito:groups" not in tokens.verify(tokens.mint("bob", key=KEY), key=KEY)


def test_an_expired_token_is_refused() -> None:
    token = tokens.mint("alice", key=KEY, lifetime_seconds=60, now=1_000_000)

    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.verify(token, key=KEY)


def test_a_token_whose_claims_were_changed_is_refused() -> None:
    header, payload, signature = tokens.mint("bob", key=KEY).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["cognito:groups"] = ["admins"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    with pytest.raises(tokens.InvalidToken):
        tokens.verify(f"{header}.{forged}.{signature}", key=KEY)


@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer not.a.jwt", "Basic YWxpY2U6cHc="])
def test_missing_or_malformed_tokens_are_refused(value: str | None) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(value, key=KEY)


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(tokens.mint("alice", key=b"other" * 8), key=KEY)


def test_the_signing_key_is_created_once_and_private(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "key"  # type: ignore[operator]

    first = tokens.signing_key(path)

    assert tokens.signing_key(path) == first
    assert path.stat().st_mode & 0o077 == 0
