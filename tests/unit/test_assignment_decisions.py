from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.directory import Customer, CustomFieldValue
from inbox.routing.assignment import (
    AssignmentDecision,
    AssignmentReason,
    Candidate,
    Outcome,
    RuleTrial,
    decide_assignment,
)
from inbox.routing.assignment_rules import AssignmentRule, AssignmentRules, Fallback, FallbackAction, RuleType

NOW = datetime(2026, 6, 3, 10, tzinfo=UTC)
NEXT, UNASSIGNED, ASSIGN_USER = (
    FallbackAction.NEXT_RULE,
    FallbackAction.UNASSIGNED,
    FallbackAction.ASSIGN_USER,
)


def rule(
    kind: RuleType, fallback: FallbackAction = NEXT, user: str | None = None, **params: Any
) -> AssignmentRule:
    return AssignmentRule(type=kind, params=params, fallback=Fallback(action=fallback, user_id=user))


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


# The team of the account "Support": Alice and Bob sell Bosch parts, Bob also Valeo; Carol has no
# brand; Dave left (inactive); Erin works on another account (not authorized here).
TEAM = {
    c.user_id: c
    for c in [
        Candidate(user_id="alice", brands=["Bosch"], open_assigned=3, last_assigned_at=ago(hours=1)),
        Candidate(user_id="bob", brands=["Valeo", "bosch"], open_assigned=5, last_assigned_at=ago(hours=2)),
        Candidate(user_id="carol", open_assigned=4, last_assigned_at=ago(hours=3)),
        Candidate(user_id="dave", active=False, brands=["Bosch", "Valeo"], open_assigned=0),
        Candidate(user_id="erin", brands=["Bosch", "Valeo"], open_assigned=0),
    ]
}
AUTHORIZED = frozenset({"alice", "bob", "carol", "dave"})


def customer(**fields: Any) -> Customer:
    return Customer(
        id="cust-1", name="Garage Martin", created_at=ago(days=400), updated_at=ago(days=3), **fields
    )


def decide(*rules: AssignmentRule, **overrides: Any) -> AssignmentDecision:
    arguments: dict[str, Any] = {
        "authorized": AUTHORIZED,
        "users": TEAM,
        "customer": None,
        "last_assignee": None,
        "now": NOW,
        "rng": random.Random(5),
    }
    arguments.update(overrides)
    return decide_assignment(AssignmentRules(rules=list(rules)), **arguments)


def outcomes(decision: AssignmentDecision) -> list[tuple[RuleType, Outcome, FallbackAction | None]]:
    return [(t.rule, t.outcome, t.fallback) for t in decision.trials]


# --- No rules, and the sales rep story of the issue ----------------------------------------------


def test_an_account_without_rules_leaves_the_conversation_unassigned() -> None:
    assert decide() == AssignmentDecision(assignee_id=None, trials=[], reason=AssignmentReason.NO_RULES)


def test_a_sales_rep_not_authorized_for_the_account_is_skipped_and_the_next_rule_assigns() -> None:
    # Given a customer whose sales rep is Erin, who does not work on this account
    # And the rules "sales rep, else least loaded"
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP),
        rule(RuleType.LOAD_BALANCED),
        customer=customer(sales_rep_id="erin"),
    )

    # Then Erin is skipped as not authorized, and the least loaded valid member gets it
    assert decision == AssignmentDecision(
        assignee_id="alice",
        trials=[
            RuleTrial(
                rule=RuleType.CUSTOMER_SALES_REP,
                params={},
                outcome=Outcome.NOT_AUTHORIZED,
                user_id="erin",
                fallback=NEXT,
            ),
            RuleTrial(rule=RuleType.LOAD_BALANCED, params={}, outcome=Outcome.MATCHED, user_id="alice"),
        ],
        reason=AssignmentReason.RULE_MATCHED,
    )


# --- customer_sales_rep --------------------------------------------------------------------------


def test_the_customers_sales_rep_gets_the_conversation() -> None:
    decision = decide(rule(RuleType.CUSTOMER_SALES_REP), customer=customer(sales_rep_id="carol"))

    assert decision.assignee_id == "carol"
    assert decision.reason is AssignmentReason.RULE_MATCHED
    assert outcomes(decision) == [(RuleType.CUSTOMER_SALES_REP, Outcome.MATCHED, None)]


