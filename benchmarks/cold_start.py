"""How long each function's handler takes to import in a fresh interpreter, beside `import boto3`.

Importing the handler is the part of a Lambda cold start the code controls. Each run starts a new
interpreter (this venv's), loads `functions/<name>/handler.py` the way the Lambda runtime does (the
function's folder first on the path, the shared layer on PYTHONPATH), in the environment a deployed
function has (the stack's POWERTOOLS_* variables, Lambda's own, tracing on), and times only that
load. The table gives each handler's median as a multiple of `import boto3`'s in the same run (the
figure to compare across machines and loads) and which heavy libraries it pulled in.

    python benchmarks/cold_start.py [--runs 7] [--also OTHER_CHECKOUT]

`--also` measures another checkout's handlers in the same run, interleaved (before/after a change).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "shared" / "python"
HEAVY_MODULES = ("msal", "google.auth", "httpx", "twilio", "aws_xray_sdk")
# Functions on the webhook path, whose cold start a provider waits on (and may time out on).
MUST_STAY_LIGHT = ("webhook_whatsapp",)
BASELINE = "boto3"
# A handler reduced to what every one of ours keeps at import (its docstring says what).
FLOOR = ROOT / "benchmarks" / "floor_handler.py"
# Each handler's goal, as a multiple of `import boto3` (issue 16).
GOAL = {"webhook_whatsapp": 1.2}
DEFAULT_GOAL = 1.3
# A deployed function's environment at import: the stack's variables (cdk/inbox_stack.py
# `_function`) and those the Lambda runtime sets (tracing is on: the stack enables active tracing).
# The X-Ray daemon's address is loopback here; nothing is sent at import.
DEPLOYED_ENV = {
    "POWERTOOLS_SERVICE_NAME": "inbox",
    "POWERTOOLS_METRICS_NAMESPACE": "Inbox",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "_HANDLER": "handler.handler",
}
# Runs in the child. It imports nothing before the clock starts that a handler might need
# (`importlib.util`, `sys` and `time` are loaded by every interpreter), and prints two lines:
# the seconds, then the heavy modules found in `sys.modules`.
CHILD = """
import importlib.util, sys, time
target, heavy = sys.argv[1], sys.argv[2].split(",")
start = time.perf_counter()
if target == "boto3":
    importlib.import_module("boto3")
else:
    sys.path.insert(0, target.rpartition("/")[0])
    spec = importlib.util.spec_from_file_location("handler", target)
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
elapsed = time.perf_counter() - start
print(elapsed)
print(",".join(name for name in heavy if name in sys.modules))
"""


@dataclass(frozen=True)
class Target:
    label: str
    argument: str  # what the child loads: "boto3", or the handler file's path
    must_stay_light: bool = False
    goal: float | None = None  # the most its median may be, as a multiple of boto3's

    def environment(self) -> dict[str, str]:
        """The child's environment: what a deployed function has (its folder is the task root)."""
        handler = Path(self.argument)
        is_handler = handler.parent.parent.name == "functions"
        return {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(handler.parents[2] / "layers" / "shared" / "python" if is_handler else LAYER),
            **DEPLOYED_ENV,
            "LAMBDA_TASK_ROOT": str(handler.parent if is_handler else ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": handler.parent.name if is_handler else "baseline",
        }


@dataclass(frozen=True)
class Result:
    target: Target
    seconds: list[float]
    heavy: frozenset[str]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def min_ms(self) -> float:
        return min(self.seconds) * 1000


def targets(root: Path = ROOT, *, baseline: bool = True, prefix: str = "") -> list[Target]:
    """`import boto3` alone and the floor handler, then every `functions/<name>/handler.py` of the
    checkout at `root`."""
    handlers = sorted(root.glob("functions/*/handler.py"))
    references = [
        Target(f"import {BASELINE}", BASELINE),
        Target("floor: benchmarks/floor_handler.py", str(FLOOR)),
    ]
    return (references if baseline else []) + [
        Target(
            prefix + str(path.relative_to(root)),
            str(path),
            must_stay_light=path.parent.name in MUST_STAY_LIGHT,
            goal=GOAL.get(path.parent.name, DEFAULT_GOAL),
        )
        for path in handlers
    ]


def measure_once(target: Target) -> tuple[float, frozenset[str]]:
    """The seconds one fresh interpreter takes to load the target, and the heavy modules it loaded."""
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, target.argument, ",".join(HEAVY_MODULES)],
        env=target.environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{target.label} failed to import:\n{completed.stderr}")
    seconds, heavy = completed.stdout.splitlines()[-2:]
    return float(seconds), frozenset(name for name in heavy.split(",") if name)


def measure(all_targets: Sequence[Target], runs: int) -> list[Result]:
    """Every target measured `runs` times, the targets taking turns so drift hits them alike."""
    seconds: dict[Target, list[float]] = {target: [] for target in all_targets}
    heavy: dict[Target, set[str]] = {target: set() for target in all_targets}
    for _ in range(runs):
        for target in all_targets:
            elapsed, loaded = measure_once(target)
            seconds[target].append(elapsed)
            heavy[target] |= loaded
    return [Result(target, seconds[target], frozenset(heavy[target])) for target in all_targets]


def table(results: Sequence[Result]) -> str:
    """The results as an aligned text table (x boto3: the median over `import boto3`'s median)."""
    base = next((r.median_ms for r in results if r.target.argument == BASELINE), None)
    header = ("module", "median ms", "min ms", "x boto3", "goal", "heavy modules imported")
    rows = [
        (
            r.target.label,
            f"{r.median_ms:.1f}",
            f"{r.min_ms:.1f}",
            f"{r.median_ms / base:.2f}" if base else "-",
            f"≤ {r.target.goal}" if r.target.goal else "",
            ", ".join(sorted(r.heavy)) or "-",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        first, *numbers, heavy = row
        cells = [f"{first:<{widths[0]}}", *(f"{n:>{w}}" for n, w in zip(numbers, widths[1:], strict=True))]
        return "  ".join([*cells, heavy])

    return "\n".join([line(header), *map(line, rows)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per module (default 7)")
    parser.add_argument(
        "--also", type=Path, help="another checkout whose handlers to measure in the same run"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    ours = targets()
    others = targets(args.also.resolve(), baseline=False, prefix=f"{args.also}: ") if args.also else []
    results = measure(ours + others, args.runs)
    print(f"Import time in a fresh interpreter, {args.runs} runs each ({sys.executable})")
    print(table(results))
    too_heavy = [r for r in results if r.target in ours and r.target.must_stay_light and r.heavy]
    for result in too_heavy:
        print(f"\n{result.target.label} must not import {', '.join(sorted(result.heavy))}", file=sys.stderr)
    return 1 if too_heavy else 0


if __name__ == "__main__":
    sys.exit(main())
