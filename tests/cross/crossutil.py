# SPDX-License-Identifier: Apache-2.0
"""Helpers for the aarch64 cross-build tests: where things are, the tools/ scripts as modules,
and what a cross build produced."""
from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import os
import pathlib
import sys
from types import ModuleType

REPO = pathlib.Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
BUILD = REPO / "build" / "aarch64"
SYSROOT_CACHE = pathlib.Path(os.environ.get("DPLANE_SYSROOT") or "/var/cache/dplane-sysroot")
EXIT_NO_NETWORK = 3
NEEDED_TOOLS = {"aarch64-linux-gnu-gcc": "crossbuild-essential-arm64",
                "qemu-aarch64-static": "qemu-user-static", "apt-get": "apt",
                "dpkg-deb": "dpkg", "pkg-config": "pkg-config"}


def load_tool(name: str) -> ModuleType:
    """A script of tools/ (with or without .py) as a module."""
    modname = name.removesuffix(".py").replace("-", "_")
    if modname in sys.modules:
        return sys.modules[modname]
    loader = importlib.machinery.SourceFileLoader(modname, str(TOOLS / name))
    spec = importlib.util.spec_from_loader(modname, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module  # dataclasses look their module up here
    loader.exec_module(module)
    return module


@dataclasses.dataclass
class CrossBuild:
    wheel: pathlib.Path
    deps: pathlib.Path
    root: pathlib.Path  # the arm64 sysroot
    build: pathlib.Path  # meson's build directory
    seconds: float  # how long this session's build took (0 when another worker did it)