@pytest.mark.parametrize(
    ("sales_rep", "expected"),
    [("dave", Outcome.INACTIVE), ("erin", Outcome.NOT_AUTHORIZED), ("zoe", Outcome.UNKNOWN_USER)],
    ids=["inactive", "not authorized", "not in the directory"],
)
def test_a_sales_rep_who_is_not_a_valid_recipient_is_skipped_with_the_reason(
    sales_rep: str, expected: Outcome
) -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP), rule(RuleType.RANDOM), customer=customer(sales_rep_id=sales_rep)
    )

    assert decision.trials[0].outcome is expected
    assert decision.trials[0].user_id == sales_rep
    assert decision.assignee_id in {"alice", "bob", "carol"}


def test_an_inactive_user_is_inactive_even_when_also_not_authorized() -> None:
    # The reasons are checked in order: in the directory, active, authorized
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP), customer=customer(sales_rep_id="dave"), authorized={"alice"}
    )

    assert decision.trials[0].outcome is Outcome.INACTIVE


def test_an_authorized_user_missing_from_the_directory_is_unknown() -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP),
        customer=customer(sales_rep_id="gone"),
        authorized=AUTHORIZED | {"gone"},
    )

    assert decision.trials[0].outcome is Outcome.UNKNOWN_USER


def test_without_a_customer_record_the_sales_rep_rule_has_no_customer() -> None:
    decision = decide(rule(RuleType.CUSTOMER_SALES_REP), customer=None)

    assert outcomes(decision) == [(RuleType.CUSTOMER_SALES_REP, Outcome.NO_CUSTOMER, NEXT)]
    assert decision.reason is AssignmentReason.NO_RULE_MATCHED


def test_a_customer_without_a_sales_rep_has_no_value() -> None:
    decision = decide(rule(RuleType.CUSTOMER_SALES_REP), customer=customer())

    assert decision.trials[0].outcome is Outcome.NO_VALUE


# --- customer_custom_field -----------------------------------------------------------------------


def test_the_user_named_in_the_custom_field_gets_the_conversation() -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_CUSTOM_FIELD, field="account_manager"),
        customer=customer(custom_fields={"account_manager": " bob ", "region": "carol"}),
    )

    assert decision.assignee_id == "bob"
    assert decision.trials == [
        RuleTrial(
            rule=RuleType.CUSTOMER_CUSTOM_FIELD,
            params={"field": "account_manager"},
            outcome=Outcome.MATCHED,
            user_id="bob",
        )
    ]


@pytest.mark.parametrize(
    "custom_fields",
    [{}, {"account_manager": None}, {"account_manager": ""}, {"account_manager": "  "}, {"region": "bob"}],
    ids=["no fields", "none", "empty", "blank", "another field"],
)
def test_a_customer_without_the_field_has_no_value(custom_fields: dict[str, CustomFieldValue]) -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_CUSTOM_FIELD, field="account_manager"),
        customer=customer(custom_fields=custom_fields),
    )

    assert outcomes(decision) == [(RuleType.CUSTOMER_CUSTOM_FIELD, Outcome.NO_VALUE, NEXT)]


@pytest.mark.parametrize("value", [42, 4.2, True])
def test_a_custom_field_that_is_not_text_is_not_a_user_id(value: CustomFieldValue) -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_CUSTOM_FIELD, field="account_manager"),
        customer=customer(custom_fields={"account_manager": value}),
    )

    assert decision.trials[0].outcome is Outcome.NO_VALUE
    assert decision.trials[0].detail == f"'account_manager' holds {value!r}, not a user id"


@pytest.mark.parametrize(
    ("named", "expected"),
    [("dave", Outcome.INACTIVE), ("erin", Outcome.NOT_AUTHORIZED), ("zoe", Outcome.UNKNOWN_USER)],
)
def test_a_custom_field_naming_an_invalid_recipient_says_why(named: str, expected: Outcome) -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_CUSTOM_FIELD, field="account_manager"),
        customer=customer(custom_fields={"account_manager": named}),
    )

    assert (decision.trials[0].outcome, decision.trials[0].user_id) == (expected, named)


def test_without_a_customer_record_the_custom_field_rule_has_no_customer() -> None:
    decision = decide(rule(RuleType.CUSTOMER_CUSTOM_FIELD, field="account_manager"))

    assert decision.trials[0].outcome is Outcome.NO_CUSTOMER


