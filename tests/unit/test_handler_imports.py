"""Each function imports only what it uses: a handler's import, in a fresh interpreter with a deployed
function's environment (tracing on), loads none of the heavy libraries it has no use for at import.

Some are still loaded later, where they are used: the X-Ray SDK on a traced handler's first call
when tracing is on, twilio on the webhook's first Twilio request, httpx on the first provider call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared" / "python"

# Loaded by no handler at import.
NEVER = (
    "aws_xray_sdk",  # X-Ray SDK: the traced handlers load it on their first call, if tracing is on
    "msal",  # Office 365: loaded by the code that connects, refreshes or calls such an account
    "google.auth",  # Gmail: likewise
    "requests",  # the session msal and google-auth take
    "twilio",  # the webhook's signature check imports it for a Twilio request
    "imaplib",  # connection checks only
    "smtplib",
    "aws_lambda_powertools.utilities.parser",  # Powertools' parser models, which the batch utility
    # imports when pydantic is already loaded
)
# What each handler must not load besides: libraries other functions use.
ALSO_NOT = {
    "webhook_whatsapp": (
        "httpx",
        "holidays",
        "phonenumbers",
        "email_validator",
        "nh3",
        # API Gateway has matched the route: no resolver, nor the event classes and asyncio it loads
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.data_classes",
        "asyncio",
    ),
    # Powertools' OpenAPI models (~40 ms): only the document and its Swagger page need them.
    "settings_api": ("httpx", "holidays", "aws_lambda_powertools.event_handler.openapi.models"),
    "route": ("httpx", "aws_lambda_powertools.event_handler"),
    "send": ("aws_lambda_powertools.event_handler",),
    "sync_templates": ("aws_lambda_powertools.event_handler",),
    "poll_email": ("httpx", "nh3", "aws_lambda_powertools.event_handler"),
    # Static files: no AWS call, no log beyond Lambda's own, nothing of Powertools.
    "console": ("boto3", "botocore", "aws_lambda_powertools", "httpx", "nh3", "holidays"),
}
# A deployed function's environment (cdk/inbox_stack.py `_function`, and what Lambda sets), given
# explicitly: the child sees nothing of this process's.
DEPLOYED = {
    "POWERTOOLS_SERVICE_NAME": "inbox",
    "POWERTOOLS_METRICS_NAMESPACE": "Inbox",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
}
CHILD = """
import gc, importlib.util, json, sys
path = sys.argv[1]
sys.path.insert(0, path.rpartition("/")[0])
spec = importlib.util.spec_from_file_location("handler", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
state = {"collecting": gc.isenabled(), "frozen": gc.get_freeze_count()}
print(json.dumps({"modules": sorted(sys.modules), **state}))
"""
# Functions whose modules load with the collector held off, then frozen (`inbox.startup`); the
# console loads too little to be worth it.
HELD_OFF = sorted(set(ALSO_NOT) - {"console"})


def handler_imported(function: str) -> dict[str, Any]:
    """A fresh interpreter's state after it imported the function's handler: `modules` (those in
    `sys.modules`), `collecting` (whether the cyclic collector runs), `frozen` (objects frozen)."""
    code_dir = ROOT / "functions" / function
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(LAYER),
        **DEPLOYED,
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": function,
    }
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(code_dir / "handler.py")],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    state: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return state


def loaded(package: str, modules: set[str]) -> bool:
    return any(m == package or m.startswith(f"{package}.") for m in modules)


def test_every_function_is_listed() -> None:
    assert {p.parent.name for p in ROOT.glob("functions/*/handler.py")} == set(ALSO_NOT)


@pytest.mark.parametrize("function", sorted(ALSO_NOT))
def test_a_handler_imports_none_of_the_heavy_libraries_it_does_not_use(function: str) -> None:
    # Given a fresh interpreter in a deployed function's environment
    # When it imports the function's handler
    modules = set(handler_imported(function)["modules"])

    # Then none of the libraries the function has no use for at import is loaded
    assert [p for p in (*NEVER, *ALSO_NOT[function]) if loaded(p, modules)] == []


@pytest.mark.parametrize("function", HELD_OFF)
def test_a_handler_collects_garbage_again_once_loaded_and_its_modules_are_frozen(function: str) -> None:
    # Given a fresh interpreter in a deployed function's environment
    # When it imports the function's handler, whose imports ran with the collector held off
    state = handler_imported(function)

    # Then the collector runs again for the invocations, and the modules' objects, which live as
    # long as the container, are out of its sight
    assert state["collecting"] is True
    assert state["frozen"] > 50_000
