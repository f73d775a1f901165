from __future__ import annotations

from typing import Any

import pytest

from inbox.api.errors import field_name


@pytest.mark.parametrize(
    ("location", "name"),
    [
        (("body", "color"), "color"),
        (("body",), "body"),
        (("query", "limit"), "limit"),
        (("body", "rules", 0, "type"), "rules[0].type"),
    ],
)
def test_validation_locations_become_field_names(location: tuple[Any, ...], name: str) -> None:
    assert field_name(location) == name