# --- last_assigned_user --------------------------------------------------------------------------


def test_the_last_person_who_handled_the_contact_gets_it_again() -> None:
    decision = decide(rule(RuleType.LAST_ASSIGNED_USER), last_assignee=("carol", ago(days=900)))

    # Without `within_days`, any age will do
    assert decision.assignee_id == "carol"
    assert outcomes(decision) == [(RuleType.LAST_ASSIGNED_USER, Outcome.MATCHED, None)]


def test_a_contact_never_assigned_has_no_history() -> None:
    decision = decide(rule(RuleType.LAST_ASSIGNED_USER, within_days=30), last_assignee=None)

    assert decision.trials[0].outcome is Outcome.NO_HISTORY


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(days=6, hours=23), Outcome.MATCHED),
        (timedelta(days=7), Outcome.MATCHED),
        (timedelta(days=7, seconds=1), Outcome.HISTORY_TOO_OLD),
        (timedelta(days=60), Outcome.HISTORY_TOO_OLD),
    ],
)
def test_history_older_than_within_days_is_too_old(age: timedelta, expected: Outcome) -> None:
    decision = decide(rule(RuleType.LAST_ASSIGNED_USER, within_days=7), last_assignee=("alice", NOW - age))

    assert decision.trials[0].outcome is expected
    assert decision.trials[0].user_id == "alice"


@pytest.mark.parametrize(
    ("last", "expected"),
    [("dave", Outcome.INACTIVE), ("erin", Outcome.NOT_AUTHORIZED), ("zoe", Outcome.UNKNOWN_USER)],
)
def test_a_last_assignee_who_is_no_longer_valid_is_skipped(last: str, expected: Outcome) -> None:
    decision = decide(
        rule(RuleType.LAST_ASSIGNED_USER), rule(RuleType.LOAD_BALANCED), last_assignee=(last, ago(days=1))
    )

    assert outcomes(decision) == [
        (RuleType.LAST_ASSIGNED_USER, expected, NEXT),
        (RuleType.LOAD_BALANCED, Outcome.MATCHED, None),
    ]
    assert decision.assignee_id == "alice"


# --- team_brand ----------------------------------------------------------------------------------


def test_the_customers_brand_goes_to_its_least_loaded_member() -> None:
    # Valeo: Bob (5 open), Dave (inactive), Erin (not authorized) → Bob
    decision = decide(rule(RuleType.TEAM_BRAND, brand="Bosch"), customer=customer(brand="Valeo"))

    assert decision.assignee_id == "bob"
    assert decision.trials[0].detail == "brand 'Valeo'"


def test_brands_match_whatever_their_case() -> None:
    # BOSCH: Alice (3 open, "Bosch") and Bob (5 open, "bosch") → Alice
    decision = decide(rule(RuleType.TEAM_BRAND), customer=customer(brand="BOSCH"))

    assert decision.assignee_id == "alice"


def test_the_rules_brand_serves_when_the_customer_has_none() -> None:
    assert decide(rule(RuleType.TEAM_BRAND, brand="valeo"), customer=customer()).assignee_id == "bob"


def test_the_rules_brand_serves_when_there_is_no_customer() -> None:
    assert decide(rule(RuleType.TEAM_BRAND, brand="Valeo"), customer=None).assignee_id == "bob"


def test_the_customers_brand_wins_even_when_it_has_no_valid_member() -> None:
    # Given a customer of brand Hella, which nobody sells, and the rule's own brand Bosch
    decision = decide(rule(RuleType.TEAM_BRAND, brand="Bosch"), customer=customer(brand="Hella"))

    # Then the rule finds no one: the account's brand is for customers without one
    assert decision.trials[0].outcome is Outcome.NO_CANDIDATE
    assert decision.trials[0].detail == "no valid recipient of brand 'Hella'"
    assert decision.assignee_id is None


def test_no_brand_anywhere_means_no_brand() -> None:
    decision = decide(rule(RuleType.TEAM_BRAND), customer=customer())

    assert outcomes(decision) == [(RuleType.TEAM_BRAND, Outcome.NO_BRAND, NEXT)]


def test_a_brand_whose_members_are_all_invalid_has_no_candidate() -> None:
    # Only Dave (inactive) and Erin (not authorized) sell Valeo once Bob is off the account
    decision = decide(
        rule(RuleType.TEAM_BRAND), customer=customer(brand="Valeo"), authorized=AUTHORIZED - {"bob"}
    )

    assert decision.trials[0].outcome is Outcome.NO_CANDIDATE


