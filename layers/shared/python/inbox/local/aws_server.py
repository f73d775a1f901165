"""The local AWS: moto in server mode, in a process of its own, answering one request at a time.

DynamoDB is linearizable per item and SQS hides a FIFO group's messages while some are in flight;
moto's in-process backends are not thread-safe, so concurrent functions (each in its own worker)
would race inside moto itself. One lock around every request gives them AWS's semantics.
Long polls would hold that lock: the queue pump polls with `WaitTimeSeconds=0` instead.

`python -m inbox.local.aws_server` prints `listening on http://127.0.0.1:PORT` and serves until
stdin closes (its stack stopped or died) or it gets SIGTERM.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

LOOPBACK = "127.0.0.1"
_LISTENING = re.compile(rb"listening on (http://\S+)")


def serialized(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """The WSGI app, one request at a time (the whole answer is produced under the lock)."""
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    return serve


def back_up_items_not_tables() -> None:
    """Make moto's TransactWriteItems cost what the transaction touches, not what the table holds.

    moto backs up every table a transaction names with a deep copy, to roll back a cancelled one:
    0.2 s a transaction at a few thousand items, growing with the table, which made the router the
    local stack's bottleneck. Here only the items the transaction names are backed up, and put back
    if it is cancelled; moto's own logic (conditions, cancellation reasons) runs unchanged. Safe
    because this server answers one request at a time.
    """
    import copy

    import moto.dynamodb.models as dynamodb
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    transact = dynamodb.DynamoDBBackend.transact_write_items

    class _SharedTables:
        """`copy` as moto's transaction code sees it: a table "copied" is the table itself."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def keys_of(table: Any, operation: dict[str, Any]) -> tuple[Any, Any] | None:
        key = operation.get("Key") or operation.get("Item") or {}
        if table.hash_key_attr not in key:
            return None
        range_key = key.get(table.range_key_attr) if table.range_key_attr else None
        return DynamoType(key[table.hash_key_attr]), DynamoType(range_key) if range_key else None

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            for operation in entry.values():
                table = self.tables.get(operation.get("TableName"))
                keys = keys_of(table, operation) if table is not None else None
                if keys is not None:
                    saved.append((table, keys, copy.deepcopy(table.get_item(*keys))))
        setattr(dynamodb, "copy", _SharedTables)  # noqa: B010 (the module's own name for `copy`)
        try:
            transact(self, transact_items)
        except Exception:
            for table, (hash_key, range_key), item in reversed(saved):
                if table.get_item(hash_key, range_key) is not None:
                    table.delete_item(hash_key, range_key)
                if item is not None and range_key is not None:
                    table.items[hash_key][range_key] = item
                elif item is not None:
                    table.items[hash_key] = item
            raise
        finally:
            setattr(dynamodb, "copy", copy)  # noqa: B010

    dynamodb.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def cheaper_sqs() -> None:
    """moto's SQS asks the time through datetime arithmetic, and renames every queue attribute,
    several times per message per request (visibility, delay, the queue's counters on each
    attribute lookup): most of a FIFO SendMessage's cost once a backlog builds. The same clock read
    directly, and the same names remembered: about four times cheaper."""
    import functools

    import moto.sqs.models as sqs
    from moto.core import utils

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else utils.unix_time(dt)

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000 if dt is None else utils.unix_time_millis(dt)

    # The module's own names for these helpers.
    setattr(sqs, "unix_time", unix_time)  # noqa: B010
    setattr(sqs, "unix_time_millis", unix_time_millis)  # noqa: B010
    setattr(sqs, "camelcase_to_underscores", functools.cache(utils.camelcase_to_underscores))  # noqa: B010
    # Each message sent reads one attribute (ContentBasedDeduplication) through `attributes`,
    # which counts every message of the queue first: a backlog of n costs n² to fill. Each value
    # is computed when asked for instead.
    eager = sqs.Queue.attributes.fget  # type: ignore[attr-defined]

    class LazyAttributes(Mapping[str, Any]):
        def __init__(self, queue: Any) -> None:
            self._queue = queue
            self._all: dict[str, Any] | None = None

        def get(self, name: str, default: Any = None) -> Any:
            if name == "ContentBasedDeduplication" and self._queue.fifo_queue:
                return str(bool(self._queue.content_based_deduplication)).lower()  # as moto renders it
            return self._everything().get(name, default)

        def _everything(self) -> dict[str, Any]:
            if self._all is None:
                self._all = eager(self._queue)
            return self._all

        def __getitem__(self, name: str) -> Any:
            return self._everything()[name]

        def __iter__(self) -> Iterator[str]:
            return iter(self._everything())

        def __len__(self) -> int:
            return len(self._everything())

    sqs.Queue.attributes = property(LazyAttributes)  # type: ignore[assignment,method-assign]


def main() -> int:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request is the gateway's job
    back_up_items_not_tables()
    cheaper_sqs()
    app = serialized(DomainDispatcherApplication(create_backend_app))
    server = make_server(LOOPBACK, 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    print(f"listening on http://{LOOPBACK}:{server.server_port}", flush=True)
    sys.stdin.read()  # until the stack closes the pipe
    server.shutdown()
    return 0


class AwsServer:
    """The moto server process, seen from the stack."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def start(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "inbox.local.aws_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**_without_aws(os.environ), "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"},
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the address, or b"" if it could not start
        found = _LISTENING.search(line)
        if found is None:
            self.stop()
            raise RuntimeError(f"the local AWS (moto server) did not start: {line!r}")
        self.endpoint = found.group(1).decode()
        return self.endpoint

    def stop(self) -> None:
        """Its state is in memory only: nothing to save, so it is simply terminated."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _without_aws(environment: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The shell's environment minus anything that could point moto (or boto3) at a real account."""
    return {k: v for k, v in environment.items() if not k.startswith(("AWS_", "BOTO"))}


if __name__ == "__main__":
    sys.exit(main())
