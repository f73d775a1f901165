"""The sandbox's Google and Microsoft for `inbox dev --sandbox-providers`: each stand-in
(`inbox.local.sandbox.google`, `.microsoft`) on its own https server on 127.0.0.1 (MSAL accepts only
https authorities, and reads the first path segment as the tenant: each needs a root of its own),
with a throwaway CA the product trusts through INBOX_CA_BUNDLE, the OAuth apps the product is given,
and one mailbox each that the consent page signs in with. Local-only code (not in the Lambda layer).

Beside the providers' paths, each server takes a message for a mailbox, as a curl can send one:

    POST /sandbox/mailboxes/<address>/messages      body: the RFC 822 message
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from http import HTTPStatus
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from inbox.email.sending import wire_bytes
from inbox.local.sandbox.google import GoogleSandbox
from inbox.local.sandbox.microsoft import MicrosoftSandbox
from inbox.local.sandbox.tls import LocalCA, local_ca

log = logging.getLogger("local.sandbox")

GMAIL_MAILBOX = "team@gmail.sandbox.example"
OUTLOOK_MAILBOX = "team@outlook.sandbox.example"
DELIVERY = "/sandbox/mailboxes/"
WSGIApp = Callable[[dict[str, Any], Any], Any]


class MailboxProviders:
    """Google (Gmail) and Microsoft (Office 365) of the sandbox, each with one mailbox holding a
    first message; `google` and `microsoft` hold their state (tests' knobs work on them too)."""

    def __init__(self, ca_directory: Path | None = None) -> None:
        self.ca: LocalCA = local_ca(ca_directory)
        self.google = GoogleSandbox(
            client_id=f"sandbox-{secrets.token_hex(4)}.apps.googleusercontent.com",
            client_secret=f"GOCSPX-{secrets.token_urlsafe(18)}",
        )
        self.microsoft = MicrosoftSandbox(
            client_id=str(uuid.uuid4()), client_secret=secrets.token_urlsafe(24)
        )
        self.google.deliver(GMAIL_MAILBOX, welcome(GMAIL_MAILBOX, "Gmail"))
        self.microsoft.add_mailbox(OUTLOOK_MAILBOX, display_name="Team")
        self.microsoft.deliver(OUTLOOK_MAILBOX, welcome(OUTLOOK_MAILBOX, "Office 365"))
        self._servers: list[BaseWSGIServer] = []
        self.google_url = self.microsoft_url = ""

    def start(self) -> None:
        self.google_url = self._serve(with_delivery(self.google, self.google.deliver), "google")
        self.microsoft_url = self._serve(with_delivery(self.microsoft, self.microsoft.deliver), "microsoft")
        log.info("sandbox Google at %s, Microsoft at %s", self.google_url, self.microsoft_url)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def environment(self) -> dict[str, str]:
        """The settings that point the product at these two and give it their OAuth apps."""
        return {
            "INBOX_CA_BUNDLE": str(self.ca.bundle),
            "INBOX_GOOGLE_ACCOUNTS_URL": self.google_url,
            "INBOX_GOOGLE_OAUTH_URL": self.google_url,
            "INBOX_GMAIL_API_URL": self.google_url,
            "INBOX_GOOGLE_CLIENT_ID": self.google.client_id,
            "INBOX_GOOGLE_CLIENT_SECRET": self.google.client_secret,
            "INBOX_MICROSOFT_LOGIN_URL": self.microsoft_url,
            "INBOX_MICROSOFT_GRAPH_URL": self.microsoft_url,
            "INBOX_MICROSOFT_CLIENT_ID": self.microsoft.client_id,
            "INBOX_MICROSOFT_CLIENT_SECRET": self.microsoft.client_secret,
        }

    def _serve(self, application: WSGIApp, name: str) -> str:
        server = make_server("127.0.0.1", 0, application, threaded=True, ssl_context=self.ca.server_context)
        self._servers.append(server)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{name}", daemon=True
        ).start()
        return f"https://127.0.0.1:{server.port}"


def with_delivery(provider: WSGIApp, deliver: Callable[[str, bytes], str]) -> WSGIApp:
    """`provider`, plus `POST /sandbox/mailboxes/<address>/messages` delivering the body to it."""

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if not request.path.startswith(DELIVERY):
            return provider(environ, start_response)
        address, _, rest = request.path[len(DELIVERY) :].partition("/")
        if request.method != "POST" or rest != "messages" or "@" not in address:
            answer = Response("POST /sandbox/mailboxes/<address>/messages\n", status=HTTPStatus.NOT_FOUND)
        elif not request.get_data():
            answer = Response("the body is the RFC 822 message\n", status=HTTPStatus.BAD_REQUEST)
        else:
            message_id = deliver(address, request.get_data())
            answer = Response(
                json.dumps({"id": message_id}), status=HTTPStatus.CREATED, mimetype="application/json"
            )
        return answer(environ, start_response)

    return application


def welcome(address: str, provider: str) -> bytes:
    """The first message of a sandbox mailbox: something to see arrive once it is connected."""
    message = EmailMessage()
    message["From"] = "Ana Silva <ana@customer.example>"
    message["To"] = address
    message["Subject"] = f"Hello from a customer ({provider})"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="customer.example")
    message.set_content("Hello, is my order on its way? Ana")
    return wire_bytes(message)