def test_brand_ties_go_to_the_least_recently_assigned() -> None:
    users = {
        **TEAM,
        "alice": TEAM["alice"].model_copy(update={"open_assigned": 2, "last_assigned_at": ago(minutes=5)}),
        "bob": TEAM["bob"].model_copy(update={"open_assigned": 2, "last_assigned_at": ago(days=1)}),
    }

    assert decide(rule(RuleType.TEAM_BRAND, brand="Bosch"), users=users).assignee_id == "bob"


# --- load_balanced -------------------------------------------------------------------------------


def test_the_least_loaded_valid_member_gets_it() -> None:
    # Dave and Erin have 0 open, but are not valid; Alice has 3, Carol 4, Bob 5
    decision = decide(rule(RuleType.LOAD_BALANCED))

    assert decision.assignee_id == "alice"


def test_load_ties_go_to_the_least_recently_assigned() -> None:
    users = {
        "a": Candidate(user_id="a", open_assigned=2, last_assigned_at=ago(minutes=1)),
        "b": Candidate(user_id="b", open_assigned=2, last_assigned_at=ago(hours=5)),
        "c": Candidate(user_id="c", open_assigned=2, last_assigned_at=ago(hours=1)),
        "d": Candidate(user_id="d", open_assigned=3, last_assigned_at=None),
    }

    assert decide(rule(RuleType.LOAD_BALANCED), users=users, authorized=users.keys()).assignee_id == "b"


def test_among_equal_loads_someone_never_assigned_comes_first() -> None:
    users = {
        "a": Candidate(user_id="a", open_assigned=0, last_assigned_at=ago(days=365)),
        "b": Candidate(user_id="b", open_assigned=0, last_assigned_at=None),
    }

    assert decide(rule(RuleType.LOAD_BALANCED), users=users, authorized=users.keys()).assignee_id == "b"


def test_a_complete_tie_goes_to_the_smallest_user_id_whatever_the_directory_order() -> None:
    at = ago(hours=1)
    users = {u: Candidate(user_id=u, open_assigned=1, last_assigned_at=at) for u in ["m", "k", "z"]}

    assert decide(rule(RuleType.LOAD_BALANCED), users=users, authorized=users.keys()).assignee_id == "k"


def test_load_balanced_without_any_valid_member_has_no_candidate() -> None:
    decision = decide(rule(RuleType.LOAD_BALANCED), authorized={"dave", "erin-not-here"})

    assert outcomes(decision) == [(RuleType.LOAD_BALANCED, Outcome.NO_CANDIDATE, NEXT)]
    assert decision.reason is AssignmentReason.NO_RULE_MATCHED


# --- random --------------------------------------------------------------------------------------


def test_random_is_uniform_over_the_valid_members() -> None:
    # Given three valid members (and two invalid ones) and a seeded random source
    rng = random.Random(20260603)

    # When 3000 conversations are assigned at random
    draws = Counter(decide(rule(RuleType.RANDOM), rng=rng).assignee_id for _ in range(3000))

    # Then only valid members are drawn, each about a third of the time
    assert set(draws) == {"alice", "bob", "carol"}
    for user, count in draws.items():
        assert 0.28 <= count / 3000 <= 0.38, (user, count)


def test_a_seeded_draw_does_not_depend_on_the_directory_order() -> None:
    reversed_team = dict(reversed(list(TEAM.items())))

    first = [decide(rule(RuleType.RANDOM), rng=random.Random(seed)).assignee_id for seed in range(20)]
    second = [
        decide(rule(RuleType.RANDOM), users=reversed_team, rng=random.Random(seed)).assignee_id
        for seed in range(20)
    ]

    assert first == second


def test_random_without_any_valid_member_has_no_candidate() -> None:
    decision = decide(rule(RuleType.RANDOM), authorized=set())

    assert decision.trials[0].outcome is Outcome.NO_CANDIDATE


# --- Fallbacks -----------------------------------------------------------------------------------


