from __future__ import annotations

import pytest

from inbox.errors import Invalid
from inbox.store.pagination import decode_cursor, encode_cursor

KEYS = {"pk", "sk"}


def test_a_cursor_gives_back_the_key_it_was_made_from() -> None:
    key = {"pk": "LABELS", "sk": "LABEL#lbl_01"}

    assert decode_cursor(encode_cursor(key), expected_keys=KEYS) == key


def test_no_more_items_means_no_cursor() -> None:
    assert encode_cursor(None) is None
    assert decode_cursor(None, expected_keys=KEYS) is None


@pytest.mark.parametrize("cursor", ["%%%", "bm90LWpzb24", "eyJwayI6MX0", "W10"])
def test_a_cursor_we_did_not_make_is_invalid_on_the_cursor_field(cursor: str) -> None:
    with pytest.raises(Invalid) as refused:
        decode_cursor(cursor, expected_keys=KEYS)

    assert [d.field for d in refused.value.details] == ["cursor"]
