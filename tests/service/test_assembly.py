# SPDX-License-Identifier: Apache-2.0
"""The composition root's tools, without a dataplane: objects built from their constructors'
parameter types (assembly.py), the features found by scanning their packages (app.py), and
the RPC handlers found on the API classes (api/)."""
from __future__ import annotations

import pytest

from dplane import api, app
from dplane.assembly import Assembly, AssemblyError, component, components
from dplane.lifecycle import Lifecycle


class Config:
    def __init__(self, name: str = "cfg") -> None:
        self.name = name


class Tables:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg


class Routes:
    def __init__(self, tables: Tables, cfg: Config) -> None:
        self.tables, self.cfg = tables, cfg
        self.calls: list[str] = []

    def configure(self) -> None:
        self.calls.append("configure")

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")


class Loop1:
    def __init__(self, other: Loop2) -> None:
        pass


class Loop2:
    def __init__(self, other: Loop1) -> None:
        pass


class Untyped:
    def __init__(self, thing) -> None:
        pass


class NeedsInt:
    def __init__(self, count: int) -> None:
        pass


def test_built_once_with_what_the_constructor_asks_for():
    parts = Assembly()
    cfg = Config("x")
    parts.provide(cfg)
    routes = parts.get(Routes)
    assert routes.cfg is cfg and routes.tables.cfg is cfg
    assert parts.get(Routes) is routes and parts.get(Tables) is routes.tables
    assert list(parts) == [cfg, routes.tables, routes]  # dependencies first


def test_lifecycle_in_dependency_order():
    parts = Assembly()
    parts.provide(Config())
    order = []
    routes = parts.get(Routes)
    routes.calls = order
    parts.call("configure")
    parts.call("start")
    parts.call_reversed("stop")
    assert order == ["configure", "start", "stop"]


def test_refusals():
    parts = Assembly()
    with pytest.raises(AssemblyError, match="nobody provides int"):
        parts.get(NeedsInt)
    with pytest.raises(AssemblyError, match="cycle: Loop1 -> Loop2 -> Loop1"):
        parts.get(Loop1)
    with pytest.raises(AssemblyError, match="needs a class"):
        parts.get(Untyped)
    parts2 = Assembly()
    parts2.provide(Config())
    with pytest.raises(AssemblyError, match="provided twice"):
        parts2.provide(Config())


def test_component_registry():
    @component
    class Feature:
        pass

    assert Feature in components()
    component(Feature)
    assert components().count(Feature) == 1


def test_features_and_apis_are_found():
    """Every module of dplane.features and dplane.api registers itself: nothing lists them."""
    app.load_features()
    names = {cls.__name__ for cls in components()}
    assert {"Flows", "Uplinks", "Announcements", "DhcpSettings"} <= names
    apis = {cls.__name__ for cls in api.classes()}
    assert {"InitApi", "InterfaceApi", "VniApi", "RouteApi", "PrefixApi"} <= apis


def test_rpc_handlers_from_api_objects():
    @api.api
    class Echo:
        @api.rpc("GetVersion")
        def version(self, request):
            return request

    handlers = api.handlers([Echo(), object()])
    assert set(handlers) == {"GetVersion"} and handlers["GetVersion"]("x") == "x"
    with pytest.raises(RuntimeError, match="two handlers"):
        api.handlers([Echo(), Echo()])
    with pytest.raises(KeyError):
        api.rpc("NoSuchRpc")


def test_initialize_runs_the_features_hooks():
    life = Lifecycle()
    seen = []
    life.on_initialize.append(lambda: seen.append(life.initialized))
    life.initialize()
    assert seen == [False] and life.initialized
    assert life.uuid == life.uuid.upper() and len(life.uuid) == 36