def test_next_rule_goes_on_and_the_first_valid_recipient_wins() -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP),
        rule(RuleType.LAST_ASSIGNED_USER),
        rule(RuleType.TEAM_BRAND),
        rule(RuleType.RANDOM),
        rule(RuleType.LOAD_BALANCED),
        customer=customer(brand="Valeo"),
    )

    # Then the later rules are not tried once one matched
    assert outcomes(decision) == [
        (RuleType.CUSTOMER_SALES_REP, Outcome.NO_VALUE, NEXT),
        (RuleType.LAST_ASSIGNED_USER, Outcome.NO_HISTORY, NEXT),
        (RuleType.TEAM_BRAND, Outcome.MATCHED, None),
    ]
    assert decision.assignee_id == "bob"


def test_unassigned_stops_at_the_failed_rule() -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP, UNASSIGNED), rule(RuleType.LOAD_BALANCED), customer=customer()
    )

    # Then the conversation stays unassigned, and load_balanced is never tried
    assert decision == AssignmentDecision(
        assignee_id=None,
        trials=[
            RuleTrial(
                rule=RuleType.CUSTOMER_SALES_REP,
                params={},
                outcome=Outcome.NO_VALUE,
                detail="the customer has no sales rep",
                fallback=UNASSIGNED,
            )
        ],
        reason=AssignmentReason.FALLBACK_UNASSIGNED,
    )


def test_assign_user_gives_the_conversation_to_the_fallback_user() -> None:
    decision = decide(
        rule(RuleType.LAST_ASSIGNED_USER, ASSIGN_USER, user="carol"), rule(RuleType.LOAD_BALANCED)
    )

    assert decision == AssignmentDecision(
        assignee_id="carol",
        trials=[
            RuleTrial(
                rule=RuleType.LAST_ASSIGNED_USER, params={}, outcome=Outcome.NO_HISTORY, fallback=ASSIGN_USER
            )
        ],
        fallback_user_id="carol",
        reason=AssignmentReason.FALLBACK_ASSIGN_USER,
    )


@pytest.mark.parametrize(
    ("fallback_user", "why"),
    [("dave", "inactive"), ("erin", "not_authorized"), ("zoe", "unknown_user")],
)
def test_an_invalid_fallback_user_is_recorded_and_the_next_rule_is_tried(
    fallback_user: str, why: str
) -> None:
    # Given a fallback user who left or lost access to the account
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP, ASSIGN_USER, user=fallback_user),
        rule(RuleType.LOAD_BALANCED),
        customer=customer(),
    )

    # Then the record says the fallback could not be taken, and the next rule assigns
    assert decision.trials[0].fallback is NEXT
    assert (
        decision.trials[0].detail
        == f"the customer has no sales rep; fallback user {fallback_user} not assigned: {why}"
    )
    assert decision.assignee_id == "alice"
    assert decision.fallback_user_id is None
    assert decision.reason is AssignmentReason.RULE_MATCHED


def test_an_invalid_fallback_user_on_the_last_rule_leaves_it_unassigned() -> None:
    decision = decide(rule(RuleType.LAST_ASSIGNED_USER, ASSIGN_USER, user="dave"))

    assert decision.trials[0].detail == "fallback user dave not assigned: inactive"
    assert (decision.assignee_id, decision.reason) == (None, AssignmentReason.NO_RULE_MATCHED)


def test_every_rule_failing_with_next_rule_leaves_it_unassigned_with_every_trial() -> None:
    decision = decide(
        rule(RuleType.CUSTOMER_SALES_REP),
        rule(RuleType.CUSTOMER_CUSTOM_FIELD, field="manager"),
        rule(RuleType.LAST_ASSIGNED_USER, within_days=30),
        rule(RuleType.TEAM_BRAND),
        rule(RuleType.LOAD_BALANCED),
        rule(RuleType.RANDOM),
        authorized=set(),
        last_assignee=("alice", ago(days=31)),
    )

    assert outcomes(decision) == [
        (RuleType.CUSTOMER_SALES_REP, Outcome.NO_CUSTOMER, NEXT),
        (RuleType.CUSTOMER_CUSTOM_FIELD, Outcome.NO_CUSTOMER, NEXT),
        (RuleType.LAST_ASSIGNED_USER, Outcome.HISTORY_TOO_OLD, NEXT),
        (RuleType.TEAM_BRAND, Outcome.NO_BRAND, NEXT),
        (RuleType.LOAD_BALANCED, Outcome.NO_CANDIDATE, NEXT),
        (RuleType.RANDOM, Outcome.NO_CANDIDATE, NEXT),
    ]
    assert (decision.assignee_id, decision.reason) == (None, AssignmentReason.NO_RULE_MATCHED)


