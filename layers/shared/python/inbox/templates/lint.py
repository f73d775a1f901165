"""What a WhatsApp template must look like before it is submitted for review: the name Meta knows
it by, an example for each variable, and Meta's published format rules (`lint`).

Meta checks these on submission or rejects the template in review (`INVALID_FORMAT`); checking
them here turns a day-long round trip into a 422 that names the rule and the field to change.
Twilio submits the same template to WhatsApp, so the same rules apply, except the name.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

from inbox.accounts.models import CHANNEL_OF, Channel, Provider
from inbox.errors import FieldProblem, Invalid
from inbox.templates.models import Template
from inbox.templates.rendering import PLACEHOLDER, variables

MAX_NAME = 512
MAX_BODY = 1024
META_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
# Letters NFKD leaves whole, spelled as a person would in a name.
_SPELLED = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})
# Meta rejects parameters holding new lines, tabs or more than four spaces in a row.
_UNSENDABLE = re.compile(r"[\n\t]| {5}")

KNOWN_EXAMPLES = {
    "customer_name": "Marie Dupont",
    "customer_first_name": "Marie",
    "customer_last_name": "Dupont",
    "customer_email": "marie.dupont@example.com",
    "customer_phone": "+33 6 12 34 56 78",
    "company_name": "Garage Dupont",
    "business_name": "Garage Dupont",
    "account_name": "Garage Dupont",
    "user_name": "Alice",
    "agent_name": "Alice",
    "quote_number": "Q-2026-0142",
    "order_number": "CMD-2026-0087",
    "invoice_number": "F-2026-0311",
    "tracking_number": "1Z999AA10123456784",
    "delivery_date": "12/03/2026",
    "appointment_date": "12/03/2026",
    "appointment_time": "14:30",
    "amount": "149,90 €",
}
# For other variables, by how their name ends: a value of the right kind.
_BY_SUFFIX = (
    ("_name", "Dupont"),
    ("_number", "A-1024"),
    ("_date", "12/03/2026"),
    ("_time", "14:30"),
    ("_amount", "149,90 €"),
    ("_price", "149,90 €"),
    ("_total", "149,90 €"),
    ("_email", "marie.dupont@example.com"),
    ("_phone", "+33 6 12 34 56 78"),
    ("_url", "https://www.example.com/suivi"),
    ("_link", "https://www.example.com/suivi"),
)


def meta_name(template: Template) -> str:
    """A name Meta accepts, derived from the template's: lowercase ASCII letters, digits and
    underscores, at most 512 characters; "" when nothing usable is left (a name in another script).

    Derived once: the approval keeps it (`provider_name`), since Meta cannot rename a template."""
    decomposed = unicodedata.normalize("NFKD", template.name.casefold().translate(_SPELLED))
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", ascii_only).strip("_")[:MAX_NAME].rstrip("_")


def example_for(variable: str) -> str:
    """A sensible example value of a variable, shown to the provider's reviewers (a template's own
    `examples` come first: see `example_of`)."""
    if variable in KNOWN_EXAMPLES:
        return KNOWN_EXAMPLES[variable]
    for suffix, example in _BY_SUFFIX:
        if variable.endswith(suffix):
            return example
    words = variable.replace("_", " ").strip()
    return words.capitalize() if words else "Exemple"


def example_of(template: Template, variable: str) -> str:
    """The template's example for the variable, else a generated one."""
    return template.examples.get(variable) or example_for(variable)


def lint(template: Template, provider: Provider) -> None:
    """Refuse (`Invalid`, 422) a WhatsApp template that breaks one of Meta's format rules: the
    code names the first rule broken, each detail names a field and starts with its rule."""
    if CHANNEL_OF[provider] is not Channel.WHATSAPP:
        return
    problems: list[tuple[str, FieldProblem]] = []

    def refuse(rule: str, field: str, message: str) -> None:
        problems.append((rule, FieldProblem(field, f"{rule}: {message}")))

    if template.language is None:
        refuse("missing_language", "language", "a WhatsApp template needs its language (e.g. fr, en_US)")
    if template.category is None:
        refuse(
            "missing_category",
            "category",
            "a WhatsApp template needs a category: utility, marketing or authentication",
        )
    if provider is Provider.META_CLOUD:
        name = template.approval.provider_name or meta_name(template)
        if not name:
            refuse(
                "template_name_unusable",
                "name",
                "has no letter or digit Meta accepts in a template name (a-z, 0-9): rename the template",
            )
        elif not META_NAME.fullmatch(name):
            refuse(
                "invalid_template_name", "name", f"{name!r} is not lowercase letters, digits and underscores"
            )
    for rule, message in _body_problems(template.content):
        refuse(rule, "content", message)
    for variable in variables(template.content):
        example = template.examples.get(variable)
        if example is not None and ("{{" in example or "}}" in example):
            refuse(
                "invalid_example", f"examples.{variable}", "an example is a value, it cannot hold {{ or }}"
            )
        elif example is not None and _UNSENDABLE.search(example):
            refuse(
                "invalid_example",
                f"examples.{variable}",
                "an example cannot hold new lines, tabs or more than four spaces in a row",
            )
    if problems:
        raise Invalid(
            "; ".join(f"{p.field}: {p.message}" for _, p in problems),
            code=problems[0][0],
            details=[p for _, p in problems],
        )


def _body_problems(content: str) -> list[tuple[str, str]]:
    problems = []
    if len(content) > MAX_BODY:
        problems.append(
            ("body_too_long", f"has {len(content)} characters; WhatsApp takes at most {MAX_BODY}")
        )
    found = list(PLACEHOLDER.finditer(content))
    if not found:
        return problems
    # Meta reads a variable followed (or preceded) only by punctuation as the end (or start).
    if _no_words(content[: found[0].start()]):
        problems.append(
            ("variable_at_start", f"starts with {found[0].group(0)}: begin with words, such as a greeting")
        )
    if _no_words(content[found[-1].end() :]):
        problems.append(
            ("variable_at_end", f"ends with {found[-1].group(0)}: end with words, such as a thank-you")
        )
    for first, second in pairwise(found):
        if not content[first.end() : second.start()].strip():
            problems.append(
                (
                    "adjacent_variables",
                    f"{first.group(0)} and {second.group(0)} are side by side: put words between them",
                )
            )
    # Meta: "too many variable parameters relative to the message length". Its threshold is not
    # published; integrators observe at least 2n + 1 words besides n parameters, which this keeps.
    words = sum(1 for word in PLACEHOLDER.sub(" ", content).split() if any(ch.isalnum() for ch in word))
    needed = 2 * len(found) + 1
    if words < needed:
        problems.append(
            (
                "too_many_variables",
                f"{len(found)} variables need at least {needed} words around them and there are {words}: "
                "add words or use fewer variables",
            )
        )
    return problems


def _no_words(text: str) -> bool:
    """Only spaces and punctuation (or nothing)."""
    return all(ch.isspace() or unicodedata.category(ch).startswith("P") for ch in text)
