"""The stack's functions, run as Lambda runs them: each warm container is a worker process of its
own (`inbox.local.worker`), whose environment is exactly the function's environment in the
template plus what Lambda itself sets.

A function keeps its workers warm between invocations and starts another (a cold start) when all
are busy, up to its concurrency. A handler's exception is reported as Lambda reports it and the
worker stays warm; a crash or a timeout kills the worker, and the next invocation gets a new one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inbox.local.template import ACCOUNT_ID, REGION, FunctionResource

log = logging.getLogger("local.functions")

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# Lambda gives a function's initialization (its imports) 10 seconds, apart from its timeout.
INIT_TIMEOUT_SECONDS = 10
DEFAULT_CONCURRENCY = 4
# Lambda's own PATH; the interpreter's folder first, as the runtime's is on Lambda.
_LAMBDA_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"


class FunctionError(Exception):
    """An invocation failed the way Lambda reports it: `error_type` is Lambda's (the handler's
    exception type, `Sandbox.Timedout`, `Runtime.ExitError`, `Runtime.ImportModuleError`)."""

    def __init__(self, function_name: str, error_type: str, message: str) -> None:
        super().__init__(f"{function_name}: {error_type}: {message}")
        self.function_name = function_name
        self.error_type = error_type
        self.message = message


def lambda_variables(resource: FunctionResource) -> dict[str, str]:
    """What Lambda sets in every execution environment of this function, besides its own variables."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": resource.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(resource.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{resource.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "LAMBDA_TASK_ROOT": "",  # filled with the code directory by LocalFunction
        "_HANDLER": resource.handler,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": f"{Path(sys.executable).parent}:{_LAMBDA_PATH}",
    }


class LocalFunction:
    def __init__(
        self,
        resource: FunctionResource,
        *,
        code_dir: Path,
        environment: Mapping[str, str],
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.resource = resource
        self.name = resource.name
        self.code_dir = code_dir
        self.environment = {
            **lambda_variables(resource),
            **environment,
            "LAMBDA_TASK_ROOT": str(code_dir),
        }
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._stopped = False
        self.cold_starts = 0

    def invoke(self, event: Any) -> Any:
        """The handler's return value for `event`; FunctionError when the invocation failed."""
        with self._slots:
            worker = self._take()
            try:
                result = worker.invoke(event, self.resource.timeout_seconds)
            except FunctionError:
                self._discard(worker)
                raise
            except _HandlerError as error:
                self._give_back(worker)
                raise FunctionError(self.name, error.error_type, error.message) from None
            self._give_back(worker)
            return result

    def stop(self) -> None:
        """Stop every worker, busy or not: their invocations fail as if Lambda stopped them."""
        with self._lock:
            self._stopped = True
            idle = set(self._idle)
            workers, self._workers, self._idle = list(self._workers), set(), []
        for worker in workers:
            # A busy worker's streams are closed by the invocation that reads them.
            worker.close() if worker in idle else worker.kill()

    def _take(self) -> _Worker:
        with self._lock:
            if self._stopped:
                raise FunctionError(self.name, "Runtime.ExitError", "the local stack is stopping")
            if self._idle:
                return self._idle.pop()
            worker = _Worker(self)
            self._workers.add(worker)
            self.cold_starts += 1
        try:
            worker.start()
        except FunctionError:
            self._discard(worker)
            raise
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._idle.append(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.close()
        with self._lock:
            self._workers.discard(worker)


class _HandlerError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class _Worker:
    """One execution environment: a process, its request pipe and its answer pipe."""

    def __init__(self, function: LocalFunction) -> None:
        self.function = function
        self.name = function.name
        self.process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self.init_ms: float | None = None

    def start(self) -> None:
        """Start the process and wait for its handler's import (the init phase)."""
        started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 (our own worker script, our interpreter)
            [
                sys.executable,
                "-I",
                str(WORKER_SCRIPT),
                str(self.function.code_dir),
                self.function.resource.handler,
                str(os.getpid()),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.function.environment,
            cwd=self.function.code_dir,
            # Out of the terminal's process group: Ctrl-C reaches the stack, which stops its workers.
            start_new_session=True,
        )
        if self.function._stopped:
            self.kill()  # stop() may have run while the process was being created
        ready = self._read(INIT_TIMEOUT_SECONDS, phase="init")
        if "init_error" in ready:
            error = ready["init_error"]
            raise FunctionError(
                self.name, "Runtime.ImportModuleError", f"{error['errorType']}: {error['errorMessage']}"
            )
        self.init_ms = ready.get("init_ms")
        log.info(
            "%s: cold start, init %.0f ms (%.0f ms with the process)",
            self.name,
            self.init_ms or 0,
            (time.perf_counter() - started) * 1000,
        )

    def invoke(self, event: Any, timeout_seconds: float) -> Any:
        assert self.process is not None
        assert self.process.stdin is not None
        deadline_ms = int(time.time() * 1000 + timeout_seconds * 1000)
        request = {
            "event": event,
            "request_id": str(uuid.uuid4()),
            "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}",
            "deadline_ms": deadline_ms,
        }
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise FunctionError(self.name, "Runtime.ExitError", self._exit_description()) from None
        answer = self._read(timeout_seconds, phase="invoke")
        if "error" in answer:
            raise _HandlerError(answer["error"]["errorType"], answer["error"]["errorMessage"])
        return answer["result"]

    def kill(self) -> None:
        """Stop the process; a reader of its answers sees the end of the stream."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.kill()
        for stream in (self.process.stdin, self.process.stdout) if self.process else ():
            if stream is not None:
                with contextlib.suppress(OSError):  # a request left unwritten to a dead worker
                    stream.close()

    def _read(self, timeout_seconds: float, *, phase: str) -> dict[str, Any]:
        """The worker's next answer line, within `timeout_seconds`."""
        assert self.process is not None
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout_seconds
        fd = self.process.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.kill()
                    raise FunctionError(
                        self.name,
                        "Sandbox.Timedout",
                        f"Task timed out after {timeout_seconds:.2f} seconds ({phase})",
                    )
                if not selector.select(remaining):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise FunctionError(self.name, "Runtime.ExitError", self._exit_description())
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=5) if self.process is not None else None
        except subprocess.TimeoutExpired:
            code = None
        return f"the worker exited (status {code})"
