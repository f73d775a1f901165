from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox.accounts.models import AccountStatus
from inbox.business_hours import WEEKDAYS, BusinessHours
from inbox.email.automatic import automatic_message_reason
from inbox.routing.auto_reply import (
    MAX_MESSAGE_AGE,
    AutoReplyDecision,
    AutoReplyReason,
    AutoReplyRule,
    AutoReplySettings,
    Trigger,
    decide_auto_reply,
)

PARIS = ZoneInfo("Europe/Paris")
# Open Monday to Friday, 09:00-18:00 in Paris; closed on weekends.
OFFICE = BusinessHours.model_validate(
    {"timezone": "Europe/Paris", "days": {key: [{"start": "09:00", "end": "18:00"}] for key in WEEKDAYS[:5]}}
)
CLOSED_TEXT = "Hello {{customer_name}}, we are closed; we will answer on the next working day."
WELCOME_TEXT = "Welcome {{ customer_name }}! A team member will answer shortly."
ALWAYS_TEXT = "Thanks, we got your message."


def paris(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A time in June 2026: the 3rd is a Wednesday, the 5th a Friday, 6-7 the weekend, the 8th a Monday."""
    return datetime(2026, 6, day, hour, minute, second, tzinfo=PARIS)


WEDNESDAY_MORNING = paris(3, 10)  # open


def auto_reply(
    *rules: tuple[Trigger, str], enabled: bool = True, cooldown_minutes: int = 60
) -> AutoReplySettings:
    return AutoReplySettings(
        enabled=enabled,
        rules=[AutoReplyRule(trigger=trigger, message=message) for trigger, message in rules],
        cooldown_minutes=cooldown_minutes,
    )


# The common configuration: a closed message, a welcome for new contacts, a catch-all.
EVERY_TRIGGER = auto_reply(
    (Trigger.OUTSIDE_BUSINESS_HOURS, CLOSED_TEXT),
    (Trigger.FIRST_CONTACT, WELCOME_TEXT),
    (Trigger.ALWAYS, ALWAYS_TEXT),
)


def decide(settings: AutoReplySettings = EVERY_TRIGGER, **overrides: Any) -> AutoReplyDecision:
    """A message from a known customer, routed a minute after it was sent on a Wednesday morning."""
    sent_at = overrides.pop("sent_at", WEDNESDAY_MORNING)
    arguments: dict[str, Any] = {
        "account_status": AccountStatus.ACTIVE,
        "hours": OFFICE,
        "sent_at": sent_at,
        "now": sent_at + timedelta(minutes=1),
        "first_contact": False,
        "last_auto_reply_at": None,
        "headers": {},
        "sender": "alice@client.example",
        "context": {"customer_name": "Alice", "company_name": "Acme Parts"},
        "own_domains": (),
    }
    arguments.update(overrides)
    return decide_auto_reply(settings, **arguments)


def sent(trigger: Trigger, text: str) -> AutoReplyDecision:
    return AutoReplyDecision(send=True, trigger=trigger, text=text, reason=AutoReplyReason.SENT)


def not_sent(
    reason: AutoReplyReason, detail: str | None = None, trigger: Trigger | None = None
) -> AutoReplyDecision:
    return AutoReplyDecision(send=False, reason=reason, detail=detail, trigger=trigger)


CLOSED = sent(Trigger.OUTSIDE_BUSINESS_HOURS, CLOSED_TEXT.replace("{{customer_name}}", "Alice"))
WELCOME = sent(Trigger.FIRST_CONTACT, WELCOME_TEXT.replace("{{ customer_name }}", "Alice"))
ALWAYS = sent(Trigger.ALWAYS, ALWAYS_TEXT)


# --- Loop protection (RFC 3834) -----------------------------------------------------------------


def reason(
    headers: Mapping[str, str], sender: str | None = "alice@client.example", own_domains: Collection[str] = ()
) -> str | None:
    return automatic_message_reason(headers, sender, own_domains=own_domains)


def test_a_person_writing_is_not_an_automatic_message() -> None:
    # Given the headers of a mail a person typed
    headers = {
        "From": "Alice <alice@client.example>",
        "Return-Path": "<alice@client.example>",
        "Message-ID": "<CAF+abc@mail.client.example>",
        "Auto-Submitted": "no",
        "Precedence": "first-class",
        "X-Auto-Response-Suppress": "DR, RN, NRN",
    }

    # Then nothing forbids answering
    assert reason(headers, "Alice <alice@client.example>", own_domains=["inbox.example.com"]) is None


def test_a_whatsapp_message_has_no_headers_and_a_phone_number_for_sender() -> None:
    assert reason({}, "+33612345678") is None
    assert reason({}, None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto-replied", "Auto-Submitted: auto-replied"),
        ("auto-generated", "Auto-Submitted: auto-generated"),
        ("auto-notified", "Auto-Submitted: auto-notified"),
        ('Auto-Replied; owner-email="a@b.example"', "Auto-Submitted: auto-replied"),
        ("x-vendor-thing", "Auto-Submitted: x-vendor-thing"),
        ("", "Auto-Submitted present"),
        ("no", None),
        ("No", None),
        (" NO ", None),
        ("no; comment=typed by a person", None),
    ],
)
def test_auto_submitted_with_any_value_but_no_is_automatic(value: str, expected: str | None) -> None:
    assert reason({"Auto-Submitted": value}) == expected


@pytest.mark.parametrize("name", ["Auto-Submitted", "auto-submitted", "AUTO-SUBMITTED", "aUtO-sUbMiTtEd"])
def test_header_names_are_case_insensitive(name: str) -> None:
    assert reason({name: "auto-replied"}) == "Auto-Submitted: auto-replied"


@pytest.mark.parametrize("value", ["<>", "< >", " <> ", ""])
def test_an_empty_return_path_is_automatic(value: str) -> None:
    assert reason({"Return-Path": value}) == "empty return path"


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("MAILER-DAEMON@mx.client.example", "sender is mailer-daemon"),
        ("mailer-daemon@mx.client.example", "sender is mailer-daemon"),
        ("Mail Delivery System <MAILER-DAEMON@mx.client.example>", "sender is mailer-daemon"),
        ("postmaster@client.example", "sender is postmaster"),
        ("owner-parts-news@lists.example", "sender is a list owner (owner-*)"),
        ("parts-news-request@lists.example", "sender is a list request address (*-request)"),
        ("noreply@shop.example", "sender is a no-reply address"),
        ("no-reply@shop.example", "sender is a no-reply address"),
        ("No_Reply@shop.example", "sender is a no-reply address"),
        ("do-not-reply@shop.example", "sender is a no-reply address"),
        ("donotreply@shop.example", "sender is a no-reply address"),
        ("do_not_reply@shop.example", "sender is a no-reply address"),
        ("dont-reply@shop.example", "sender is a no-reply address"),
        ("noreply-invoices@shop.example", "sender is a no-reply address"),
        ("invoices.noreply@shop.example", "sender is a no-reply address"),
        ("noreply+bounce-42@shop.example", "sender is a no-reply address"),
        ('"Shop" <no-reply@shop.example>', "sender is a no-reply address"),
    ],
)
def test_an_automatic_sender_address_is_automatic(sender: str, expected: str) -> None:
    assert reason({}, sender) == expected


@pytest.mark.parametrize(
    "sender",
    [
        "owner@client.example",
        "request@client.example",
        "owner-@client.example",
        "-request@client.example",
        "postmaster-general@client.example",
        "nora@client.example",
        "reply@client.example",
        "snoreply@client.example",
        "bruno.reply@client.example",
        "+33612345678",
    ],
)
def test_an_address_that_only_resembles_an_automatic_one_is_answered(sender: str) -> None:
    assert reason({}, sender) is None


def test_an_automatic_return_path_is_automatic_even_when_the_sender_looks_human() -> None:
    # Replies go to the Return-Path: answering a bounce address would loop
    headers = {"Return-Path": "<MAILER-DAEMON@mx.client.example>"}

    assert reason(headers, "alice@client.example") == "return path is mailer-daemon"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("List-Id", "List-Id present"),
        ("List-Unsubscribe", "List-Unsubscribe present"),
        ("list-post", "List-Post present"),
        ("LIST-HELP", "List-Help present"),
    ],
)
def test_any_list_header_is_automatic(name: str, expected: str) -> None:
    assert reason({name: "<parts-news.lists.example>"}) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bulk", "Precedence: bulk"),
        ("junk", "Precedence: junk"),
        ("list", "Precedence: list"),
        (" BULK ", "Precedence: bulk"),
        ("first-class", None),
        ("normal", None),
    ],
)
def test_bulk_junk_and_list_precedence_are_automatic(value: str, expected: str | None) -> None:
    assert reason({"Precedence": value}) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("All", "X-Auto-Response-Suppress: All"),
        ("OOF", "X-Auto-Response-Suppress: OOF"),
        ("AutoReply", "X-Auto-Response-Suppress: AutoReply"),
        ("oof", "X-Auto-Response-Suppress: OOF"),
        ("DR, OOF", "X-Auto-Response-Suppress: OOF"),
        ("DR,AutoReply,RN", "X-Auto-Response-Suppress: AutoReply"),
        ("DR, RN, NRN", None),
        ("NDR", None),
    ],
)
def test_a_suppression_of_auto_replies_is_honoured(value: str, expected: str | None) -> None:
    assert reason({"X-Auto-Response-Suppress": value}) == expected


@pytest.mark.parametrize(
    ("message_id", "own_domains", "expected"),
    [
        ("<0193-abc@inbox.example.com>", ["inbox.example.com"], "our own message"),
        ("<0193-abc@INBOX.Example.COM>", ["inbox.example.com"], "our own message"),
        ("0193-abc@inbox.example.com", ["other.example", "Inbox.Example.com."], "our own message"),
        ("<0193-abc@mail.client.example>", ["inbox.example.com"], None),
        ("<0193-abc@sub.inbox.example.com>", ["inbox.example.com"], None),
        ("<0193-abc@inbox.example.com>", [], None),
        ("<no-domain>", ["inbox.example.com"], None),
        ("<inbox.example.com>", ["inbox.example.com"], None),
    ],
)
def test_our_own_message_coming_back_is_automatic(
    message_id: str, own_domains: list[str], expected: str | None
) -> None:
    assert reason({"Message-ID": message_id}, own_domains=own_domains) == expected


def test_with_several_signs_the_first_rule_of_protocols_md_gives_the_reason() -> None:
    headers = {
        "Precedence": "bulk",
        "List-Id": "<x>",
        "Auto-Submitted": "auto-generated",
        "Return-Path": "<>",
    }

    assert reason(headers, "noreply@shop.example") == "Auto-Submitted: auto-generated"


# --- Deciding: the gates before the rules --------------------------------------------------------


def test_an_open_hours_message_from_a_known_contact_gets_the_always_reply() -> None:
    assert decide() == ALWAYS


def test_a_disabled_auto_reply_sends_nothing_whatever_the_message() -> None:
    settings = EVERY_TRIGGER.model_copy(update={"enabled": False})

    assert decide(settings, sent_at=paris(6, 12), first_contact=True) == not_sent(AutoReplyReason.DISABLED)


def test_an_enabled_auto_reply_without_rules_sends_nothing() -> None:
    # Validation refuses this combination; the decision still answers for a stored legacy value
    settings = AutoReplySettings.model_construct(enabled=True, rules=[], cooldown_minutes=60)

    assert decide(settings) == not_sent(AutoReplyReason.NO_RULES)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (AccountStatus.PAUSED, not_sent(AutoReplyReason.ACCOUNT_PAUSED)),
        (AccountStatus.ERROR, not_sent(AutoReplyReason.ACCOUNT_ERROR)),
        (AccountStatus.ACTIVE, ALWAYS),
    ],
)
def test_an_account_that_cannot_send_sends_no_auto_reply(
    status: AccountStatus, expected: AutoReplyDecision
) -> None:
    assert decide(account_status=status) == expected


@pytest.mark.parametrize(
    ("age", "expected_reason"),
    [
        (timedelta(0), AutoReplyReason.SENT),
        (MAX_MESSAGE_AGE - timedelta(seconds=1), AutoReplyReason.SENT),
        (MAX_MESSAGE_AGE, AutoReplyReason.SENT),
        (MAX_MESSAGE_AGE + timedelta(microseconds=1), AutoReplyReason.STALE_MESSAGE),
        (timedelta(days=2), AutoReplyReason.STALE_MESSAGE),
        (-timedelta(minutes=5), AutoReplyReason.SENT),  # the provider's clock a little ahead of ours
    ],
)
def test_a_message_older_than_three_hours_when_routed_gets_no_reply(
    age: timedelta, expected_reason: AutoReplyReason
) -> None:
    # Given a message routed `age` after it was sent (a provider retrying after an outage)
    decision = decide(sent_at=WEDNESDAY_MORNING, now=WEDNESDAY_MORNING + age)

    assert decision.reason is expected_reason
    assert decision.send is (expected_reason is AutoReplyReason.SENT)


def test_the_stale_limit_is_three_hours() -> None:
    assert timedelta(hours=3) == MAX_MESSAGE_AGE


def test_an_automatic_message_gets_no_reply_and_the_record_says_why() -> None:
    decision = decide(headers={"Precedence": "bulk"})

    assert decision == not_sent(AutoReplyReason.AUTOMATIC_MESSAGE, "Precedence: bulk")


def test_our_own_message_gets_no_reply_when_our_domains_are_given() -> None:
    headers = {"Message-ID": "<abc@inbox.example.com>"}

    assert decide(headers=headers, own_domains=["inbox.example.com"]).detail == "our own message"
    assert decide(headers=headers).send is True


@pytest.mark.parametrize(
    ("since_last", "expected_reason"),
    [
        (timedelta(0), AutoReplyReason.COOLDOWN),
        (timedelta(minutes=59, seconds=59), AutoReplyReason.COOLDOWN),
        (timedelta(minutes=60) - timedelta(microseconds=1), AutoReplyReason.COOLDOWN),
        (timedelta(minutes=60), AutoReplyReason.SENT),
        (timedelta(minutes=61), AutoReplyReason.SENT),
        (-timedelta(minutes=1), AutoReplyReason.COOLDOWN),  # another router's clock ahead of ours
    ],
)
def test_a_contact_gets_at_most_one_auto_reply_per_cooldown(
    since_last: timedelta, expected_reason: AutoReplyReason
) -> None:
    # Given a one-hour cooldown and a last auto-reply to this contact `since_last` ago
    now = WEDNESDAY_MORNING + timedelta(minutes=1)

    decision = decide(now=now, last_auto_reply_at=now - since_last)

    assert decision.reason is expected_reason


def test_the_cooldown_detail_says_when_the_last_reply_went() -> None:
    now = WEDNESDAY_MORNING + timedelta(minutes=1)

    decision = decide(now=now, last_auto_reply_at=now - timedelta(minutes=5))

    assert decision == not_sent(
        AutoReplyReason.COOLDOWN, f"last auto-reply at {(now - timedelta(minutes=5)).isoformat()}"
    )


def test_a_zero_cooldown_answers_every_message() -> None:
    settings = EVERY_TRIGGER.model_copy(update={"cooldown_minutes": 0})
    now = WEDNESDAY_MORNING + timedelta(minutes=1)

    assert decide(settings, now=now, last_auto_reply_at=now) == ALWAYS


def test_a_contact_never_answered_before_is_not_in_cooldown() -> None:
    assert decide(last_auto_reply_at=None) == ALWAYS


@pytest.mark.parametrize(
    ("overrides", "expected_reason"),
    [
        # Each gate wins over every later one
        (
            {"account_status": AccountStatus.PAUSED, "now": WEDNESDAY_MORNING + timedelta(days=1)},
            AutoReplyReason.ACCOUNT_PAUSED,
        ),
        (
            {"now": WEDNESDAY_MORNING + timedelta(days=1), "headers": {"Auto-Submitted": "auto-replied"}},
            AutoReplyReason.STALE_MESSAGE,
        ),
        (
            {"headers": {"Auto-Submitted": "auto-replied"}, "last_auto_reply_at": WEDNESDAY_MORNING},
            AutoReplyReason.AUTOMATIC_MESSAGE,
        ),
        ({"last_auto_reply_at": WEDNESDAY_MORNING, "context": {}}, AutoReplyReason.COOLDOWN),
    ],
)
def test_the_gates_are_checked_in_order(overrides: dict[str, Any], expected_reason: AutoReplyReason) -> None:
    assert decide(**overrides).reason is expected_reason


def test_a_disabled_auto_reply_wins_over_a_paused_account() -> None:
    settings = EVERY_TRIGGER.model_copy(update={"enabled": False})

    assert decide(settings, account_status=AccountStatus.PAUSED).reason is AutoReplyReason.DISABLED


# --- Deciding: the rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (paris(5, 17, 59, 59), ALWAYS),  # Friday, still open
        (paris(5, 18), CLOSED),  # Friday 18:00: the end is excluded
        (paris(5, 23, 30), CLOSED),
        (paris(6, 3), CLOSED),  # Saturday night
        (paris(6, 12), CLOSED),  # Saturday noon
        (paris(7, 23, 59, 59), CLOSED),  # Sunday, the last second of the weekend
        (paris(8, 8, 59), CLOSED),  # Monday before opening
        (paris(8, 9), ALWAYS),  # Monday 09:00: open again
    ],
)
def test_outside_business_hours_covers_the_whole_closed_weekend(
    sent_at: datetime, expected: AutoReplyDecision
) -> None:
    assert decide(sent_at=sent_at) == expected


def test_business_hours_are_judged_when_the_contact_wrote_not_when_the_message_is_routed() -> None:
    # Given a message sent on Friday at 17:50, open, but routed after closing time
    decision = decide(sent_at=paris(5, 17, 50), now=paris(5, 18, 20))

    # Then it was written during business hours: no closed message
    assert decision == ALWAYS

    # And one sent on Monday at 08:55, routed after opening, gets the closed message
    assert decide(sent_at=paris(8, 8, 55), now=paris(8, 9, 5)) == CLOSED


def test_business_hours_in_another_zone_are_compared_in_the_accounts_zone() -> None:
    # Friday 17:30 in New York is 23:30 in Paris: closed
    sent_at = datetime(2026, 6, 5, 17, 30, tzinfo=ZoneInfo("America/New_York"))

    assert decide(sent_at=sent_at) == CLOSED


@pytest.mark.parametrize(
    ("first_contact", "expected"), [(True, WELCOME), (False, ALWAYS)], ids=["new contact", "known contact"]
)
def test_first_contact_before_always_welcomes_only_new_contacts(
    first_contact: bool, expected: AutoReplyDecision
) -> None:
    assert decide(first_contact=first_contact) == expected


def test_always_before_first_contact_wins_even_for_a_new_contact() -> None:
    # Given an admin who put `always` first
    settings = auto_reply((Trigger.ALWAYS, ALWAYS_TEXT), (Trigger.FIRST_CONTACT, WELCOME_TEXT))

    # Then a new contact gets the `always` message: the account's order decides
    assert decide(settings, first_contact=True) == ALWAYS


def test_outside_hours_before_first_contact_wins_for_a_new_contact_at_night() -> None:
    assert decide(sent_at=paris(6, 12), first_contact=True) == CLOSED


def test_first_contact_before_outside_hours_wins_when_the_admin_ordered_it_so() -> None:
    settings = auto_reply(
        (Trigger.FIRST_CONTACT, WELCOME_TEXT), (Trigger.OUTSIDE_BUSINESS_HOURS, CLOSED_TEXT)
    )

    assert decide(settings, sent_at=paris(6, 12), first_contact=True) == WELCOME
    assert decide(settings, sent_at=paris(6, 12), first_contact=False) == CLOSED


def test_no_trigger_holding_means_no_reply() -> None:
    # Given only a closed message and a welcome, and a known contact writing during business hours
    settings = auto_reply(
        (Trigger.OUTSIDE_BUSINESS_HOURS, CLOSED_TEXT), (Trigger.FIRST_CONTACT, WELCOME_TEXT)
    )

    assert decide(settings) == not_sent(AutoReplyReason.NO_TRIGGER_MATCHED)


@pytest.mark.parametrize(
    "context",
    [{}, {"customer_name": None}, {"customer_name": "  "}],
    ids=["unknown customer", "none", "blank"],
)
def test_a_variable_that_cannot_be_filled_means_no_reply_and_no_fallthrough(
    context: dict[str, str | None],
) -> None:
    # Given a night message from a contact whose name we do not know; the closed message needs it,
    # and a later `always` rule would have nothing to fill
    decision = decide(sent_at=paris(6, 12), context=context)

    # Then nothing is sent, the closed rule is named, and the `always` message is not sent instead
    assert decision == not_sent(
        AutoReplyReason.MISSING_VARIABLES, "customer_name", Trigger.OUTSIDE_BUSINESS_HOURS
    )
    assert decision.text is None


def test_every_missing_variable_is_named_once() -> None:
    settings = auto_reply((Trigger.ALWAYS, "{{customer_name}}: quote {{quote_number}} ({{ customer_name }})"))

    decision = decide(settings, context={"company_name": "Acme"})

    assert decision == not_sent(
        AutoReplyReason.MISSING_VARIABLES, "customer_name, quote_number", Trigger.ALWAYS
    )


def test_a_later_rule_is_still_reached_when_an_earlier_trigger_does_not_hold() -> None:
    # A missing variable only matters in the rule that fires: the closed message is not rendered
    # during business hours
    decision = decide(sent_at=WEDNESDAY_MORNING, context={})

    assert decision == ALWAYS


def test_the_sent_text_has_its_variables_filled() -> None:
    settings = auto_reply((Trigger.ALWAYS, "Dear {{customer_name}} of {{ company_name }}, thanks."))

    decision = decide(settings, context={"customer_name": "Alice", "company_name": "Acme Parts"})

    assert decision == sent(Trigger.ALWAYS, "Dear Alice of Acme Parts, thanks.")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"Content-Type": 'multipart/report; report-type=delivery-status;\r\n boundary="b1"'},
            "a report (delivery-status)",
        ),
        (
            {"Content-Type": "multipart/report; report-type=disposition-notification"},
            "a report (disposition-notification)",
        ),
        ({"X-Failed-Recipients": "ghost@client.example"}, "a bounce (X-Failed-Recipients)"),
        ({"Content-Type": "multipart/mixed; boundary=x"}, None),
    ],
)
def test_bounces_and_read_receipts_are_automatic(headers: dict[str, str], expected: str | None) -> None:
    # A bounce sent from an ordinary-looking address still must not be answered.
    assert reason(headers, "postmaster-team@mx.client.example") == expected


def test_an_address_gets_at_most_five_auto_replies_a_day_even_without_a_cooldown() -> None:
    settings = EVERY_TRIGGER.model_copy(update={"cooldown_minutes": 0})
    now = WEDNESDAY_MORNING + timedelta(minutes=1)
    four = [now - timedelta(hours=h) for h in (1, 2, 3, 4)]
    assert decide(settings, now=now, recent_auto_replies=four) == ALWAYS

    five = [*four, now - timedelta(hours=23, minutes=59)]
    capped = decide(settings, now=now, recent_auto_replies=five)
    assert (capped.send, capped.reason) == (False, AutoReplyReason.DAILY_CAP)

    # A reply a full day old no longer counts.
    aged = [*four, now - timedelta(hours=24)]
    assert decide(settings, now=now, recent_auto_replies=aged) == ALWAYS
