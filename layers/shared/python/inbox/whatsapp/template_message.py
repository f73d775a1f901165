"""An approved WhatsApp template as it is sent (PROTOCOLS.md): Meta's template message (its name,
language and named body parameters) or Twilio's Content SID with its positional variables (`{{1}}`,
in the order the submission kept). The rendered text is stored beside it, as the contact reads it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from inbox.model import Model


class TemplateMessage(Model):
    name: str  # the name the provider knows it by
    language: str
    parameters: dict[str, str] = Field(default_factory=dict)  # variable → value
    content_sid: str | None = None  # Twilio's `HX…`
    variable_order: list[str] = Field(default_factory=list)  # Twilio's `{{1}}`, `{{2}}` …

    def meta_template(self) -> dict[str, Any]:
        """The `template` object of Meta's `type: template` message."""
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if self.parameters:
            parameters = [
                {"type": "text", "parameter_name": name, "text": value}
                for name, value in self.parameters.items()
            ]
            template["components"] = [{"type": "body", "parameters": parameters}]
        return template

    def twilio_variables(self) -> str:
        """Twilio's `ContentVariables`: the values by position."""
        order = self.variable_order or list(self.parameters)
        return json.dumps({str(n): self.parameters[name] for n, name in enumerate(order, start=1)})
