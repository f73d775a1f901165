"""Labels: coloured categories put on conversations ("Urgent", "Quote sent").

Names are unique case-insensitively. A deleted label leaves the label list, but its record stays
(marked deleted) so conversations that carried it still show its name and colour.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from inbox.accounts.models import Omittable
from inbox.model import Model
from inbox.records import Tombstoned

DEFAULT_COLOR = "#9E9E9E"

LabelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
COLOR_PATTERN = re.compile(r"#[0-9A-Fa-f]{6}")


def _color(value: str) -> str:
    if not COLOR_PATTERN.fullmatch(value):
        raise ValueError("must be a colour written #RRGGBB, e.g. #E53935")
    return value.upper()


Color = Annotated[
    str,
    AfterValidator(_color),
    Field(description="`#RRGGBB`", examples=["#E53935"], json_schema_extra={"pattern": "^#[0-9A-Fa-f]{6}$"}),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def name_key(name: str) -> str:
    """The form under which two names are the same label ("Urgent" = "URGENT" = "urgent")."""
    return unicodedata.normalize("NFKC", name).casefold()


class LabelCreate(Model):
    model_config = ConfigDict(extra="forbid")

    name: LabelName
    description: Description | None = None
    color: Color = DEFAULT_COLOR


class LabelUpdate(Model):
    """A partial update: only the fields given change; `description: null` clears it."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[LabelName] = None
    description: Description | None = None
    color: Omittable[Color] = None

    @model_validator(mode="after")
    def _no_null_required_fields(self) -> LabelUpdate:
        for required in ("name", "color"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be null")
        return self


class Label(Tombstoned):
    id: str
    name: str
    description: str | None = None
    color: str
    created_at: datetime
    updated_at: datetime