def test_params_that_no_longer_validate_fail_the_rule_instead_of_the_routing() -> None:
    # Given a rule stored before its params changed shape (saving validates them; old data may not)
    stale = AssignmentRule.model_construct(
        type=RuleType.CUSTOMER_CUSTOM_FIELD, params={}, fallback=Fallback()
    )

    decision = decide(stale, rule(RuleType.LOAD_BALANCED))

    assert outcomes(decision) == [
        (RuleType.CUSTOMER_CUSTOM_FIELD, Outcome.INVALID_PARAMS, NEXT),
        (RuleType.LOAD_BALANCED, Outcome.MATCHED, None),
    ]


def test_the_record_keeps_each_rules_params() -> None:
    decision = decide(
        rule(RuleType.LAST_ASSIGNED_USER, within_days=14), rule(RuleType.TEAM_BRAND, brand="Bosch")
    )

    assert [t.params for t in decision.trials] == [{"within_days": 14}, {"brand": "Bosch"}]


# --- Whatever the configuration ------------------------------------------------------------------

USER_IDS = ["u1", "u2", "u3", "u4"]
candidates = st.builds(
    Candidate,
    user_id=st.sampled_from(USER_IDS),
    active=st.booleans(),
    brands=st.lists(st.sampled_from(["Bosch", "valeo"]), max_size=2),
    open_assigned=st.integers(0, 5),
    last_assigned_at=st.none() | st.integers(0, 100).map(lambda h: ago(hours=h)),
)
fallbacks = st.sampled_from([NEXT, UNASSIGNED]).map(lambda a: Fallback(action=a)) | st.sampled_from(
    [*USER_IDS, "zoe"]
).map(lambda u: Fallback(action=ASSIGN_USER, user_id=u))
any_rule = st.builds(
    AssignmentRule,
    type=st.sampled_from(list(RuleType)),
    fallback=fallbacks,
).map(
    lambda r: r.model_copy(
        update={
            "params": {"field": "manager"}
            if r.type is RuleType.CUSTOMER_CUSTOM_FIELD
            else {"brand": "BOSCH"}
            if r.type is RuleType.TEAM_BRAND
            else {}
        }
    )
)


@given(
    team=st.lists(candidates, max_size=4, unique_by=lambda c: c.user_id),
    authorized=st.sets(st.sampled_from(USER_IDS)),
    rules=st.lists(any_rule, max_size=6),
    sales_rep=st.none() | st.sampled_from([*USER_IDS, "zoe"]),
    last=st.none() | st.sampled_from(USER_IDS),
    seed=st.integers(0, 2**32),
)
def test_the_assignee_is_always_a_valid_recipient_and_the_record_explains_the_path(
    team: list[Candidate],
    authorized: set[str],
    rules: list[AssignmentRule],
    sales_rep: str | None,
    last: str | None,
    seed: int,
) -> None:
    users = {c.user_id: c for c in team}
    decision = decide(
        *rules,
        users=users,
        authorized=authorized,
        customer=customer(sales_rep_id=sales_rep, custom_fields={"manager": last}),
        last_assignee=(last, ago(days=2)) if last else None,
        rng=random.Random(seed),
    )

    if decision.assignee_id is not None:
        assert decision.assignee_id in users
        assert users[decision.assignee_id].active
        assert decision.assignee_id in authorized
    # Every trial but the last went on to the next rule; the last one ended the decision
    assert len(decision.trials) <= len(rules)
    assert all(t.fallback is NEXT for t in decision.trials[:-1])
    if decision.reason is AssignmentReason.RULE_MATCHED:
        assert decision.trials[-1].outcome is Outcome.MATCHED
        assert decision.trials[-1].user_id == decision.assignee_id
    elif decision.reason is AssignmentReason.FALLBACK_ASSIGN_USER:
        assert decision.trials[-1].fallback is ASSIGN_USER
        assert decision.fallback_user_id == decision.assignee_id
    elif decision.reason is AssignmentReason.FALLBACK_UNASSIGNED:
        assert decision.trials[-1].fallback is UNASSIGNED
    elif decision.reason is AssignmentReason.NO_RULE_MATCHED:
        assert len(decision.trials) == len(rules)
        assert decision.assignee_id is None
    else:
        assert decision.reason is AssignmentReason.NO_RULES
        assert rules == []
