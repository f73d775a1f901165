"""A function's modules load with the collector held off (`inbox.startup`); a failed load gives it
back. The success path, in a fresh interpreter per handler, is in test_handler_imports.py."""

from __future__ import annotations

import gc
import importlib

import pytest

from inbox import startup


def test_a_failed_import_gives_the_collector_back_and_freezes_nothing() -> None:
    # Given a process whose collector runs
    assert gc.isenabled()
    frozen = gc.get_freeze_count()

    collecting_while_loading: list[bool] = []

    def load() -> None:
        with startup.modules_loading():
            collecting_while_loading.append(gc.isenabled())
            importlib.import_module("inbox.no_such_module")

    # When a handler's imports fail part way
    with pytest.raises(ModuleNotFoundError):
        load()

    assert collecting_while_loading == [False]  # held off while they ran
    # Then the process (a test run, a retried init) collects as before
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_collector_already_off_stays_off() -> None:
    # Given a process that turned its collector off itself
    gc.disable()
    try:
        # When a handler loads inside it
        with startup.modules_loading():
            pass
        gc.unfreeze()

        # Then it is still off: the process's choice stands
        assert not gc.isenabled()
    finally:
        gc.enable()
