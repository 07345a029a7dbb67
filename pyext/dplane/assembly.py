# SPDX-License-Identifier: Apache-2.0
"""Putting the service together: objects built from their constructors' parameter types.

A feature's classes say what they need by the types of their `__init__` parameters
(`def __init__(self, interfaces: Interfaces, control: ControlThread)`), and nothing else: an
`Assembly` builds each class once, after the objects it needs, and hands the same instance to
everyone who asks for that type. The composition root (app.py) puts in the objects it makes
itself (the configuration, the control thread, the ports ...) with `provide()`, then asks for
the features' classes. Classes marked with `@component` are built even when nobody asks for
them (a feature that only reacts to events, e.g. removing flows when an interface goes).

Lifecycle: after assembly, `configure()` (before the dataplane starts: firmware settings),
`start()` (once it runs) and `stop()` (in reverse) are called on every built object that has
them, in the order the objects were built, which is an order their dependencies allow.
"""
from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_COMPONENTS: list[type] = []


def component(cls: type[T]) -> type[T]:
    """Mark a class to be built by every assembly, whether or not something needs it."""
    if cls not in _COMPONENTS:
        _COMPONENTS.append(cls)
    return cls


def components() -> list[type]:
    return list(_COMPONENTS)


class AssemblyError(Exception):
    """A class cannot be built: a parameter without a type, a type nobody provides, a cycle."""


class Assembly:
    def __init__(self) -> None:
        self._objects: dict[type, Any] = {}
        self._order: list[Any] = []     # built or provided, in that order
        self._building: list[type] = []

    def provide(self, obj: Any, as_type: type | None = None) -> None:
        """Hand out obj to whoever needs `as_type` (default: obj's own class)."""
        kind = as_type or type(obj)
        if kind in self._objects:
            raise AssemblyError(f"{kind.__name__} is provided twice")
        self._objects[kind] = obj
        self._order.append(obj)

    def get(self, cls: type[T]) -> T:
        """The one instance of cls, built (with what it needs) on first request."""
        if cls in self._objects:
            return self._objects[cls]
        if cls.__module__ == "builtins":
            raise AssemblyError(f"nobody provides {cls.__name__}")
        if cls in self._building:
            chain = " -> ".join(c.__name__ for c in [*self._building, cls])
            raise AssemblyError(f"dependency cycle: {chain}")
        self._building.append(cls)
        try:
            obj = cls(**{name: self.get(kind) for name, kind in _needs(cls)})
        finally:
            self._building.pop()
        self._objects[cls] = obj
        self._order.append(obj)
        return obj

    def build_all(self, classes: list[type]) -> None:
        for cls in classes:
            self.get(cls)

    def __iter__(self) -> Iterator[Any]:
        """Everything built or provided, dependencies first."""
        return iter(list(self._order))

    def call(self, method: str) -> None:
        """obj.method() on every object that has it, dependencies first."""
        for obj in self:
            fn: Callable[[], Any] | None = getattr(obj, method, None)
            if callable(fn):
                fn()

    def call_reversed(self, method: str) -> None:
        for obj in reversed(list(self)):
            fn = getattr(obj, method, None)
            if callable(fn):
                fn()


def _needs(cls: type) -> list[tuple[str, type]]:
    """(parameter name, type) of cls's constructor."""
    init = cls.__init__
    if init is object.__init__:
        return []
    try:
        hints = typing.get_type_hints(init)
    except NameError as exc:
        raise AssemblyError(f"{cls.__name__}: {exc}") from None
    out = []
    for name, param in list(inspect.signature(init).parameters.items())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is not param.empty:
            continue  # left to its default
        kind = hints.get(name)
        if not isinstance(kind, type):
            raise AssemblyError(f"{cls.__name__}.__init__: parameter {name!r} needs a class "
                                "as its type")
        out.append((name, kind))
    return out
