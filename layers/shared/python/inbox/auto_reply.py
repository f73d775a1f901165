"""Auto-reply settings of an account: which triggers answer incoming messages, and with what.

The decision itself (which trigger fires for a message, loop protection, cooldown) belongs to the
router; this module says what an admin configured.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator


class Trigger(StrEnum):
    OUTSIDE_BUSINESS_HOURS = "outside_business_hours"
    FIRST_CONTACT = "first_contact"
    ALWAYS = "always"


# Twice a WhatsApp text's limit is still a short email; longer is a mistake.
Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
MAX_COOLDOWN_MINUTES = 30 * 24 * 60


class AutoReplyRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: Trigger
    message: Message


class AutoReplySettings(BaseModel):
    """Rules are tried in order; at most one auto-reply per incoming message, and at most one per
    contact per `cooldown_minutes`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    # Declared after `enabled`, which its validator reads.
    rules: list[AutoReplyRule] = Field(default_factory=list, max_length=10, validate_default=True)
    cooldown_minutes: int = Field(default=24 * 60, ge=0, le=MAX_COOLDOWN_MINUTES)

    @field_validator("rules")
    @classmethod
    def _usable(cls, rules: list[AutoReplyRule], info: ValidationInfo) -> list[AutoReplyRule]:
        triggers = [rule.trigger for rule in rules]
        if len(set(triggers)) != len(triggers):
            raise ValueError("each trigger may appear once")
        if info.data.get("enabled") and not rules:
            raise ValueError("an enabled auto-reply needs at least one rule")
        return rules
