"""Rendering `{{variable}}` placeholders: one function for templates, auto-replies and signatures.

A placeholder is `{{name}}`, with optional spaces or tabs inside the braces (`{{ name }}`), where the
name is lowercase letters, digits and underscores. Anything else between braces (`{{ Name }}`,
`{{first name}}`) is not a placeholder and stays as written; the templates issue refuses those when
a template is saved, with the same `PLACEHOLDER` pattern.

A variable is missing when the context lacks it, or holds None or only whitespace. Missing
placeholders are left in the text as they were written, and listed in `missing`: a caller must
refuse to send a rendering whose `missing` is not empty, so `{{...}}` never reaches a contact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from inbox.model import Model

PLACEHOLDER = re.compile(r"\{\{[ \t]*([a-z0-9_]+)[ \t]*\}\}")


class Rendered(Model):
    text: str
    missing: list[str]


def variables(template: str) -> list[str]:
    """The placeholder names of `template`, each once, in order of first appearance."""
    return list(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(template)))


def render(template: str, context: Mapping[str, str | None]) -> Rendered:
    """`template` with each filled placeholder replaced by its value (surrounding whitespace of the
    value trimmed), and the names that could not be filled, each once, in order of appearance.

    Values are inserted verbatim in a single pass: a value that itself contains `{{x}}` is not
    expanded again, and nothing is escaped (a caller rendering into HTML escapes the values first).
    """
    missing: dict[str, None] = {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = context.get(name)
        if value is None or not value.strip():
            missing[name] = None
            return match.group(0)
        return value.strip()

    text = PLACEHOLDER.sub(fill, template)
    return Rendered(text=text, missing=list(missing))
