"""The local stack: moto server, the template's tables and queues, the gateway, the queue pumps
and the scheduler, all on 127.0.0.1 in one process."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inbox.local import resources
from inbox.local.functions import LocalFunction
from inbox.local.gateway import Gateway, serve
from inbox.local.pump import QueuePump
from inbox.local.scheduler import Scheduler, rate_seconds
from inbox.local.template import REGION, EventSource, Schedule, Template, resolve

log = logging.getLogger("local.stack")
STACK_NAME = "Inbox"
EMAIL_POLL = "email_poll"


def project_dir(start: Path | None = None) -> Path:
    """The checkout holding cdk.json: INBOX_PROJECT_DIR, else the current directory or a parent,
    else the one this package was installed from (editable install)."""
    if "INBOX_PROJECT_DIR" in os.environ:
        return Path(os.environ["INBOX_PROJECT_DIR"]).resolve()
    here = (start or Path.cwd()).resolve()
    package_root = Path(__file__).resolve().parents[4]
    for candidate in (here, *here.parents, package_root):
        if (candidate / "cdk.json").is_file() and (candidate / "functions").is_dir():
            return candidate
    raise FileNotFoundError("cannot find the inbox checkout (cdk.json): run from it or set INBOX_PROJECT_DIR")


def synthesize(project: Path, outdir: Path | None = None) -> Path:
    """Synthesize the CDK app (source assets) and return the template's path.

    Skipped when the template is newer than every source file that shapes it.
    """
    outdir = outdir or project / ".inbox" / "cdk.out"
    template = outdir / f"{STACK_NAME}.template.json"
    sources = [*(project / "cdk").rglob("*.py"), *(project / "layers" / "shared" / "python").rglob("*.py")]
    if template.exists() and all(s.stat().st_mtime < template.stat().st_mtime for s in sources):
        return template
    log.info("synthesizing the CDK stack into %s", outdir)
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps({"inbox:assets": "source", "aws:cdk:bundling-stacks": []}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    subprocess.run([sys.executable, str(project / "cdk" / "app.py")], check=True, env=env, cwd=project)
    return template


class LocalStack:
    def __init__(
        self,
        *,
        project: Path,
        template: Template,
        port: int = 3000,
        poll_interval_seconds: float | None = None,
    ) -> None:
        self.project = project
        self.template = template
        self.port = port
        self.poll_interval_seconds = poll_interval_seconds
        self.functions: dict[str, LocalFunction] = {}
        self._moto: Any = None
        self._server: Any = None
        self._pumps: list[QueuePump] = []
        self._schedulers: list[Scheduler] = []
        self.url = ""
        self.resources: resources.LocalResources | None = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        self._moto = moto
        host, moto_port = moto.get_host_and_port()
        _use_local_aws(f"http://{host}:{moto_port}")

        gateway = Gateway(self.template.routes(), self.functions)
        server = serve(gateway, self.port)
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.resources = resources.create_all(self.template, api_url=self.url)
        self._create_functions(self.resources)

        threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
        self._server = server
        self._pumps = [self._pump(source, self.resources) for source in self.template.event_sources()]
        self._schedulers = [self._scheduler(schedule) for schedule in self.template.schedules()]
        for pump in self._pumps:
            pump.start()
        for scheduler in self._schedulers:
            scheduler.start()
        log.info("moto server (the local AWS) at http://%s:%s", host, moto_port)

    def stop(self) -> None:
        for pump in self._pumps:
            pump.stop()
        for scheduler in self._schedulers:
            scheduler.stop()
        self._server.shutdown()
        if self._moto is not None:
            self._moto.stop()

    def _create_functions(self, created: resources.LocalResources) -> None:
        base = dict(os.environ)
        for resource in self.template.functions():
            environment = {k: str(v) for k, v in resolve(dict(resource.environment), created.lookup).items()}
            # The shell may point webhooks at a public tunnel; otherwise they are the gateway's URL.
            if "INBOX_PUBLIC_URL" in base and "INBOX_PUBLIC_URL" in environment:
                environment["INBOX_PUBLIC_URL"] = base["INBOX_PUBLIC_URL"]
            self.functions[resource.logical_id] = LocalFunction(
                resource,
                code_dir=self.project / "functions" / resource.name,
                environment={**base, **_local_only(), **environment},
            )

    def _pump(self, source: EventSource, created: resources.LocalResources) -> QueuePump:
        return QueuePump(
            source,
            queue_url=created.queue_urls[source.queue_id],
            queue_arn=created.queue_arn(source.queue_id),
            function=self.functions[source.function_id],
        )

    def _scheduler(self, schedule: Schedule) -> Scheduler:
        interval = rate_seconds(schedule.expression)
        if schedule.kind == EMAIL_POLL:
            interval = int(self.poll_interval_seconds or os.environ.get("INBOX_POLL_INTERVAL_SECONDS", "60"))
        return Scheduler(schedule, [self.functions[f] for f in schedule.function_ids], interval)


def _use_local_aws(endpoint: str) -> None:
    """Point every AWS client of this process at moto, with fake credentials (never a real account)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
    )


def _local_only() -> Mapping[str, str]:
    # No X-Ray daemon runs locally.
    return {"POWERTOOLS_TRACE_DISABLED": "true"}
