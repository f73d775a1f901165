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

    args = parser.parse_args(argv)
    if args.command == "token":
        from inbox.local import tokens

        print(tokens.mint(args.user, admin=args.admin, lifetime_seconds=args.ttl))
        return 0
    return _dev(port=args.port, demo=args.demo, template_path=args.template)


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
