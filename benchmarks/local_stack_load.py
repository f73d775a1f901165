"""The local stack under a bounded loopback burst: signed Meta webhooks from 100 contacts, an
auto-reply "always" and load-balanced assignment, the Graph API at a loopback stand-in.

Prints the acknowledgement latency (p50, p99, max), the time from the last webhook to the queues
drained and every auto-reply sent, the correctness checks (nothing lost or duplicated, one
auto-reply per contact, assignments balanced), and how long `inbox dev` takes to stop on SIGTERM
while webhooks are still arriving (and whether any of its processes is left).

    .venv/bin/python benchmarks/local_stack_load.py [--webhooks 1000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from inbox.local import simulate, tokens  # noqa: E402
from stack_process import StackProcess, alive, user_environment  # noqa: E402

APP_SECRET = secrets.token_hex(16)
VERIFY_TOKEN = secrets.token_hex(8)
PHONE_NUMBER_ID = "100000000000001"
WABA_ID = "200000000000001"
CONTACTS = 100
TEAM = ("ana", "ben", "cleo")
MOTO = re.compile(r"moto server \(the local AWS\) at (http://\S+)")


class GraphStandIn:
    """Meta's `/{phone_number_id}/messages`, answering as Meta does; counts sends per recipient."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        lock = threading.Lock()
        sent = self.sent

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                with lock:
                    sent[str(body.get("to"))] += 1
                    count = sum(sent.values())
                answer = json.dumps(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.load{count}"}],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v21.0"


@contextmanager
def local_stack(workdir: Path, graph_url: str) -> Iterator[StackProcess]:
    key_file = workdir / "dev-signing-key"
    stack = StackProcess(
        ["--port", "0"],
        user_environment(
            INBOX_DEV_SIGNING_KEY_FILE=str(key_file),
            INBOX_META_APP_SECRET=APP_SECRET,
            INBOX_META_VERIFY_TOKEN=VERIFY_TOKEN,
            INBOX_META_GRAPH_URL=graph_url,
        ),
        workdir,
    )
    stack.start()
    try:
        yield stack
    finally:
        if stack.process is not None and stack.process.poll() is None:
            stack.stop()


def admin_client(stack: StackProcess, key_file: Path) -> httpx.Client:
    import os

    os.environ["INBOX_DEV_SIGNING_KEY_FILE"] = str(key_file)
    token = tokens.mint("load-admin", admin=True)
    return httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def set_up(client: httpx.Client) -> str:
    for user in TEAM:
        client.post("/v1/users", json={"id": user, "name": user.title(), "email": f"{user}@example.com"})
    account = client.post(
        "/v1/accounts",
        json={
            "provider": "meta_cloud",
            "name": "Load",
            "address": "+33180000000",
            "config": {"waba_id": WABA_ID, "phone_number_id": PHONE_NUMBER_ID, "business_name": "Load"},
            "credentials": {"access_token": "load-token"},
        },
    )
    account.raise_for_status()
    account_id: str = account.json()["id"]
    for path, body in (
        ("authorized-users", {"user_ids": list(TEAM)}),
        (
            "auto-reply",
            {"enabled": True, "cooldown_minutes": 240, "rules": [{"trigger": "always", "message": "Hello"}]},
        ),
        ("assignment-rules", {"rules": [{"type": "load_balanced"}]}),
    ):
        client.put(f"/v1/accounts/{account_id}/{path}", json=body).raise_for_status()
    return account_id


def contact(n: int) -> str:
    return f"+336{n % CONTACTS:08d}"


def post_webhook(http: httpx.Client, url: str, n: int) -> float:
    payload = simulate.meta_text_payload(
        phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID, sender=contact(n), name=f"C{n}", text=f"m{n}"
    )
    body = json.dumps(payload).encode()
    started = time.perf_counter()
    answer = http.post(
        f"{url}/webhooks/whatsapp/meta",
        content=body,
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": simulate.meta_signature(body, APP_SECRET),
        },
    )
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"webhook {n}: {answer.status_code} {answer.text}")
    return elapsed


def burst(url: str, count: int, seconds: float, stop: threading.Event | None = None) -> list[float]:
    """`count` webhooks spread evenly over `seconds`; each one's acknowledgement time."""
    latencies: list[float] = []
    start = time.monotonic()
    local = threading.local()

    def one(n: int) -> None:
        delay = start + n * seconds / count - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if stop is not None and stop.is_set():
            return
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=30)
        try:
            latencies.append(post_webhook(local.http, url, n))
        except (httpx.HTTPError, RuntimeError):
            if stop is None:
                raise

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(one, range(count)))
    return latencies


def queue_depth(endpoint: str) -> int:
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the local AWS takes any)
    )
    total = 0
    for queue_url in sqs.list_queues().get("QueueUrls", []):
        if "Dead" in queue_url:
            continue
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        total += sum(int(v) for v in attributes.values())
    return total


def check(client: httpx.Client, account_id: str, webhooks: int, graph: GraphStandIn) -> dict[str, Any]:
    conversations = client.get("/v1/conversations", params={"account_id": account_id, "limit": 200}).json()
    inbound = 0
    auto_replies = 0
    for conversation in conversations["items"]:
        messages = client.get(
            f"/v1/conversations/{conversation['id']}/messages", params={"limit": 200}
        ).json()["items"]
        inbound += sum(1 for m in messages if m["direction"] == "in")
        auto_replies += sum(1 for m in messages if m["sent_by"] == "auto_reply")
    assigned = Counter(c["assignee_id"] for c in conversations["items"])
    return {
        "conversations": len(conversations["items"]),
        "inbound_messages": inbound,
        "expected_inbound": webhooks,
        "auto_replies_stored": auto_replies,
        "auto_replies_sent": sum(graph.sent.values()),
        "max_sends_to_one_contact": max(graph.sent.values(), default=0),
        "assignments": dict(sorted(assigned.items(), key=lambda kv: str(kv[0]))),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    graph = GraphStandIn()
    with tempfile.TemporaryDirectory() as where:
        workdir = Path(where)
        with local_stack(workdir, graph.url) as stack:
            found = MOTO.search(stack.log())
            assert found, "the stack did not say where its AWS is"
            endpoint = found.group(1)
            client = admin_client(stack, workdir / "dev-signing-key")
            account_id = set_up(client)

            latencies = burst(stack.url, args.webhooks, args.seconds)
            last = time.monotonic()
            deadline = last + 120
            while time.monotonic() < deadline:
                if queue_depth(endpoint) == 0 and len(graph.sent) >= min(CONTACTS, args.webhooks):
                    break
                time.sleep(0.2)
            drained = time.monotonic() - last
            facts = check(client, account_id, args.webhooks, graph)

            # Stop while webhooks keep arriving.
            stop = threading.Event()
            more = threading.Thread(target=burst, args=(stack.url, 400, 20, stop))
            more.start()
            time.sleep(3)
            processes = stack.descendants()
            stop_seconds = stack.stop()
            stop.set()
            more.join()
            left = [pid for pid in processes if alive(pid)]

    print(f"webhooks: {len(latencies)} over {args.seconds:.0f} s ({len(latencies) / args.seconds:.1f}/s)")
    print(
        f"acknowledged: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    print(f"drained {drained:.1f} s after the last webhook")
    for name, value in facts.items():
        print(f"  {name}: {value}")
    print(f"stopped {stop_seconds:.1f} s after SIGTERM under load; processes left: {len(left)}")
    ok = (
        facts["inbound_messages"] == args.webhooks
        and facts["max_sends_to_one_contact"] == 1
        and facts["auto_replies_stored"] == facts["conversations"]
        and not left
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
