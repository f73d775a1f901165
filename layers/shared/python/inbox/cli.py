"""The `inbox` command: `inbox dev` runs the local stack, `inbox token` mints a bearer token for it,
`inbox webhook meta|twilio` posts a signed provider webhook to it."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

# The local admin the console link printed by `inbox dev` signs in as (valid 12 hours).
CONSOLE_ADMIN = "alice"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inbox", description="The multichannel inbox backend, locally.")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the local stack in the foreground (Ctrl-C stops it)")
    dev.add_argument("--port", type=int, default=3000, help="gateway port on 127.0.0.1 (0 = any free port)")
    dev.add_argument(
        "--demo",
        action="store_true",
        help="load a demo team, customers, labels and WhatsApp accounts (Meta, Twilio); implies the sandbox",
    )
    dev.add_argument(
        "--sandbox-providers",
        action="store_true",
        help="point the product at a loopback sandbox of Meta's, Twilio's, Google's and Microsoft's APIs"
        " (implied by --demo)",
    )
    dev.add_argument("--template", type=Path, help="use this synthesized template instead of synthesizing")

    token = commands.add_parser("token", help="print a bearer token the local stack accepts")
    token.add_argument("--user", required=True, help="the user id (the token's `sub`)")
    token.add_argument("--admin", action="store_true", help="member of the `admins` group")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds (default 12 h)")

    webhook = commands.add_parser("webhook", help="post a signed provider webhook to the local stack")
    webhook.add_argument("provider", choices=["meta", "twilio"])
    webhook.add_argument("--url", default="http://127.0.0.1:3000", help="the local stack's URL")
    webhook.add_argument("--from", dest="sender", default="+33612345678", help="the contact's number")
    webhook.add_argument("--name", default="Jean Dupont", help="the contact's profile name")
    webhook.add_argument("--text", default="Bonjour, avez-vous des plaquettes de frein ?")
    webhook.add_argument(
        "--phone-number-id", default=None, help="meta: the business number (default: the demo's)"
    )
    webhook.add_argument(
        "--waba-id", default=None, help="meta: the WhatsApp Business Account (default: the demo's)"
    )
    webhook.add_argument("--to", default=None, help="twilio: the business number (default: the demo's)")
    webhook.add_argument("--account-sid", default=None, help="twilio: the AC… SID (default: the demo's)")
    webhook.add_argument(
        "--account-id", default=None, help="twilio: the product's account id (default: found by the SID)"
    )
    webhook.add_argument(
        "--public-url",
        default=None,
        help="twilio: the URL the stack signs against (its INBOX_PUBLIC_URL; default --url)",
    )

    args = parser.parse_args(argv)
    if args.command == "webhook":
        return _webhook(args)
    if args.command == "token":
        from inbox.local import tokens

        print(tokens.mint(args.user, admin=args.admin, lifetime_seconds=args.ttl))
        return 0
    return _dev(
        port=args.port, demo=args.demo, sandbox_providers=args.sandbox_providers, template_path=args.template
    )


def _webhook(args: argparse.Namespace) -> int:
    import os

    from inbox.local import demo, simulate

    if args.provider == "twilio":
        return _twilio_webhook(args)
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


def _twilio_webhook(args: argparse.Namespace) -> int:
    import os

    from inbox.local import demo, simulate

    token = os.environ.get(demo.TWILIO_AUTH_TOKEN_VARIABLE)
    if not token:
        print(
            f"Set {demo.TWILIO_AUTH_TOKEN_VARIABLE} to the value `inbox dev --demo` printed.", file=sys.stderr
        )
        return 2
    account_sid = args.account_sid or demo.DEMO_TWILIO_ACCOUNT_SID
    account_id = args.account_id or simulate.twilio_account_id(args.url, account_sid)
    if account_id is None:
        print(f"No Twilio account with SID {account_sid} at {args.url}: give --account-id.", file=sys.stderr)
        return 2
    params = simulate.twilio_text_params(
        account_sid=account_sid,
        to=args.to or demo.DEMO_TWILIO_NUMBER,
        sender=args.sender,
        name=args.name,
        text=args.text,
    )
    path = f"/webhooks/whatsapp/twilio/{account_id}"
    signed = (args.public_url or args.url).rstrip("/") + path
    answer = simulate.post_twilio_signed(args.url.rstrip("/") + path, params, token, signed_url=signed)
    print(answer.status_code, answer.text)
    return 0 if answer.is_success else 1


def _dev(*, port: int, demo: bool, sandbox_providers: bool, template_path: Path | None) -> int:
    # Both stop the stack, even where SIGINT arrives ignored (started in the background by a shell).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr
    )
    for noisy in ("werkzeug", "botocore", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from inbox.local import demo as demo_data
    from inbox.local.stack import LocalStack, project_dir, synthesize
    from inbox.local.template import Template

    project = project_dir()
    sandbox = None
    if demo or sandbox_providers:
        import os

        from inbox.local.sandbox import ProviderSandbox
        from inbox.local.sandbox.mailboxes import GMAIL_MAILBOX, OUTLOOK_MAILBOX

        demo_data.configure_environment()
        sandbox = ProviderSandbox(meta_app_secret=os.environ["INBOX_META_APP_SECRET"])
        sandbox.start()
        sandbox.configure_environment()
    template = Template.load(template_path or synthesize(project))
    stack = LocalStack(project=project, template=template, port=port)
    try:
        stack.start()
        if sandbox is not None:
            sandbox.deliver_to(stack.url)
            print(f"Provider sandbox (Meta Graph API, Twilio) at {sandbox.url}", flush=True)
            mailboxes = sandbox.mailboxes
            print(
                f"  Google (sign-in, Gmail) at {mailboxes.google_url}, mailbox {GMAIL_MAILBOX}\n"
                f"  Microsoft (sign-in, Graph) at {mailboxes.microsoft_url}, mailbox {OUTLOOK_MAILBOX}",
                flush=True,
            )
        if demo:
            demo_data.load(stack.url, sandbox=sandbox)
        from inbox.local import tokens

        console_link = f"{stack.url}/console/#access_token={tokens.mint(CONSOLE_ADMIN, admin=True)}"
        print(f"inbox local stack ready at {stack.url}", flush=True)
        print(
            f"  Admin console: {console_link}\n"
            "  Get a token:   TOKEN=$(.venv/bin/inbox token --user alice --admin)\n"
            f'  Call the API:  curl -H "Authorization: Bearer $TOKEN" {stack.url}/v1/labels\n'
            f"  API docs:      {stack.url}/docs\n"
            "  Ctrl-C stops it.",
            flush=True,
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        # Ctrl-C and SIGTERM again while stopping are ignored: the stop takes a few seconds at most.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if sandbox is not None:
            sandbox.stop()  # first: no callback then reaches a stack that is stopping
        stack.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (and SIGINT, whatever it inherited) stops the stack as Ctrl-C does."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
