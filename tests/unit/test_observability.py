"""The shared Logger, Metrics and Tracer read their environment when used, not when imported: a
function's module may be imported before its environment is set (a test, a local worker), and still
log and publish with its service and namespace. Tracing, on only in Lambda, still traces there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from inbox.observability import logger, metrics, tracer

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = SimpleNamespace(
    function_name="probe",
    function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
    memory_limit_in_mb=128,
    aws_request_id="req-1",
)


def printed_json(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_metrics_are_published_in_the_namespace_set_after_the_import(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the module imported (above) before the function's namespace was set
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SetLater")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "metrics-probe")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)

    @metrics.log_metrics
    def handler(event: Any, context: Any) -> str:
        metrics.add_metric(name="Probed", unit="Count", value=1)
        return "done"

    # When the handler runs
    assert handler({}, CONTEXT) == "done"

    # Then its metric is published in that namespace
    (published,) = [line for line in printed_json(capsys.readouterr().out) if "_aws" in line]
    assert published["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SetLater"
    assert (published["service"], published["Probed"]) == ("metrics-probe", [1.0])


def test_log_lines_carry_the_service_and_the_invocation_of_the_moment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "logger-probe")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")

    @logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
    def handler(event: Any, context: Any) -> None:
        logger.info("Handled")

    handler({"requestContext": {"requestId": "corr-1"}}, CONTEXT)

    (line,) = [x for x in printed_json(capsys.readouterr().out) if x.get("message") == "Handled"]
    assert (line["service"], line["function_request_id"], line["correlation_id"]) == (
        "logger-probe",
        "req-1",
        "corr-1",
    )


def test_with_tracing_off_a_traced_handler_just_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")

    @tracer.capture_lambda_handler
    def handler(event: Any, context: Any) -> int:
        return 42

    assert tracer.current() is None
    assert handler({}, CONTEXT) == 42


def test_in_lambda_with_tracing_on_the_handler_is_traced_from_its_first_call() -> None:
    # Given a fresh interpreter with a traced Lambda invocation's environment (segments go to a
    # loopback UDP port no one listens on)
    child = """
import sys
from inbox.observability import tracer

@tracer.capture_lambda_handler
def handler(event, context):
    import aws_xray_sdk.core
    return aws_xray_sdk.core.xray_recorder.current_subsegment().name

def patched():
    return [m for m in ("aws_xray_sdk.ext.botocore", "aws_xray_sdk.ext.httpx") if m in sys.modules]

print("before the call:", "aws_xray_sdk" in sys.modules)
print("the call's subsegment:", handler({}, None))
print("patched:", patched())
import httpx
print("patched once httpx is imported:", patched())
"""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "shared" / "python"),
        "POWERTOOLS_SERVICE_NAME": "inbox",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
        "_X_AMZN_TRACE_ID": "Root=1-67890abc-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    }

    # When a traced handler is imported, then called
    completed = subprocess.run(
        [sys.executable, "-c", child], env=environment, capture_output=True, text=True, check=False
    )

    # Then the X-Ray SDK was loaded by the call, not the import; the call ran in its subsegment; AWS
    # calls are recorded, and provider calls once the function imports httpx
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "before the call: False",
        "the call's subsegment: ## handler",
        "patched: ['aws_xray_sdk.ext.botocore']",
        "patched once httpx is imported: ['aws_xray_sdk.ext.botocore', 'aws_xray_sdk.ext.httpx']",
    ]
