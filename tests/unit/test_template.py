from __future__ import annotations

from typing import Any

import pytest

from inbox.local.template import TemplateError, resolve


def lookup(logical_id: str, attribute: str | None) -> Any:
    return f"{logical_id}.{attribute}" if attribute else f"ref:{logical_id}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Table"}, "ref:Table"),
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "Queue.Arn"),
        ({"Fn::GetAtt": "Queue.Arn"}, "Queue.Arn"),
        (
            {"Fn::Join": ["", ["https://", {"Ref": "Api"}, ".execute-api.", {"Ref": "AWS::URLSuffix"}]]},
            "https://ref:Api.execute-api.amazonaws.com",
        ),
        ({"Fn::Sub": "arn:${AWS::Partition}:x:${Thing}:${Thing.Arn}"}, "arn:aws:x:ref:Thing:Thing.Arn"),
        ({"Fn::Sub": ["${A}-${B}", {"B": {"Ref": "Other"}}]}, "ref:A-ref:Other"),
        ({"Fn::Select": [1, ["a", {"Ref": "B"}]]}, "ref:B"),
        ({"Nested": [{"Ref": "A"}, 3]}, {"Nested": ["ref:A", 3]}),
    ],
)
def test_intrinsic_functions_resolve_to_local_values(value: Any, expected: Any) -> None:
    assert resolve(value, lookup) == expected


def test_an_intrinsic_the_local_stack_cannot_reproduce_is_an_error() -> None:
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolve({"Fn::ImportValue": "shared-table"}, lookup)


def test_split_and_select_take_a_part_of_an_arn() -> None:
    secret_arn = "arn:aws:secretsmanager:us-east-1:1:secret:inbox/meta-app"
    arn = {"Fn::Select": [6, {"Fn::Split": [":", secret_arn]}]}

    assert resolve(arn, lookup) == "inbox/meta-app"
