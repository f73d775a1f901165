"""The synthesized CloudFormation template, read the way the local stack needs it.

The template is the one definition of tables, queues, functions, routes, event sources and
schedules; this module turns its resources into plain descriptions and resolves the intrinsic
functions (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`) against local values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Read by the CDK stack too: resource metadata naming a function's code and the poll schedule.
FUNCTION_METADATA = "inbox:function"
SCHEDULE_METADATA = "inbox:schedule"

# The route API Gateway sends whatever no other route matches.
DEFAULT_ROUTE = "$default"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


class TemplateError(ValueError):
    """The template has something the local stack cannot reproduce."""


@dataclass(frozen=True)
class FunctionResource:
    logical_id: str
    name: str  # the folder under functions/
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, Any]


@dataclass(frozen=True)
class Route:
    method: str  # ANY, GET, POST ...
    path: str  # /v1/{proxy+}
    function_id: str
    jwt: bool

    @property
    def is_default(self) -> bool:
        return self.path == DEFAULT_ROUTE

    @property
    def key(self) -> str:
        return DEFAULT_ROUTE if self.is_default else f"{self.method} {self.path}"


@dataclass(frozen=True)
class EventSource:
    queue_id: str
    function_id: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class Schedule:
    logical_id: str
    expression: str
    function_ids: tuple[str, ...]
    kind: str | None  # SCHEDULE_METADATA value, e.g. email_poll


@dataclass
class Template:
    resources: dict[str, dict[str, Any]]
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> Template:
        return cls(resources=json.loads(path.read_text())["Resources"], path=path)

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resources[logical_id].get("Properties", {}))

    def functions(self) -> list[FunctionResource]:
        found = []
        for logical_id, resource in self.of_type("AWS::Lambda::Function").items():
            name = resource.get("Metadata", {}).get(FUNCTION_METADATA)
            if not name:
                continue  # CDK's own helper functions (e.g. log retention) have no local twin
            props = resource["Properties"]
            found.append(
                FunctionResource(
                    logical_id=logical_id,
                    name=name,
                    handler=props["Handler"],
                    timeout_seconds=int(props.get("Timeout", 3)),
                    memory_mb=int(props.get("MemorySize", 128)),
                    environment=props.get("Environment", {}).get("Variables", {}),
                )
            )
        return found

    def routes(self) -> list[Route]:
        integrations = {
            logical_id: _referenced_id(props["Properties"]["IntegrationUri"])
            for logical_id, props in self.of_type("AWS::ApiGatewayV2::Integration").items()
        }
        routes = []
        for resource in self.of_type("AWS::ApiGatewayV2::Route").values():
            props = resource["Properties"]
            key = props["RouteKey"]
            method, path = ("ANY", key) if key == DEFAULT_ROUTE else key.split(" ", 1)
            integration_id = _referenced_id(props["Target"])
            routes.append(
                Route(
                    method=method,
                    path=path,
                    function_id=integrations[integration_id],
                    jwt=props.get("AuthorizationType") == "JWT",
                )
            )
        return routes

    def event_sources(self) -> list[EventSource]:
        return [
            EventSource(
                queue_id=_referenced_id(props["EventSourceArn"]),
                function_id=_referenced_id(props["FunctionName"]),
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures"
                in props.get("FunctionResponseTypes", []),
            )
            for props in (r["Properties"] for r in self.of_type("AWS::Lambda::EventSourceMapping").values())
        ]

    def schedules(self) -> list[Schedule]:
        found = []
        for logical_id, resource in self.of_type("AWS::Events::Rule").items():
            props = resource["Properties"]
            if "ScheduleExpression" not in props:
                continue
            found.append(
                Schedule(
                    logical_id=logical_id,
                    expression=props["ScheduleExpression"],
                    function_ids=tuple(_referenced_id(t["Arn"]) for t in props.get("Targets", [])),
                    kind=resource.get("Metadata", {}).get(SCHEDULE_METADATA),
                )
            )
        return found


def _referenced_id(value: Any) -> str:
    """The logical id an intrinsic points at (`Ref`, `Fn::GetAtt`, or inside `Fn::Join`)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
        if "Fn::Join" in value:
            for part in value["Fn::Join"][1]:
                if isinstance(part, dict):
                    return _referenced_id(part)
    raise TemplateError(f"cannot tell which resource {value!r} refers to")


# Resolves (logical id, attribute or None for Ref) to a local value.
Lookup = Callable[[str, str | None], Any]

PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "Inbox",
    "AWS::NoValue": None,
}


def resolve(value: Any, lookup: Lookup) -> Any:
    """`value` with every intrinsic function replaced by its local value."""
    if isinstance(value, list):
        return [resolve(v, lookup) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: resolve(v, lookup) for k, v in value.items()}
    ((name, argument),) = value.items()
    if name == "Ref":
        return PSEUDO_PARAMETERS[argument] if argument in PSEUDO_PARAMETERS else lookup(argument, None)
    if name == "Fn::GetAtt":
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        return lookup(logical_id, attribute)
    if name == "Fn::Join":
        separator, parts = argument
        return separator.join(str(resolve(p, lookup)) for p in parts)
    if name == "Fn::Select":
        index, items = argument
        return resolve(items, lookup)[int(index)]
    if name == "Fn::Split":
        separator, text = argument
        return str(resolve(text, lookup)).split(separator)
    if name == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        return _substitute(text, {k: resolve(v, lookup) for k, v in variables.items()}, lookup)
    if name.startswith("Fn::"):
        raise TemplateError(f"{name} is not supported by the local stack")
    return {name: resolve(argument, lookup)}


def _substitute(text: str, variables: dict[str, Any], lookup: Lookup) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if name in PSEUDO_PARAMETERS:
            return str(PSEUDO_PARAMETERS[name])
        logical_id, _, attribute = name.partition(".")
        return str(lookup(logical_id, attribute or None))

    return re.sub(r"\$\{([^}!]+)\}", replace, text)
