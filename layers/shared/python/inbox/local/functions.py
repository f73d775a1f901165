"""The stack's functions, run in this process as Lambda would run them.

Each invocation sees exactly its function's environment (from the template), as a Lambda
container does: invocations are serialized and `os.environ` is swapped for the call, so a
variable missing from a function's definition is missing here too.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from inbox.local.template import ACCOUNT_ID, REGION, FunctionResource

log = logging.getLogger("local.functions")

# One lock for all functions: os.environ is process-wide.
_INVOCATION_LOCK = threading.RLock()


@dataclass
class LambdaContext:
    """What Lambda passes as `context` (the attributes Powertools and handlers read)."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class LocalFunction:
    def __init__(self, resource: FunctionResource, *, code_dir: Path, environment: Mapping[str, str]) -> None:
        self.resource = resource
        self.name = resource.name
        self.code_dir = code_dir
        self.environment = {
            **environment,
            "AWS_LAMBDA_FUNCTION_NAME": resource.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(resource.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_REGION": REGION,
        }
        self._handler: Callable[[Any, Any], Any] | None = None

    def invoke(self, event: Any) -> Any:
        """Call the handler with `event`, in the function's environment; exceptions propagate."""
        with _INVOCATION_LOCK, _environment(self.environment):
            handler = self._handler or self._load()
            context = LambdaContext(self.name, self.resource.memory_mb, self.resource.timeout_seconds)
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                elapsed = time.perf_counter() - started
                if elapsed > self.resource.timeout_seconds:
                    log.warning(
                        "%s ran %.1fs, past its %ss timeout: Lambda would have stopped it",
                        self.name,
                        elapsed,
                        self.resource.timeout_seconds,
                    )

    def _load(self) -> Callable[[Any, Any], Any]:
        """Import the handler module (the cold start), under a name unique to this function."""
        module_file, _, attribute = self.resource.handler.rpartition(".")
        path = self.code_dir / f"{module_file}.py"
        spec = importlib.util.spec_from_file_location(
            f"inbox_local_functions.{self.name}.{module_file}", path
        )
        if spec is None or spec.loader is None:
            raise FileNotFoundError(path)
        module: ModuleType = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler: Callable[[Any, Any], Any] = getattr(module, attribute)
        self._handler = handler
        return handler


class _environment:
    """Replace os.environ for the duration of a call, then restore it."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self.variables = variables
        self.saved: dict[str, str] = {}

    def __enter__(self) -> None:
        self.saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.variables)

    def __exit__(self, *exc: object) -> None:
        os.environ.clear()
        os.environ.update(self.saved)
