"""A Lambda execution environment, locally: one process per warm container of one function.

Run as a script (`python -I worker.py CODE_DIR HANDLER STACK_PID`) by `inbox.local.functions`, with exactly
the function's environment, so nothing of the local stack (not even the `inbox` package) is
imported before the handler module: the import is the function's cold start, as on Lambda.

Protocol, one JSON document per line: the worker writes `{"ready": ..., "init_ms": ...}` once its
handler is imported (or `{"init_error": {...}}` and exits), then reads requests
`{"event", "request_id", "function_arn", "deadline_ms"}` from stdin and answers each with `{"result": ...}` or
`{"error": {"errorType", "errorMessage", "stackTrace"}}`, the shape Lambda reports. The answers
go to a private copy of stdout; the handler's own prints and logs go to stderr, the stack's log.
"""

from __future__ import annotations

import decimal
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any


class LambdaContext:
    """What Lambda passes as `context` (the attributes Powertools and handlers read)."""

    def __init__(
        self,
        *,
        function_name: str,
        memory_limit_in_mb: int,
        request_id: str,
        function_arn: str,
        deadline_ms: int,
        function_version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    @classmethod
    def of_request(cls, request: dict[str, Any]) -> LambdaContext:
        """The context of a request to this worker (the function's facts are in its environment)."""
        return cls(
            function_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
            function_version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
            request_id=request["request_id"],
            function_arn=request["function_arn"],
            deadline_ms=request["deadline_ms"],
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def main(argv: list[str]) -> int:
    code_dir, handler_name, stack_pid = argv[1], argv[2], int(argv[3])
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the handler's print() lands in the log, never in the protocol
    _die_with(stack_pid)
    sys.path.insert(0, code_dir)  # LAMBDA_TASK_ROOT comes first on Lambda's path too
    started = time.perf_counter()
    try:
        handler = _load(code_dir, handler_name)
    except Exception as error:
        traceback.print_exc()
        _answer(answers, {"init_error": _error(error)})
        return 1
    _answer(answers, {"ready": True, "init_ms": round((time.perf_counter() - started) * 1000, 1)})
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext.of_request(request)
        try:
            answer = {"result": handler(request["event"], context)}
            text = json.dumps(answer, default=_lambda_json)
        except Exception as error:
            # Lambda logs the traceback of an unhandled error and reports its type and message.
            traceback.print_exc()
            text = json.dumps({"error": _error(error)})
        answers.write(text + "\n")
        answers.flush()
    return 0


def _load(code_dir: str, handler_name: str) -> Callable[[Any, Any], Any]:
    module_name, _, attribute = handler_name.rpartition(".")
    spec = importlib.util.spec_from_file_location(module_name, os.path.join(code_dir, f"{module_name}.py"))
    if spec is None or spec.loader is None:
        raise ImportError(f"Unable to import module '{module_name}'")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    handler: Callable[[Any, Any], Any] = getattr(module, attribute)
    return handler


def _error(error: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }


def _lambda_json(value: Any) -> Any:
    """Lambda's Python runtime serializes Decimals (what boto3 returns for numbers) as numbers."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _answer(answers: IO[str], message: dict[str, Any]) -> None:
    answers.write(json.dumps(message) + "\n")
    answers.flush()


def _die_with(stack_pid: int) -> None:
    """A worker never outlives its stack, even one killed outright or a handler that never returns.

    (Not PR_SET_PDEATHSIG: it fires when the *thread* that started the worker ends.)
    """

    def watch() -> None:
        while os.getppid() == stack_pid:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="stack-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
