"""The local stack: moto server, the template's tables and queues, the gateway, the queue pumps
and the scheduler, all on 127.0.0.1; each function in worker processes of its own."""

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
from inbox.local.aws_server import AwsServer
from inbox.local.functions import LocalFunction
from inbox.local.gateway import Gateway, serve
from inbox.local.pump import QueuePump
from inbox.local.scheduler import Scheduler, rate_seconds
from inbox.local.template import REGION, EventSource, Schedule, Template, resolve
from inbox.settings import ENV_PREFIX, Settings, env_name

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
        configuration: Mapping[str, str] | None = None,
    ) -> None:
        """`configuration`: the `INBOX_*` settings this local deployment gives its functions (by
        default those of this process's environment), as a deployer would set them."""
        self.project = project
        self.template = template
        self.port = port
        self.poll_interval_seconds = poll_interval_seconds
        self.configuration = dict(os.environ if configuration is None else configuration)
        self.functions: dict[str, LocalFunction] = {}
        self._aws = AwsServer()
        self._server: Any = None
        self._pumps: list[QueuePump] = []
        self._schedulers: list[Scheduler] = []
        self.url = ""
        self.resources: resources.LocalResources | None = None

    def start(self) -> None:
        endpoint = self._aws.start()
        _use_local_aws(endpoint)

        gateway = Gateway(self.template.routes(), self.functions)
        server = serve(gateway, self.port)
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.resources = resources.create_all(self.template, api_url=self.url)
        self._create_functions(self.resources, endpoint)

        threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
        self._server = server
        self._pumps = [self._pump(source, self.resources) for source in self.template.event_sources()]
        self._schedulers = [self._scheduler(schedule) for schedule in self.template.schedules()]
        for pump in self._pumps:
            pump.start()
        for scheduler in self._schedulers:
            scheduler.start()
        log.info("moto server (the local AWS) at %s", endpoint)

    def stop(self) -> None:
        """Stop everything within seconds, busy or not: nothing is left running."""
        for pump in self._pumps:
            pump.signal_stop()
        for scheduler in self._schedulers:
            scheduler.signal_stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for function in self.functions.values():
            function.stop()
        for pump in self._pumps:
            pump.stop()
        for scheduler in self._schedulers:
            scheduler.stop()
        self._aws.stop()

    def _create_functions(self, created: resources.LocalResources, aws_endpoint: str) -> None:
        for resource in self.template.functions():
            environment = {k: str(v) for k, v in resolve(dict(resource.environment), created.lookup).items()}
            self.functions[resource.logical_id] = LocalFunction(
                resource,
                code_dir=self.project / "functions" / resource.name,
                environment=function_environment(environment, self.configuration, aws_endpoint),
            )

    def _pump(self, source: EventSource, created: resources.LocalResources) -> QueuePump:
        function = self.functions[source.function_id]
        return QueuePump(
            source,
            queue_url=created.queue_urls[source.queue_id],
            queue_arn=created.queue_arn(source.queue_id),
            function=function,
            pollers=function.concurrency,
        )

    def _scheduler(self, schedule: Schedule) -> Scheduler:
        interval = rate_seconds(schedule.expression)
        if schedule.kind == EMAIL_POLL:
            interval = int(
                self.poll_interval_seconds or self.configuration.get("INBOX_POLL_INTERVAL_SECONDS", "60")
            )
        return Scheduler(schedule, [self.functions[f] for f in schedule.function_ids], interval)


def function_environment(
    template_environment: Mapping[str, str], configuration: Mapping[str, str], aws_endpoint: str
) -> dict[str, str]:
    """A function's environment, locally: its variables from the template; the local deployment's
    `INBOX_*` settings where the template sets none (provider URLs, app secrets ...); the local AWS.

    Nothing else of the shell reaches a function (no POWERTOOLS_*, no AWS_*, no PYTHONPATH). The
    shell may point the webhooks' public URL at a tunnel, which wins over the gateway's own URL.
    """
    settings = {
        name: value
        for name, value in configuration.items()
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :].lower() in Settings.model_fields
    }
    environment = {**settings, **template_environment}
    public_url = env_name("public_url")
    if public_url in settings and public_url in template_environment:
        environment[public_url] = settings[public_url]
    # No X-Ray daemon runs locally.
    return {**environment, **_local_aws(aws_endpoint), "POWERTOOLS_TRACE_DISABLED": "true"}


def _local_aws(endpoint: str) -> dict[str, str]:
    """Lambda gives a function its role's credentials; locally, fake ones for moto (never a real
    account: no profile, no config file is read)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


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
