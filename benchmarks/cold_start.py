"""How long each function's handler takes to import in a fresh interpreter, beside `import boto3`.

Importing the handler is the part of a Lambda cold start the code controls. Each run starts a new
interpreter (this venv's), loads `functions/<name>/handler.py` the way the Lambda runtime does (the
function's folder first on the path, the shared layer on PYTHONPATH) and times only that load. The
table also says which heavy provider libraries the handler pulled in: the webhook must pull in none.

    python benchmarks/cold_start.py [--runs 7]
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
HEAVY_MODULES = ("msal", "google.auth", "httpx", "twilio")
# Functions on the webhook path, whose cold start a provider waits on (and may time out on).
MUST_STAY_LIGHT = ("webhook_whatsapp",)
BASELINE = "boto3"
CHILD_ENV = {
    "PYTHONPATH": str(LAYER),
    "POWERTOOLS_SERVICE_NAME": "inbox",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
    "INBOX_TABLE_NAME": "bench",
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


def targets(root: Path = ROOT) -> list[Target]:
    """`import boto3` alone, then every `functions/<name>/handler.py`."""
    handlers = sorted(root.glob("functions/*/handler.py"))
    return [Target(f"import {BASELINE}", BASELINE)] + [
        Target(str(path.relative_to(root)), str(path), must_stay_light=path.parent.name in MUST_STAY_LIGHT)
        for path in handlers
    ]


def measure_once(target: Target) -> tuple[float, frozenset[str]]:
    """The seconds one fresh interpreter takes to load the target, and the heavy modules it loaded."""
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, target.argument, ",".join(HEAVY_MODULES)],
        env={**os.environ, **CHILD_ENV},
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
    """The results as an aligned text table."""
    header = ("module", "median ms", "min ms", "heavy modules imported")
    rows = [
        (r.target.label, f"{r.median_ms:.1f}", f"{r.min_ms:.1f}", ", ".join(sorted(r.heavy)) or "-")
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]

    def line(row: tuple[str, str, str, str]) -> str:
        return f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}"

    return "\n".join([line(header), *map(line, rows)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per module (default 7)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    results = measure(targets(), args.runs)
    print(f"Import time in a fresh interpreter, {args.runs} runs each ({sys.executable})")
    print(table(results))
    too_heavy = [r for r in results if r.target.must_stay_light and r.heavy]
    for result in too_heavy:
        print(f"\n{result.target.label} must not import {', '.join(sorted(result.heavy))}", file=sys.stderr)
    return 1 if too_heavy else 0


if __name__ == "__main__":
    sys.exit(main())
