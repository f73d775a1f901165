"""Meta's format rules checked before a WhatsApp template is submitted; the name Meta knows it by;
the examples its reviewers see; a review event read onto the template's approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inbox.accounts.models import Provider
from inbox.errors import Invalid
from inbox.routing.events import TemplateStatusEvent
from inbox.templates.approval import apply_review, example_for, lint, meta_name, needs_review
from inbox.templates.models import Approval, ApprovalStatus, Category, Template

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
VALID = "Bonjour {{customer_name}}, votre devis {{quote_number}} est prêt. Merci de votre confiance !"


def template(content: str = VALID, **fields: Any) -> Template:
    values: dict[str, Any] = {
        "id": "tpl_01J5",
        "account_id": "acc_1",
        "name": "Devis prêt",
        "content": content,
        "language": "fr",
        "category": Category.UTILITY,
        "approval": Approval(status=ApprovalStatus.PENDING),
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Template(**values)


def refusal(candidate: Template, provider: Provider = Provider.META_CLOUD) -> Invalid:
    with pytest.raises(Invalid) as refused:
        lint(candidate, provider)
    return refused.value


# Lint


@pytest.mark.parametrize("provider", [Provider.META_CLOUD, Provider.TWILIO])
def test_a_template_meta_would_accept_passes(provider: Provider) -> None:
    lint(template(), provider)
    lint(template("Merci pour votre message, nous revenons vers vous très vite."), provider)
    lint(template(VALID, examples={"customer_name": "Jean Martin"}), provider)


@pytest.mark.parametrize("provider", [Provider.GMAIL, Provider.OFFICE365, Provider.IMAP])
def test_email_templates_are_not_linted(provider: Provider) -> None:
    lint(template("{{customer_name}}", language=None, category=None), provider)


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (
            "{{customer_name}}, votre devis {{quote_number}} est prêt, merci de votre confiance.",
            "variable_at_start",
        ),
        ("« {{customer_name}} », votre devis est prêt, merci de votre confiance.", "variable_at_start"),
        ("Bonjour, votre devis est prêt et nous vous remercions, {{customer_name}}", "variable_at_end"),
        ("Bonjour, votre devis est prêt et nous vous remercions, {{customer_name}} !", "variable_at_end"),
        (
            "Bonjour {{customer_name}} {{company_name}}, votre devis est prêt. Merci beaucoup.",
            "adjacent_variables",
        ),
        (
            "Bonjour {{customer_name}}{{company_name}}, votre devis est prêt. Merci beaucoup.",
            "adjacent_variables",
        ),
        ("Bonjour {{customer_name}}, devis {{quote_number}} prêt.", "too_many_variables"),
        ("Bonjour, " + "votre devis est prêt. " * 60, "body_too_long"),
    ],
)
def test_each_broken_body_rule_is_refused_by_its_name(content: str, rule: str) -> None:
    for provider in (Provider.META_CLOUD, Provider.TWILIO):
        refused = refusal(template(content), provider)

        assert refused.code == rule
        assert refused.details[0].field == "content"
        assert refused.details[0].message.startswith(f"{rule}: ")
        assert rule in refused.message


def test_enough_words_around_the_variables_pass_the_length_rule() -> None:
    # 2 variables need 5 words besides them
    lint(
        template("Bonjour {{customer_name}}, votre devis {{quote_number}} arrive demain."),
        Provider.META_CLOUD,
    )


def test_a_whatsapp_template_needs_its_language_and_category() -> None:
    refused = refusal(template(language=None, category=None))

    assert refused.code == "missing_language"
    assert [(d.field, d.message.split(":")[0]) for d in refused.details] == [
        ("language", "missing_language"),
        ("category", "missing_category"),
    ]


def test_a_name_with_nothing_meta_can_use_is_refused_for_meta_but_not_for_twilio() -> None:
    unusable = template(name="見積もり")

    refused = refusal(unusable)

    assert (refused.code, refused.details[0].field) == ("template_name_unusable", "name")
    lint(unusable, Provider.TWILIO)


@pytest.mark.parametrize(
    "example", ["{{customer_name}}", "Marie }} Dupont", "Marie\nDupont", "Marie\tDupont"]
)
def test_an_example_that_is_not_a_plain_value_is_refused(example: str) -> None:
    refused = refusal(template(examples={"customer_name": example}))

    assert refused.code == "invalid_example"
    assert refused.details[0].field == "examples.customer_name"


def test_every_broken_rule_is_listed_the_first_giving_the_code() -> None:
    refused = refusal(template("{{customer_name}}{{company_name}}", category=None))

    assert refused.code == "missing_category"
    rules = [d.message.split(":")[0] for d in refused.details]
    assert rules == [
        "missing_category",
        "variable_at_start",
        "variable_at_end",
        "adjacent_variables",
        "too_many_variables",
    ]


# The name Meta knows it by


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Devis prêt", "devis_pret"),
        ("  Relance — facture n°3 ", "relance_facture_n_3"),
        ("Cœur & Bœuf: ÉTÉ 2026!", "coeur_boeuf_ete_2026"),
        ("Straße", "strasse"),
        ("already_valid_1", "already_valid_1"),
        ("見積もり", ""),
    ],
)
def test_the_meta_name_is_lowercase_ascii_letters_digits_and_underscores(name: str, expected: str) -> None:
    assert meta_name(template(name=name)) == expected


def test_the_meta_name_is_at_most_512_characters() -> None:
    long = template(name="a" * 200).model_copy(update={"name": "ab " * 300})

    derived = meta_name(long)

    assert len(derived) <= 512
    assert not derived.endswith("_")


# Examples


def test_known_variables_have_sensible_examples_and_others_a_generic_one() -> None:
    assert example_for("customer_name") == "Marie Dupont"
    assert example_for("company_name") == "Garage Dupont"
    assert example_for("quote_number") == "Q-2026-0142"
    assert example_for("user_name") == "Alice"
    assert example_for("pickup_date") == example_for("delivery_date")
    assert example_for("pickup_location") == "Pickup location"


def test_only_whatsapp_templates_are_reviewed() -> None:
    assert [p for p in Provider if needs_review(p)] == [Provider.META_CLOUD, Provider.TWILIO]


# A review event read onto the approval


def review(event: str, reason: str | None = None, at: datetime = NOW) -> TemplateStatusEvent:
    return TemplateStatusEvent(
        provider=Provider.META_CLOUD,
        waba_id="1",
        provider_template_id="987",
        event=event,
        reason=reason,
        occurred_at=at,
    )


def submitted(status: ApprovalStatus = ApprovalStatus.PENDING, reason: str | None = None) -> Template:
    return template(
        approval=Approval(
            status=status,
            reason=reason,
            provider_template_id="987",
            provider_name="devis_pret",
            submitted_at=NOW - timedelta(hours=1),
            attempts=1,
        )
    )


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ("APPROVED", ApprovalStatus.APPROVED),
        ("REJECTED", ApprovalStatus.REJECTED),
        ("PAUSED", ApprovalStatus.PAUSED),
        ("DISABLED", ApprovalStatus.DISABLED),
    ],
)
def test_meta_events_move_the_status(event: str, status: ApprovalStatus) -> None:
    after = apply_review(submitted(), review(event, "INVALID_FORMAT"), now=NOW)

    assert after is not None
    assert (after.status, after.updated_at, after.provider_template_id) == (status, NOW, "987")
    assert after.reason == (None if status is ApprovalStatus.APPROVED else "INVALID_FORMAT")


def test_other_events_keep_the_status_and_say_why() -> None:
    after = apply_review(submitted(ApprovalStatus.APPROVED), review("FLAGGED", "Quality is low"), now=NOW)

    assert after is not None
    assert (after.status, after.reason) == (ApprovalStatus.APPROVED, "Quality is low")


def test_a_review_that_changes_nothing_gives_none() -> None:
    assert apply_review(submitted(ApprovalStatus.APPROVED), review("APPROVED"), now=NOW) is None
    assert apply_review(submitted(ApprovalStatus.PENDING), review("PENDING"), now=NOW) is None


def test_a_review_of_an_earlier_submission_is_ignored() -> None:
    late = review("REJECTED", "INVALID_FORMAT", at=NOW - timedelta(days=2))

    assert apply_review(submitted(), late, now=NOW) is None
