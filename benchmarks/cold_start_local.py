"""Each function's cold start as the local stack's worker runs it: init (the handler's import) plus
its first invocation, in a fresh interpreter, beside `import boto3` alone.

This is the cold start a user feels: the first request after idle waits on both. Each run starts a
new interpreter with the function's environment from the synthesized template (resources resolved
to a loopback moto server, tracing off as locally), what Lambda sets, and the local deployment's
Meta webhook settings (as `inbox dev --demo` sets them); it imports `functions/<name>/handler.py`
and calls `handler` once with a minimal event:

    settings_api      GET /v1/labels by an admin (API Gateway payload 2.0, the authorizer's claims)
    webhook_whatsapp  Meta's signed POST of one text, to a number no account has
    console           GET /console/
    route             one inbound WhatsApp message, for an account the table does not hold
    send              one outbound message the table does not hold
    poll_email        the schedule's tick (no email account to fan out to)
    sync_templates    a scheduled event (nothing pending review)

All but the console read the table (moto on 127.0.0.1), so their first call
includes building their DynamoDB client, as it does deployed; nothing else leaves the machine.

    python benchmarks/cold_start_local.py [--runs 5] [--also OTHER_CHECKOUT] [--tracing]

`--also` measures another checkout's handlers in the same run, interleaved (before/after a change).
`--tracing` turns tracing on as deployed, to measure what the X-Ray SDK adds: the children get an
invocation's trace header, and the SDK sends its segments to a loopback UDP port no one listens on.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))

from inbox.local import tokens  # noqa: E402
from inbox.local.gateway import MatchedRoute, build_event  # noqa: E402
from inbox.local.template import ACCOUNT_ID, REGION, FunctionResource, Route, Template, resolve  # noqa: E402

BASELINE = "boto3"
VERIFY_TOKEN = "bench-verify-token"  # noqa: S105 (a local stand-in)
META_APP_SECRET = "bench-app-secret"  # noqa: S105 (a local stand-in)
# What a local admin's verified token says (`inbox token --user bench-admin --admin`).
ADMIN_CLAIMS = {"sub": "bench-admin", "token_use": "access", "cognito:groups": ["admins"]}
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}
# What Lambda sets for an invocation of a function with active tracing (`--tracing`).
TRACING = {
    "_X_AMZN_TRACE_ID": "Root=1-67890abc-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
}
# Runs in the child: the clock starts before the handler's import and stops after its first call.
# It prints one JSON line: init and invocation seconds, and how the invocation ended.
CHILD = """
import json, os, sys, time
target, event = sys.argv[1], json.loads(sys.argv[2])


class Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
    memory_limit_in_mb = 256
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = f"/aws/lambda/{function_name}"
    log_stream_name = "local"

    def get_remaining_time_in_millis(self):
        return 30_000


start = time.perf_counter()
if target == "boto3":
    import boto3
    handler = None
else:
    import importlib.util
    sys.path.insert(0, target.rpartition("/")[0])
    spec = importlib.util.spec_from_file_location("handler", target)
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
    handler = module.handler
loaded = time.perf_counter()
try:
    outcome = "-" if handler is None else "ok: " + json.dumps(handler(event, Context()))[:60]
except Exception as error:
    outcome = f"raised {type(error).__name__}: {error}"[:80]
done = time.perf_counter()
print(json.dumps({"init": loaded - start, "invoke": done - loaded, "outcome": outcome}))
"""


def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": "2025-01-01T00:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/bench"],
        "detail": {},
    }


def sqs_event(body: dict[str, Any], queue: str, **attributes: str) -> dict[str, Any]:
    """An SQS batch of one message, as Lambda delivers it."""
    record = {
        "messageId": "00000000-0000-0000-0000-000000000001",
        "receiptHandle": "bench",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", **attributes},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}",
        "awsRegion": REGION,
    }
    return {"Records": [record]}


def inbound_message() -> dict[str, Any]:
    """The inbound queue's body for a text from a contact, to an account that does not exist."""
    return {
        "event": {
            "kind": "message",
            "account_id": "acc_bench",
            "channel": "whatsapp",
            "provider": "meta_cloud",
            "provider_message_id": "wamid.bench",
            "contact": {"address": "+33612345678", "name": "Bench"},
            "sent_at": "2025-01-01T00:00:00Z",
            "received_at": "2025-01-01T00:00:01Z",
            "type": "text",
            "text": "Bonjour",
        }
    }


