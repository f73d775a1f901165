from __future__ import annotations

import pytest
from pydantic import ValidationError

from inbox.labels import LabelCreate, LabelUpdate, name_key


def test_colours_are_stored_in_capitals() -> None:
    assert LabelCreate(name="Urgent", color="#e53935").color == "#E53935"


def test_names_are_trimmed() -> None:
    assert LabelCreate(name="  Urgent ").name == "Urgent"


def test_two_names_differing_only_by_case_or_width_are_the_same_label() -> None:
    assert name_key("URGENT") == name_key("urgent") == name_key("Ｕrgent")  # noqa: RUF001
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Urgent") != name_key("Urgent!")


def test_an_update_names_only_the_fields_it_changes() -> None:
    assert LabelUpdate(color="#000000").model_dump(exclude_unset=True) == {"color": "#000000"}


@pytest.mark.parametrize("field", ["name", "color"])
def test_an_update_cannot_clear_a_required_field(field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field} cannot be null"):
        LabelUpdate.model_validate({field: None})
