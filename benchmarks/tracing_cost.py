"""What each way of tracing a function adds to its cold start, beside `import boto3`.

Each run starts a fresh interpreter in a deployed function's environment (in Lambda, tracing on),
imports boto3 and Powertools' Logger (what every function has), then times one option:

    active tracing only   nothing in the function: Lambda's own segment, and botocore forwards the
                          trace header to SQS (so the queues' consumers join the trace)
    sdk, botocore         Powertools' Tracer: the X-Ray SDK, patching botocore (AWS calls): what
                          the traced handlers build on their first call (they patch httpx, for
                          provider calls, when the function imports it)
    sdk, botocore+httpx   patching httpx at once too (importing it, in a function that may not)
    sdk, patch_all        Tracer() with its defaults, as every function did at import before

    python benchmarks/tracing_cost.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = {
    "import boto3": "import boto3",
    "sdk, botocore": "from aws_lambda_powertools import Tracer; Tracer(auto_patch=False).patch(['botocore'])",
    "sdk, botocore+httpx": (
        "from aws_lambda_powertools import Tracer; Tracer(auto_patch=False).patch(['botocore', 'httpx'])"
    ),
    "sdk, patch_all": "from aws_lambda_powertools import Tracer; Tracer()",
}
CHILD = """
import sys, time
option = sys.argv[1]
if option != "import boto3":
    import boto3
    from aws_lambda_powertools import Logger
start = time.perf_counter()
exec(option)
print(time.perf_counter() - start)
"""
ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "inbox",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
}


def measure_once(code: str) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, code],
        env={"PATH": os.environ.get("PATH", ""), **ENVIRONMENT},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(completed.stderr)
    return float(completed.stdout) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    samples: dict[str, list[float]] = {name: [] for name in OPTIONS}
    for _ in range(args.runs):  # options take turns, so drift hits them alike
        for name, code in OPTIONS.items():
            samples[name].append(measure_once(code))
    base = statistics.median(samples["import boto3"])
    print(f"Added to a cold start, fresh interpreter, median of {args.runs} ({sys.executable})")
    print(f"{'active tracing only':<22} {0.0:7.1f} ms  0.00 x boto3")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<22} {median:7.1f} ms  {median / base:.2f} x boto3")
    return 0


if __name__ == "__main__":
    sys.exit(main())