def outbound_request() -> dict[str, Any]:
    return {
        "account_id": "acc_bench",
        "conversation_id": "conv_bench",
        "message_pk": "CONV#conv_bench",
        "message_sk": "MSG#bench",
        "to": "+33612345678",
    }


def http_event(
    function_id: str,
    path: str,
    query: str = "",
    *,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    claims: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A payload-2.0 request, as the gateway builds it: a GET, or a POST of `body`; with the
    authorizer's `claims` of a verified token, or none."""
    method = "POST" if body else "GET"
    route = Route(method=method, path=path, function_id=function_id, jwt=False)
    return build_event(
        route=MatchedRoute(route, {}),
        method=method,
        raw_path=path,
        raw_query=query,
        headers=list(headers),
        body=body,
        claims=claims,
        host="127.0.0.1",
        source_ip="127.0.0.1",
    )


def meta_message(function_id: str) -> dict[str, Any]:
    """Meta's webhook POST of one text, signed with the local app secret, to a number no account
    has: verified, parsed, looked up in the table (its client built), answered 200."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33100000000", "phone_number_id": "bench-phone-id"},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": "33612345678"}],
        "messages": [
            {
                "from": "33612345678",
                "id": "wamid.bench",
                "timestamp": "1735689600",
                "type": "text",
                "text": {"body": "Bonjour"},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(payload).encode()
    signature = hmac.new(META_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = [("content-type", "application/json"), ("x-hub-signature-256", f"sha256={signature}")]
    return http_event(function_id, "/webhooks/whatsapp/meta", body=body, headers=headers)


def first_event(function: FunctionResource) -> dict[str, Any]:
    """The event of the function's first invocation (see the module's docstring)."""
    if function.name == "settings_api":
        return http_event(function.logical_id, "/v1/labels", claims=tokens.as_authorizer_claims(ADMIN_CLAIMS))
    if function.name == "webhook_whatsapp":
        return meta_message(function.logical_id)
    if function.name == "console":
        return http_event(function.logical_id, "/console/")
    if function.name in ("sync_templates", "poll_email"):
        return scheduled_event()
    if function.name == "route":
        return sqs_event(inbound_message(), "inbound.fifo", MessageGroupId="bench")
    if function.name == "send":
        return sqs_event(outbound_request(), "outbound")
    raise ValueError(f"no first event for {function.name}")


@dataclass(frozen=True)
class Target:
    label: str
    argument: str  # "boto3", or the handler file's path
    event: dict[str, Any] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Result:
    target: Target
    init: list[float] = field(default_factory=list)
    invoke: list[float] = field(default_factory=list)
    outcomes: set[str] = field(default_factory=set)

    @staticmethod
    def _ms(seconds: list[float]) -> float:
        return statistics.median(seconds) * 1000

    @property
    def total_ms(self) -> float:
        return self._ms([i + v for i, v in zip(self.init, self.invoke, strict=True)])


@dataclass(frozen=True)
class LocalStack:
    template: Template
    endpoint: str  # moto's
    variables: Mapping[str, Mapping[str, str]]  # each function's, from the template, by logical id
    tracing: bool = False

    def environment(self, function: FunctionResource | None, root: Path) -> dict[str, str]:
        """A worker's environment: the function's variables, the local stack's own (moto, no
        tracing, the demo's Meta settings) and Lambda's; `None`: the baseline's."""
        return {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(root / "layers" / "shared" / "python"),
            **(self.variables[function.logical_id] if function else {}),
            **LOCAL_AWS,
            "AWS_ENDPOINT_URL": self.endpoint,
            **(TRACING if self.tracing else {"POWERTOOLS_TRACE_DISABLED": "true"}),
            "INBOX_META_VERIFY_TOKEN": VERIFY_TOKEN,
            "INBOX_META_APP_SECRET": META_APP_SECRET,
            "AWS_LAMBDA_FUNCTION_NAME": function.name if function else "baseline",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb if function else 256),
            "LAMBDA_TASK_ROOT": str(root / "functions" / function.name) if function else str(root),
            "_HANDLER": function.handler if function else "",
        }

    def targets(self, root: Path = ROOT, prefix: str = "") -> list[Target]:
        """Every function of the template, with the handler of the checkout at `root`."""
        return [
            Target(
                f"{prefix}{function.name}",
                str(root / "functions" / function.name / "handler.py"),
                first_event(function),
                self.environment(function, root),
            )
            for function in sorted(self.template.functions(), key=lambda f: f.name)
        ]


