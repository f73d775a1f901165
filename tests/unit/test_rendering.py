from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.templates.rendering import PLACEHOLDER, Rendered, render, variables


def test_every_placeholder_is_filled_from_the_context() -> None:
    # Given a message with two variables, both known
    template = "Hello {{customer_name}}, thank you for writing to {{company_name}}."

    # When it is rendered
    rendered = render(template, {"customer_name": "Alice", "company_name": "Acme Parts"})

    # Then both are replaced and nothing is missing
    assert rendered == Rendered(text="Hello Alice, thank you for writing to Acme Parts.", missing=[])


@pytest.mark.parametrize("placeholder", ["{{name}}", "{{ name }}", "{{name }}", "{{  name}}", "{{\tname\t}}"])
def test_spaces_inside_the_braces_are_optional(placeholder: str) -> None:
    assert render(f"Hi {placeholder}!", {"name": "Bob"}).text == "Hi Bob!"


def test_a_repeated_variable_is_filled_everywhere_and_reported_once() -> None:
    # Given a variable used three times, once unknown
    template = "{{name}} / {{ name }} / {{name}} — {{quote_number}} {{quote_number}}"

    # When rendered without the quote number
    rendered = render(template, {"name": "Bob"})

    # Then every occurrence of the known one is replaced, and the unknown one is listed once
    assert rendered.text == "Bob / Bob / Bob — {{quote_number}} {{quote_number}}"
    assert rendered.missing == ["quote_number"]


@pytest.mark.parametrize(
    "context",
    [{}, {"customer_name": None}, {"customer_name": ""}, {"customer_name": "   "}, {"customer_name": "\n\t"}],
    ids=["absent", "none", "empty", "spaces", "whitespace"],
)
def test_an_absent_none_or_blank_value_is_missing_and_its_placeholder_stays_as_written(
    context: dict[str, str | None],
) -> None:
    # When the only variable cannot be filled
    rendered = render("Dear {{ customer_name }},", context)

    # Then the text keeps the placeholder exactly as the admin wrote it, and says it is missing
    assert rendered.text == "Dear {{ customer_name }},"
    assert rendered.missing == ["customer_name"]


def test_missing_variables_are_listed_in_order_of_first_appearance() -> None:
    rendered = render("{{c}} {{a}} {{b}} {{a}} {{known}} {{c}}", {"known": "yes"})

    assert rendered.missing == ["c", "a", "b"]
    assert rendered.text == "{{c}} {{a}} {{b}} {{a}} yes {{c}}"


def test_a_value_is_trimmed_but_otherwise_inserted_verbatim() -> None:
    assert render("[{{x}}]", {"x": "  a <b> & c  "}).text == "[a <b> & c]"


def test_a_value_that_looks_like_a_placeholder_is_not_expanded_again() -> None:
    # Given a customer whose name is itself a placeholder
    rendered = render("Hi {{customer_name}}", {"customer_name": "{{company_name}}", "company_name": "Acme"})

    # Then it is inserted as text: rendering is a single pass
    assert rendered == Rendered(text="Hi {{company_name}}", missing=[])


@pytest.mark.parametrize(
    "text", ["{{ Name }}", "{{first name}}", "{{}}", "{name}", "{{name", "{{ na-me }}", "{{{{", "}}{{"]
)
def test_what_is_not_a_placeholder_is_left_alone(text: str) -> None:
    # Uppercase, spaces or dashes in the name, single braces: not a placeholder (the templates issue
    # refuses these when a template is saved)
    assert render(text, {"name": "Bob", "first": "Bob"}) == Rendered(text=text, missing=[])
    assert variables(text) == []


def test_a_template_without_placeholders_renders_to_itself() -> None:
    assert render("Thanks, we will answer soon.", {}) == Rendered(
        text="Thanks, we will answer soon.", missing=[]
    )


def test_extra_context_values_are_ignored() -> None:
    assert render("Hi", {"customer_name": "Alice"}).text == "Hi"


def test_variables_are_the_names_once_each_in_order() -> None:
    assert variables("{{ b }} {{a}} {{b}} {{user_name}} {{ a }} {{x1_2}}") == ["b", "a", "user_name", "x1_2"]


def test_the_placeholder_pattern_captures_the_name() -> None:
    match = PLACEHOLDER.fullmatch("{{  quote_number }}")

    assert match is not None
    assert match.group(1) == "quote_number"


NAMES = st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True)
VALUES = st.text(min_size=1).filter(lambda v: v.strip() != "" and "{{" not in v)


@given(st.dictionaries(NAMES, VALUES, max_size=5), st.lists(NAMES, max_size=8))
def test_after_rendering_exactly_the_missing_placeholders_remain(
    context: dict[str, str], names: list[str]
) -> None:
    # Given any template made of placeholders separated by text
    template = " | ".join(f"{{{{{name}}}}}" for name in names)

    # When it is rendered
    rendered = render(template, context)

    # Then the missing names are those absent from the context, and only they remain in the text
    expected_missing = [name for name in dict.fromkeys(names) if name not in context]
    assert rendered.missing == expected_missing
    assert variables(rendered.text) == expected_missing
