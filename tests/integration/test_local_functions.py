"""Functions in the local stack run as Lambda runs them: a worker process per warm container, with
exactly the function's environment, warm between invocations, fresh after a crash or a timeout."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inbox.local.functions import FunctionError, LocalFunction, lambda_variables
from inbox.local.gateway import Gateway
from inbox.local.template import FunctionResource, Route

FIXTURES = Path(__file__).parent / "fixtures"
PROBE = FunctionResource("Probe", "probe", "lambda_probe.handler", 3, 256, {})


@pytest.fixture
def make_function() -> Iterator[Callable[..., LocalFunction]]:
    made: list[LocalFunction] = []

    def make(environment: dict[str, str] | None = None, **options: Any) -> LocalFunction:
        resource = FunctionResource(
            options.pop("logical_id", "Probe"),
            options.pop("name", "probe"),
            "lambda_probe.handler",
            options.pop("timeout_seconds", 3),
            256,
            {},
        )
        made.append(LocalFunction(resource, code_dir=FIXTURES, environment=environment or {}, **options))
        return made[-1]

    yield make
    for function in made:
        function.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_function_sees_its_environment_and_lambdas_and_nothing_of_the_callers(
    make_function: Callable[..., LocalFunction], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FromTheShell")
    monkeypatch.setenv("AWS_PROFILE", "someones-real-account")
    function = make_function({"INBOX_TABLE_NAME": "inbox-table"})

    seen = function.invoke({})

    # Python itself sets LC_CTYPE when the locale Lambda names (en_US.UTF-8) is not installed here.
    seen["environment"].pop("LC_CTYPE", None)
    assert seen["environment"] == {
        **lambda_variables(PROBE),
        "INBOX_TABLE_NAME": "inbox-table",
        "LAMBDA_TASK_ROOT": str(FIXTURES),
    }
    assert seen["function_name"] == "probe"
    assert 0 < seen["remaining_ms"] <= 3000


def test_a_warm_worker_keeps_its_module_state_and_each_function_has_its_own(
    make_function: Callable[..., LocalFunction],
) -> None:
    first, second = make_function(), make_function(logical_id="Other", name="other")

    runs = [first.invoke({})["invocations"] for _ in range(3)]
    other = second.invoke({})["invocations"]

    assert runs == [1, 2, 3]  # one cold start, then warm
    assert other == 1  # another function, another container
    assert first.cold_starts == 1


def test_a_handler_error_is_reported_as_lambda_does_and_the_worker_stays_warm(
    make_function: Callable[..., LocalFunction],
) -> None:
    function = make_function()
    pid = function.invoke({})["pid"]

    with pytest.raises(FunctionError) as raised:
        function.invoke({"action": "raise"})

    assert raised.value.error_type == "ValueError"
    assert raised.value.message == "the handler refused"
    after = function.invoke({})
    assert (after["pid"], after["invocations"]) == (pid, 3)


def test_a_crash_fails_the_invocation_and_the_next_one_gets_a_fresh_worker(
    make_function: Callable[..., LocalFunction],
) -> None:
    function = make_function()
    pid = function.invoke({})["pid"]

    with pytest.raises(FunctionError) as raised:
        function.invoke({"action": "crash"})

    assert raised.value.error_type == "Runtime.ExitError"
    after = function.invoke({})
    assert after["pid"] != pid
    assert after["invocations"] == 1


def test_a_timeout_stops_the_worker_and_the_next_invocation_starts_cold(
    make_function: Callable[..., LocalFunction],
) -> None:
    function = make_function(timeout_seconds=1)
    pid = function.invoke({})["pid"]

    with pytest.raises(FunctionError) as raised:
        function.invoke({"action": "sleep", "seconds": 30})

    assert raised.value.error_type == "Sandbox.Timedout"
    assert not _alive(pid)
    assert function.invoke({})["invocations"] == 1


def test_invocations_of_one_function_run_side_by_side_in_separate_workers(
    make_function: Callable[..., LocalFunction], tmp_path: Path
) -> None:
    function = make_function(concurrency=2)
    results: dict[str, Any] = {}

    def meet(me: str, other: str) -> None:
        results[me] = function.invoke({"action": "meet", "dir": str(tmp_path), "me": me, "other": other})

    threads = [threading.Thread(target=meet, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert results == {"a": {"met": True}, "b": {"met": True}}
    assert function.cold_starts == 2


def test_stopping_a_function_ends_its_busy_and_idle_workers(
    make_function: Callable[..., LocalFunction], tmp_path: Path
) -> None:
    function = make_function(concurrency=2, timeout_seconds=60)
    started = tmp_path / "started"
    outcome: list[BaseException] = []
    hold = {"action": "sleep", "seconds": 60, "started": str(started)}
    busy = threading.Thread(target=lambda: outcome.append(_failure(lambda: function.invoke(hold))))
    busy.start()
    while not started.exists():
        threading.Event().wait(0.05)
    idle_pid = function.invoke({})["pid"]  # the only warm worker is busy: a second one starts
    busy_pid = int(started.read_text())

    function.stop()
    busy.join(timeout=10)

    assert not busy.is_alive()
    assert isinstance(outcome[0], FunctionError)
    assert not _alive(idle_pid)
    assert not _alive(busy_pid)
    with pytest.raises(FunctionError):
        function.invoke({})


def _failure(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except BaseException as error:
        return error
    raise AssertionError("the invocation did not fail")


@pytest.mark.parametrize("action", ["crash", "raise"])
def test_the_gateway_answers_a_failed_function_as_api_gateway_does(
    make_function: Callable[..., LocalFunction], action: str
) -> None:
    gateway = Gateway([Route("POST", "/probe", "Probe", jwt=False)], {"Probe": make_function()})

    def post(body: bytes) -> tuple[int, bytes]:
        headers = [("content-type", "application/json")]
        answer = gateway.handle("POST", "/probe", headers, body, "h", "127.0.0.1")
        return answer.status, answer.body

    assert post(json.dumps({"action": action}).encode()) == (500, b'{"message":"Internal Server Error"}')
    assert post(b"{}")[0] == 200
