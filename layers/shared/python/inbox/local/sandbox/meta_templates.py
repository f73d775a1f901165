"""The sandbox's message templates at Meta: what it keeps of one, and the checks Meta's review
makes of a submission (name, category, one BODY with an example per named parameter)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from inbox.local.sandbox.graph import invalid

TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")


@dataclass
class MetaTemplate:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[Any]
    status: str = "PENDING"

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "status": self.status,
            "components": self.components,
            "rejected_reason": "NONE",
        }


def category_of(value: Any) -> str:
    category = value.upper() if isinstance(value, str) else ""
    if category not in CATEGORIES:
        raise invalid(f'Param category must be one of {{{", ".join(CATEGORIES)}}} - got "{value}".')
    return category


def checked_components(value: Any) -> list[Any]:
    """The components, checked as Meta's review checks the body: one BODY with text, and an
    example for each named parameter."""
    if not isinstance(value, list):
        raise invalid("The parameter components is required.")
    bodies = [c for c in value if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY"]
    if len(bodies) != 1 or not isinstance(bodies[0].get("text"), str) or not bodies[0]["text"].strip():
        raise invalid(
            "Invalid parameter", user_title="Missing body", user_msg="A template needs one BODY with text."
        )
    body = bodies[0]
    named = [p for p in PLACEHOLDER.findall(body["text"]) if not p.isdigit()]
    examples = (body.get("example") or {}).get("body_text_named_params") or []
    given = {e.get("param_name") for e in examples if isinstance(e, dict) and e.get("example")}
    if missing := [p for p in named if p not in given]:
        raise invalid(
            "Invalid parameter",
            user_title="Missing sample values",
            user_msg=f"Add a sample value for each parameter: {', '.join(missing)}.",
        )
    return value
