"""The inbox stack, synthesized once per session with the cdk-nag AWS Solutions checks applied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from cdk.inbox_stack import AssetSource, InboxStack

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Synthesized:
    stack: InboxStack
    template: Template


@pytest.fixture(scope="session")
def synthesized() -> Synthesized:
    """The stack as `cdk synth` would make it from the source directories (nothing bundled)."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = InboxStack(app, "Inbox", assets=AssetSource("source", root=ROOT))
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return Synthesized(stack=stack, template=Template.from_stack(stack))


@pytest.fixture(scope="session")
def stack(synthesized: Synthesized) -> InboxStack:
    return synthesized.stack


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    return synthesized.template


@pytest.fixture(scope="session")
def template_json(template: Template) -> dict[str, Any]:
    """The synthesized template as plain JSON (a dict with `Resources`, `Metadata` …)."""
    return dict(template.to_json())
