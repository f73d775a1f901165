"""schemathesis over the whole `/v1` API of the local stack, as an admin and as an agent: no 5xx,
no status the document does not list, no answer that breaks its documented schema.

The stack and the fuzzer run in a network namespace that has only `lo` (fuzzed bodies name
arbitrary hosts), with every provider base URL on a loopback stand-in; the stack is started with
a clean environment, as a user's shell would start it. Seed and example counts are fixed, so a
failure reproduces (`st replay` ids and curl commands are in the assertion message).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).with_name("api_fuzz_runner.py")
ROOT = Path(__file__).resolve().parents[2]
SEED = 20261201
MAX_EXAMPLES = 10  # per operation and phase: about 3 000 requests in all
TIMEOUT_SECONDS = 900
ISOLATED = 'ip link set lo up && exec "$0" "$@"'  # sh -c: bring up lo, then run the command given


def require_network_namespace() -> None:
    """Skip, saying why, where a network namespace with only `lo` cannot be made."""
    if sys.platform != "linux" or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("the API fuzz test needs Linux's `unshare` and `ip` (a network namespace with only lo)")
    if os.geteuid() != 0:
        pytest.skip("the API fuzz test needs root for `unshare --net` (a network namespace with only lo)")
    probe = subprocess.run(["unshare", "--net", "sh", "-c", ISOLATED, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"`unshare --net` is not possible here: {probe.stderr.strip()}")


def test_the_fuzzer_finds_no_server_error_and_nothing_the_document_does_not_say(
    template_path: Path, tmp_path: Path
) -> None:
    require_network_namespace()
    command = [
        "unshare",
        "--net",
        "sh",
        "-c",
        ISOLATED,
        sys.executable,
        str(RUNNER),
        "--template",
        str(template_path),
        "--workdir",
        str(tmp_path),
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
    ]
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}

    # Its own process group, so a run that overstays is stopped whole (stack and fuzzers included).
    runner = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = runner.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)
        stdout, stderr = runner.communicate()
        pytest.fail(f"the fuzz run took over {TIMEOUT_SECONDS} s:\n{stdout[-20000:]}\n{stderr[-5000:]}")

    assert runner.returncode == 0, f"{stdout[-20000:]}\n{stderr[-5000:]}"
    print("\n".join(line for line in stdout.splitlines() if line.startswith("== ")))  # runtimes, requests
