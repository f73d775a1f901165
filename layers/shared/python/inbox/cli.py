"""The `inbox` command: `inbox dev` runs the local stack, `inbox token` mints a bearer token for it."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inbox", description="The multichannel inbox backend, locally.")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the local stack in the foreground (Ctrl-C stops it)")
    dev.add_argument("--port", type=int, default=3000, help="gateway port on 127.0.0.1 (0 = any free port)")
    dev.add_argument("--demo", action="store_true", help="load a demo team, customers, labels and accounts")
    dev.add_argument("--template", type=Path, help="use this synthesized template instead of synthesizing")

    token = commands.add_parser("token", help="print a bearer token the local stack accepts")
    token.add_argument("--user", required=True, help="the user id (the token's `sub`)")
    token.add_argument("--admin", action="store_true", help="member of the `admins` group")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds (default 12 h)")

    webhook = commands.add_parser("webhook", help="post a signed provider webhook to the local stack")
    webhook.add_argument("provider", choices=["meta"])
    webhook.add_argument("--url", default="http://127.0.0.1:3000", help="the local stack's URL")
    webhook.add_argument("--from", dest="sender", default="+33612345678", help="the contact's number")
    webhook.add_argument("--name", default="Jean Dupont", help="the contact's profile name")
    webhook.add_argument("--text", default="Bonjour, avez-vous des plaquettes de frein ?")
    webhook.add_argument("--phone-number-id", default=None, help="the business number (default: the demo's)")
    webhook.add_argument("--waba-id", default=None)

    args = parser.parse_args(argv)
    if args.command == "webhook":
        return _webhook(args)
    if args.command == "token":
        from inbox.local import tokens

        print(tokens.mint(args.user, admin=args.admin, lifetime_seconds=args.ttl))
        return 0
    return _dev(port=args.port, demo=args.demo, template_path=args.template)


def _webhook(args: argparse.Namespace) -> int:
    import os

    from inbox.local import demo, simulate

    secret = os.environ.get("INBOX_META_APP_SECRET")
    if not secret:
        print("Set INBOX_META_APP_SECRET to the value `inbox dev --demo` printed.", file=sys.stderr)
        return 2
    payload = simulate.meta_text_payload(
        phone_number_id=args.phone_number_id or demo.DEMO_PHONE_NUMBER_ID,
        waba_id=args.waba_id or demo.DEMO_WABA_ID,
        sender=args.sender,
        name=args.name,
        text=args.text,
    )
    answer = simulate.post_signed(f"{args.url}/webhooks/whatsapp/meta", payload, secret)
    print(answer.status_code, answer.text)
    return 0 if answer.is_success else 1


def _dev(*, port: int, demo: bool, template_path: Path | None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr
    )
    for noisy in ("werkzeug", "botocore", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from inbox.local import demo as demo_data
    from inbox.local.stack import LocalStack, project_dir, synthesize
    from inbox.local.template import Template

    project = project_dir()
    if demo:
        demo_data.configure_environment()
    template = Template.load(template_path or synthesize(project))
    stack = LocalStack(project=project, template=template, port=port)
    stack.start()
    if demo:
        demo_data.load(stack.url)
    print(f"inbox local stack ready at {stack.url}", flush=True)
    print(
        "  Get a token:   TOKEN=$(.venv/bin/inbox token --user alice --admin)\n"
        f'  Call the API:  curl -H "Authorization: Bearer $TOKEN" {stack.url}/v1/labels\n'
        f"  API docs:      {stack.url}/docs\n"
        "  Ctrl-C stops it.",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
