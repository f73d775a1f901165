"""What records that outlive their deletion share."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from inbox.model import Model


class Tombstoned(Model):
    """A record kept after it is deleted (what referred to it keeps showing it); lists skip it."""

    deleted_at: datetime | None = Field(default=None, exclude=True)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None
