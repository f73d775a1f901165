"""Shared fixtures. Fake AWS credentials are set before any client can exist, so no test can
reach a real account. Nothing else the product reads is set here: a test that calls a function's
handler in this process gets that function's variables from the template (`builders.invoke_handler`),
and the e2e suite starts `inbox dev` with a user's environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)
for name in [n for n in os.environ if n.startswith(("POWERTOOLS_", "INBOX_"))]:
    # The shell running the tests may have its own; the product must not see them.
    os.environ.pop(name, None)

from https_standins import https_server, stand_in_ca, trust_stand_ins  # noqa: E402, F401 (fixtures)
from inbox.local import resources  # noqa: E402
from inbox.local.stack import synthesize  # noqa: E402
from inbox.local.template import Template  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tokens minted by tests and verified by the local stack share a per-run key."""
    path = tmp_path_factory.mktemp("keys") / "dev-signing-key"
    os.environ["INBOX_DEV_SIGNING_KEY_FILE"] = str(path)
    return path


@pytest.fixture(scope="session")
def template_path() -> Path:
    """The stack's synthesized template (source assets), as the local stack uses it."""
    return synthesize(ROOT)


@pytest.fixture(scope="session")
def template(template_path: Path) -> Template:
    return Template.load(template_path)


@pytest.fixture
def aws(template: Template, monkeypatch: pytest.MonkeyPatch) -> Iterator[resources.LocalResources]:
    """In-process moto with the stack's tables and queues, created from the template."""
    from moto import mock_aws

    with mock_aws():
        created = resources.create_all(template, api_url="http://gateway.test")
        (table_name,) = created.tables.values()
        monkeypatch.setenv("INBOX_TABLE_NAME", table_name)
        yield created
