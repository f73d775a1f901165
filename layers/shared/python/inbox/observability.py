"""One Logger, Tracer and Metrics for every function (service and namespace come from the
POWERTOOLS_* variables the stack sets)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
