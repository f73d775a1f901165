"""The floor of a handler built as this project's are, which `benchmarks/cold_start.py` times beside
them: boto3, Powertools' Logger and Metrics, one pydantic model (built on first use), the modules
loaded with the collector held off (`inbox.startup`). No handler that keeps these at import loads
faster; what a handler takes beyond it is its own code and models (`python -X importtime`)."""

from typing import Any

from inbox import startup

with startup.modules_loading():
    import boto3
    from aws_lambda_powertools.logging import Logger
    from aws_lambda_powertools.metrics import Metrics
    from pydantic import BaseModel, ConfigDict

logger = Logger()
metrics = Metrics()


class Event(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: str


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    boto3.client("sqs")
    return Event.model_validate(event).model_dump()