@contextmanager
def local_stack(*, tracing: bool = False) -> Iterator[LocalStack]:
    """moto on 127.0.0.1 holding the template's tables and queues."""
    import boto3
    from moto.server import ThreadedMotoServer

    from inbox.local import resources
    from inbox.local.stack import synthesize

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's one line per request
    template = Template.load(synthesize(ROOT))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    try:
        os.environ.update({**LOCAL_AWS, "AWS_ENDPOINT_URL": endpoint})
        boto3.setup_default_session()
        created = resources.create_all(template, api_url="http://127.0.0.1:3000")
        variables = {
            f.logical_id: {k: str(v) for k, v in resolve(dict(f.environment), created.lookup).items()}
            for f in template.functions()
        }
        yield LocalStack(template, endpoint, variables, tracing)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


def measure_once(target: Target) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, target.argument, json.dumps(target.event)],
        env=dict(target.environment),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        raise SystemExit(f"{target.label} failed:\n{completed.stderr}")
    answer: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return answer


def measure(all_targets: Sequence[Target], runs: int) -> list[Result]:
    """Every target `runs` times, the targets taking turns so drift hits them alike."""
    results = {target.label: Result(target) for target in all_targets}
    for _ in range(runs):
        for target in all_targets:
            answer = measure_once(target)
            result = results[target.label]
            result.init.append(answer["init"])
            result.invoke.append(answer["invoke"])
            result.outcomes.add(answer["outcome"])
    return list(results.values())


def table(results: Sequence[Result]) -> str:
    base = next(r.total_ms for r in results if r.target.argument == BASELINE)
    header = ("function", "init ms", "1st call ms", "total ms", "x boto3", "first call's outcome")
    rows = [
        (
            r.target.label,
            f"{Result._ms(r.init):.1f}",
            f"{Result._ms(r.invoke):.1f}",
            f"{r.total_ms:.1f}",
            f"{r.total_ms / base:.2f}",
            " | ".join(sorted(r.outcomes)),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        first, *numbers, outcome = row
        cells = [f"{first:<{widths[0]}}", *(f"{n:>{w}}" for n, w in zip(numbers, widths[1:], strict=True))]
        return "  ".join([*cells, outcome])

    return "\n".join([line(header), *map(line, rows)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per function (default 5)")
    parser.add_argument(
        "--also", type=Path, help="another checkout whose handlers to measure in the same run"
    )
    parser.add_argument("--tracing", action="store_true", help="tracing on, as deployed")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    with local_stack(tracing=args.tracing) as stack:
        all_targets = [Target(f"import {BASELINE}", BASELINE, environment=stack.environment(None, ROOT))]
        all_targets += stack.targets()
        if args.also:
            all_targets += stack.targets(args.also.resolve(), prefix=f"{args.also}: ")
        results = measure(all_targets, args.runs)
    tracing = "tracing on" if args.tracing else "tracing off"
    print(f"Init + first invocation, fresh interpreter, {tracing}, median of {args.runs} ({sys.executable})")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
