"""Start `inbox dev` in a clean environment, mint an admin's and an agent's token, and run
schemathesis over `/openapi.json` as each of them at once; exit 0 when neither run failed.

tests/e2e/test_api_fuzz.py runs it inside a network namespace that has only `lo`, so nothing a
fuzzed body names (an IMAP host, a provider URL) can be reached. By hand, the same way:

    unshare --net sh -c 'ip link set lo up && exec "$0" "$@"'
        .venv/bin/python tests/e2e/api_fuzz_runner.py --template T --workdir D  (one line)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

READY = re.compile(r"ready at (http://127\.0\.0\.1:\d+)")
ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("api_fuzz.toml")
# Meta's and Twilio's base URLs on the loopback stand-in below; Google's and Microsoft's are the
# sandbox's (`--sandbox-providers`), whose OAuth apps the connect routes then have.
PROVIDER_URLS = {
    "INBOX_META_GRAPH_URL": "meta/v21.0",
    "INBOX_TWILIO_API_URL": "twilio",
    "INBOX_TWILIO_CONTENT_URL": "twilio-content",
}
# What each provider answers a request with credentials (or a signup code) it does not know.
REFUSALS: dict[str, tuple[int, dict[str, Any]]] = {
    "meta": (
        401,
        {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}},
    ),
    "twilio": (401, {"code": 20003, "message": "Authenticate", "status": 401}),
    "twilio-content": (401, {"code": 20003, "message": "Authenticate", "status": 401}),
}


@dataclass(frozen=True)
class Identity:
    """Who schemathesis calls the API as, and how much it generates for them."""

    user: str
    admin: bool
    # The agent's run leaves out the coverage phase (the bulk of the time): as an admin, that phase
    # already sends every operation its malformed bodies and undeclared methods.
    phases: str


IDENTITIES = (
    Identity("fuzz-admin", admin=True, phases="examples,coverage,fuzzing,stateful"),
    Identity("fuzz-agent", admin=False, phases="examples,fuzzing,stateful"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", type=Path, required=True, help="the synthesized template")
    parser.add_argument("--workdir", type=Path, required=True, help="signing key, logs and reports")
    parser.add_argument("--max-examples", type=int, default=10, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    providers = refusing_providers()
    threading.Thread(target=providers.serve_forever, daemon=True).start()
    env = stack_environment(args.workdir, f"http://127.0.0.1:{providers.server_address[1]}")
    stack_log = args.workdir / "stack.log"
    with stack_log.open("w") as log:
        stack = subprocess.Popen(
            [
                *(sys.executable, "-m", "inbox.cli", "dev", "--port", "0", "--sandbox-providers"),
                *("--template", str(args.template)),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            url = wait_until_ready(stack, timeout=90)
            if url is None:
                print(f"the local stack did not start:\n{stack_log.read_text()}", file=sys.stderr)
                return 2
            runs = [fuzz(url, token(env, who), who, args) for who in IDENTITIES]
            codes = [report(run, who) for run, who in zip(runs, IDENTITIES, strict=True)]
        finally:
            stack.terminate()
            try:
                stack.wait(timeout=20)
            except subprocess.TimeoutExpired:
                stack.kill()
    requests = stack_log.read_text().count("local.gateway INFO")
    print(f"== {requests} requests answered by the local stack; its log: {stack_log}", flush=True)
    return next((code for code in codes if code != 0), 0)


def stack_environment(workdir: Path, providers_url: str) -> dict[str, str]:
    """What a user's shell would hold, plus the variables this run means to set: nothing else."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "INBOX_DEV_SIGNING_KEY_FILE": str(workdir / "dev-signing-key"),
        # The Meta app of the embedded signup (its code exchange then reaches the stand-in).
        "INBOX_META_APP_ID": "1234567890",
        "INBOX_META_APP_SECRET": secrets.token_hex(16),
        **{name: f"{providers_url}/{prefix}" for name, prefix in PROVIDER_URLS.items()},
    }


def refusing_providers() -> ThreadingHTTPServer:
    """Meta and Twilio on one loopback port, refusing every credential as they would (fuzzed
    tokens and signup codes are never valid); not yet serving."""

    class Provider(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _refuse(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            status, body = REFUSALS.get(self.path.split("/")[1], (404, {"error": "not_found"}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Provider)


def wait_until_ready(stack: subprocess.Popen[str], *, timeout: float) -> str | None:
    """The stack's URL from its "ready at URL" line; None if it exits or is not ready in time."""
    found: list[str] = []

    def read() -> None:
        assert stack.stdout is not None
        for line in stack.stdout:
            match = READY.search(line)
            if match and not found:
                found.append(match.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found and stack.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return found[0] if found else None


def token(env: dict[str, str], who: Identity) -> str:
    """A bearer token from `inbox token`, as a user gets one."""
    command = [
        sys.executable,
        "-m",
        "inbox.cli",
        "token",
        "--user",
        who.user,
        *(["--admin"] if who.admin else []),
    ]
    minted = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return minted.stdout.strip()


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    output: Path
    started: float


def fuzz(url: str, bearer: str, who: Identity, args: argparse.Namespace) -> Run:
    """schemathesis over every operation, every check, as `who`; started, not awaited."""
    output = args.workdir / f"schemathesis-{who.user}.txt"
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        who.phases,
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--header",
        f"Authorization: Bearer {bearer}",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        # Timing-based, so it depends on the machine's load, not on the API.
        "--suppress-health-check",
        "too_slow",
        "--no-color",
    ]
    with output.open("wb") as out:
        process = subprocess.Popen(command, cwd=args.workdir, stdout=out, stderr=subprocess.STDOUT)
    return Run(process, output, time.monotonic())


def report(run: Run, who: Identity) -> int:
    """Wait for a run, print its output; its exit code."""
    code = run.process.wait()
    print(f"== schemathesis as {who.user} ({who.phases})", flush=True)
    print(run.output.read_text(errors="replace"), flush=True)
    print(f"== {who.user}: exit {code}, done within {time.monotonic() - run.started:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
