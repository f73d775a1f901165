"""Every model reads back what the store writes of it.

The store leaves nulls out of items (`items.to_item`), so a field that may be None but has no
default is written and then refused on read: the bug of the `no_rules` routing record, for which
every conversation of an account without assignment rules answered 500. No model may have one.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing

from pydantic import BaseModel

import inbox

NOT_SHIPPED = ("inbox.local", "inbox.cli")


def shipped_models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module_info in pkgutil.walk_packages(inbox.__path__, "inbox."):
        if module_info.name.startswith(NOT_SHIPPED):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def admits_none(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return admits_none(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(arg is type(None) or admits_none(arg) for arg in typing.get_args(annotation))
    return annotation is type(None)


def test_the_models_are_found() -> None:
    names = {model.__name__ for model in shipped_models()}

    assert {"Conversation", "Message", "AssignmentDecision", "AutoReplyDecision", "Account"} <= names


def test_no_stored_field_may_be_null_without_a_default() -> None:
    offenders = [
        f"{model.__module__}.{model.__qualname__}.{name}"
        for model in shipped_models()
        for name, field in model.model_fields.items()
        if field.is_required() and admits_none(field.annotation)
    ]

    assert offenders == []
