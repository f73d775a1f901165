"""A loopback stand-in for the providers' APIs, for `inbox dev --demo` and `--sandbox-providers`:
Meta's Graph API and Twilio's REST and Content APIs on one HTTP server on 127.0.0.1, answering the
product's calls as the providers document them and calling the webhooks back with the statuses of
what was sent; Google's and Microsoft's sign-in and mail APIs on https servers of their own
(`inbox.local.sandbox.mailboxes`). Local-only code (not in the Lambda layer); nothing starts it
unless asked for.

    sandbox = ProviderSandbox(meta_app_secret=...)
    sandbox.start()
    sandbox.configure_environment()     # INBOX_META_GRAPH_URL etc., unless the shell set them
    ... start the local stack ...
    sandbox.deliver_to(stack.url)       # the webhooks' base URL
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response

from inbox.local.sandbox.callbacks import Callbacks, Timing
from inbox.local.sandbox.mailboxes import MailboxProviders
from inbox.local.sandbox.meta import MetaGraph
from inbox.local.sandbox.twilio import Twilio

log = logging.getLogger("local.sandbox")

META_PREFIX = "/meta"
TWILIO_PREFIX = "/twilio"
TWILIO_CONTENT_PREFIX = "/twilio-content"
GRAPH_VERSION = "v21.0"
META_WEBHOOK_PATH = "/webhooks/whatsapp/meta"

__all__ = ["ProviderSandbox", "Timing"]


class ProviderSandbox:
    """The sandbox servers: `meta` and `twilio` hold their state (register the demo's accounts
    there), `mailboxes` Google's and Microsoft's."""

    def __init__(self, *, meta_app_secret: str, timing: Timing | None = None, port: int = 0) -> None:
        timing = timing or Timing()
        self.callbacks = Callbacks()
        self.meta = MetaGraph(app_secret=meta_app_secret, callbacks=self.callbacks, timing=timing)
        self.twilio = Twilio(callbacks=self.callbacks, timing=timing)
        self.mailboxes = MailboxProviders()
        self._port = port
        self._server: BaseWSGIServer | None = None
        self.url = ""

    def start(self) -> None:
        application = DispatcherMiddleware(
            _not_found,
            {
                META_PREFIX: self.meta,
                TWILIO_PREFIX: self.twilio.api,
                TWILIO_CONTENT_PREFIX: self.twilio.content,
            },
        )
        self._server = make_server("127.0.0.1", self._port, application, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.port}"
        # A short poll interval: `stop` (Ctrl-C of `inbox dev`) returns at once.
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="provider-sandbox",
            daemon=True,
        ).start()
        self.callbacks.start()
        self.mailboxes.start()
        log.info("provider sandbox (Meta Graph API, Twilio) at %s", self.url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.mailboxes.stop()
        self.callbacks.stop()

    def environment(self) -> dict[str, str]:
        """The settings that point the product at the sandbox."""
        return {
            "INBOX_META_GRAPH_URL": f"{self.url}{META_PREFIX}/{GRAPH_VERSION}",
            "INBOX_TWILIO_API_URL": f"{self.url}{TWILIO_PREFIX}",
            "INBOX_TWILIO_CONTENT_URL": f"{self.url}{TWILIO_CONTENT_PREFIX}",
            **self.mailboxes.environment(),
        }

    def configure_environment(self) -> None:
        """Set the provider base URLs in this process's environment, which the local stack hands to
        every function, unless the shell set them already (then that provider is not sandboxed)."""
        for name, value in self.environment().items():
            if os.environ.get(name):
                print(f"{name}={os.environ[name]} (from the shell: not the sandbox)", flush=True)
                continue
            os.environ[name] = value
            print(f"{name}={value}", flush=True)

    def deliver_to(self, gateway_url: str) -> None:
        """Post the webhooks to the local stack at `gateway_url`: Meta's to its Meta webhook, Twilio's
        status callbacks to the path of the URL each send names, on that gateway."""
        self.meta.webhook_url = gateway_url.rstrip("/") + META_WEBHOOK_PATH
        self.twilio.deliver_to = gateway_url


def _not_found(environ: dict[str, Any], start_response: Any) -> Any:
    body = '{"error": {"message": "Not a provider API of the sandbox: /meta, /twilio, /twilio-content"}}'
    return Response(body, status=404, content_type="application/json")(environ, start_response)
