"""`inbox dev` as a user starts it: a process of its own, with a user's environment (PATH, HOME and
the variables a test means to set; nothing of the test process's own: no POWERTOOLS_*, no AWS_*)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = re.compile(r"ready at (http://127\.0\.0\.1:\d+)")
# Synthesizing the CDK app (when the template is older than the sources) takes most of this.
START_SECONDS = 240


def user_environment(**variables: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **variables}


class StackProcess:
    """`python -m inbox.cli dev ARGS` started in `workdir` (its stdout and stderr are kept there)."""

    def __init__(self, args: list[str], environment: dict[str, str], workdir: Path) -> None:
        self.args = args
        self.environment = environment
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        """Start it and wait for its "ready at URL" line; the URL."""
        with self.stdout_path.open("w") as stdout, self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "inbox.cli", "dev", *self.args],
                cwd=ROOT,
                env=self.environment,
                stdout=stdout,
                stderr=stderr,
                text=True,
            )
        deadline = time.monotonic() + START_SECONDS
        while not (ready := READY.search(self.stdout())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`inbox dev` did not start:\n{self.stdout()}\n{self.log()[-5000:]}")
            time.sleep(0.2)
        self.url = ready.group(1)
        return self.url

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def log(self) -> str:
        return self.stderr_path.read_text()

    def descendants(self) -> set[int]:
        """Every process started by the stack (workers, the local AWS), found through /proc."""
        assert self.process is not None
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(fields[1])
        found: set[int] = set()
        frontier = {self.process.pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
            found |= frontier
        return found

    def stop(self, timeout_seconds: float = 20) -> float:
        """SIGTERM, as Ctrl-C or a service manager would stop it; the seconds it took to exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        return time.monotonic() - started


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is gone but for its exit status
