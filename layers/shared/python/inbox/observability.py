"""One Logger, Metrics and Tracer for every function, each built on first use from the environment
of the moment (the stack sets POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and
POWERTOOLS_LOG_LEVEL; the local stack sets them from the template): an import reads nothing.

The handler decorators (`logger.inject_lambda_context`, `metrics.log_metrics`,
`tracer.capture_lambda_handler`) are Powertools' own, applied on each call to the object of the
current environment, so a module imported before its environment was set still logs and publishes
with the right service and namespace.

Tracing: every function has Lambda's active tracing (the stack turns it on): X-Ray records each
invocation (init, invocation, overhead), and botocore forwards the trace header, so a webhook's
message is one trace through the queues to the router and the sender. The X-Ray SDK (Powertools'
Tracer: a subsegment per AWS and provider call, errors as metadata) costs its import and its
patching, so it is loaded only by handlers decorated with `tracer.capture_lambda_handler`, on their
first call, and only when tracing is on (deployed; never locally or in tests).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

# The classes are imported here (every invocation uses them); the X-Ray SDK is not (see above).
from aws_lambda_powertools import Logger, Metrics, Tracer

T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Any])

# The libraries whose calls the Tracer records: AWS's (botocore), and the providers' (httpx) once
# the function imports it (patching imports the library: a function that never calls a provider
# does not pay for httpx).
TRACED_LIBRARIES = ("botocore",)
TRACED_WHEN_IMPORTED = ("httpx",)
# What Powertools reads when it builds each object (different values: another object).
_LOGGER_VARIABLES = (
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "AWS_LAMBDA_LOG_LEVEL",
    "POWERTOOLS_LOGGER_SAMPLE_RATE",
)
_METRICS_VARIABLES = (
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_METRICS_DISABLED",
)
_TRACER_VARIABLES = (
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_TRACE_DISABLED",
    "LAMBDA_TASK_ROOT",
    "AWS_SAM_LOCAL",
    "AWS_CHALICE_CLI_MODE",
)


class _Current(Generic[T]):
    """What `build` returns for the current values of `variables`, built once per distinct values;
    any other attribute is that object's."""

    def __init__(self, build: Callable[[], T], variables: tuple[str, ...]) -> None:
        self._build = build
        self._variables = variables
        self._built: dict[tuple[str | None, ...], T] = {}

    def current(self) -> T:
        key = tuple(os.environ.get(name) for name in self._variables)
        if key not in self._built:
            self._built[key] = self._build()
        return self._built[key]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.current(), name)

    def _on_each_call(self, method: str, handler: Callable[..., Any] | None, options: dict[str, Any]) -> Any:
        """The decorator `method` of the current object, applied to `handler` when it is called."""
        if handler is None:
            return functools.partial(self._on_each_call, method, options=options)

        # Decorated once per object (once per container deployed), not on every invocation.
        decorated: dict[int, Callable[..., Any]] = {}

        @functools.wraps(handler)
        def call(event: Any, context: Any) -> Any:
            current = self.current()
            if id(current) not in decorated:
                decorated[id(current)] = getattr(current, method)(handler, **options)
            return decorated[id(current)](event, context)

        return call


class _Logger(_Current["Logger"]):
    def inject_lambda_context(self, lambda_handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._on_each_call("inject_lambda_context", lambda_handler, options)


class _Metrics(_Current["Metrics"]):
    def log_metrics(self, lambda_handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._on_each_call("log_metrics", lambda_handler, options)


class _Tracer(_Current["Tracer | None"]):
    """Powertools' Tracer where tracing is on, else nothing (no X-Ray SDK imported)."""

    @overload
    def capture_lambda_handler(self, lambda_handler: H, **options: Any) -> H: ...

    @overload
    def capture_lambda_handler(self, lambda_handler: None = None, **options: Any) -> Callable[[H], H]: ...

    def capture_lambda_handler(self, lambda_handler: H | None = None, **options: Any) -> Any:
        if lambda_handler is None:
            return functools.partial(self.capture_lambda_handler, **options)
        handler = lambda_handler

        decorated: dict[int, Callable[..., Any]] = {}

        @functools.wraps(handler)
        def call(event: Any, context: Any) -> Any:
            tracer = self.current()
            if tracer is None:
                return handler(event, context)
            if id(tracer) not in decorated:
                decorated[id(tracer)] = tracer.capture_lambda_handler(handler, **options)
            return decorated[id(tracer)](event, context)

        return call


def _tracer() -> Tracer | None:
    # Powertools' own rule: on in Lambda, unless POWERTOOLS_TRACE_DISABLED or SAM/Chalice local.
    if Tracer._is_tracer_disabled():
        return None
    import wrapt  # the X-Ray SDK's own dependency

    tracer = Tracer(auto_patch=False)
    tracer.patch(TRACED_LIBRARIES)

    def patch(module: ModuleType) -> None:
        tracer.patch([module.__name__])

    for library in TRACED_WHEN_IMPORTED:
        wrapt.when_imported(library)(patch)
    return tracer


# Typed as Powertools' own objects: every attribute is theirs (the decorators above take the same
# arguments as the originals).
if TYPE_CHECKING:
    logger: Logger
    metrics: Metrics
else:
    logger = _Logger(Logger, _LOGGER_VARIABLES)
    metrics = _Metrics(Metrics, _METRICS_VARIABLES)
tracer = _Tracer(_tracer, _TRACER_VARIABLES)
