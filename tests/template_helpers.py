"""Small lookups in a synthesized CloudFormation template (the dict of `Template.to_json()`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from inbox.local.template import FUNCTION_METADATA

Resource = dict[str, Any]


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, Resource]:
    """The template's resources of one type, by logical id."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def function_by_name(template: dict[str, Any], name: str) -> tuple[str, Resource]:
    """The one Lambda function whose `inbox:function` metadata is `name`, with its logical id."""
    found = [
        (logical_id, resource)
        for logical_id, resource in resources_of_type(template, "AWS::Lambda::Function").items()
        if resource.get("Metadata", {}).get(FUNCTION_METADATA) == name
    ]
    assert len(found) == 1, f"expected one function named {name!r}, found {[i for i, _ in found]}"
    return found[0]


def as_list(value: Any) -> list[Any]:
    """IAM and CloudFormation accept one value or a list of them: always a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def referenced_id(value: Any) -> str | None:
    """The logical id named by `{"Ref": id}` or `{"Fn::GetAtt": [id, attribute]}`, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def rendered(value: Any) -> str:
    """A string, or an `Fn::Join` of strings and references, spelled the way cdk-nag spells it:
    `{"Ref": "AWS::Region"}` is `<AWS::Region>`, `{"Fn::GetAtt": ["Table", "Arn"]}` is `<Table.Arn>`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(rendered(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    raise ValueError(f"cannot render {value!r}")


def route_path(route_key: str) -> str:
    """The path of an HTTP API route key such as `ANY /v1/{proxy+}`."""
    return route_key.split(" ", 1)[1] if " " in route_key else route_key


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM policy statement of the template, with the logical id of the resource holding it:
    policies, managed policies, and the inline policies of roles."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [properties["PolicyDocument"]]
        elif resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in as_list(document.get("Statement")):
                yield logical_id, statement


def nag_suppressions(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every cdk-nag suppression, with where it is written: the stack's (template `Metadata`) and
    each resource's."""
    holders = {"(stack)": template, **template["Resources"]}
    for holder, entry in holders.items():
        for suppression in entry.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            yield holder, suppression
