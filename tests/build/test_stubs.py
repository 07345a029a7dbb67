# SPDX-License-Identifier: Apache-2.0
"""The type stubs of dplane._firmware (pyext/dplane/stubs/<binding>.pyi, concatenated into
_firmware.pyi by the build) describe exactly what the extension exports: every public name,
nothing more, and for every function its parameters (names, order, which have defaults), as
inspect reads them from the compiled module. The modules of dplane import the extension
directly and rely on these stubs for their types."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from dplane import _firmware

STUBS = Path(__file__).resolve().parents[2] / "pyext" / "dplane" / "stubs"
BUILD = Path(__file__).resolve().parents[2] / "pyext" / "meson.build"


def stub_fragments() -> list[Path]:
    return sorted(STUBS.glob("*.pyi"))


def stub_definitions() -> dict[str, ast.FunctionDef | None]:
    """name -> its def (None for constants), over all fragments; a name defined twice is a
    mistake."""
    out: dict[str, ast.FunctionDef | None] = {}
    for path in stub_fragments():
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.FunctionDef):
                names, value = [node.name], node
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names, value = [node.target.id], None
            else:
                continue
            for name in names:
                assert name not in out, f"{name} is in two stub fragments ({path.name})"
                out[name] = value
    return out


def exported() -> set[str]:
    return {name for name in dir(_firmware) if not name.startswith("_")}


def test_every_binding_has_its_fragment():
    """The build's list of bindings (each a .pxd, .pxi and stubs/<name>.pyi) and the
    fragments agree."""
    text = BUILD.read_text()
    listed = text[text.index("firmware_bindings = ["):].split("]", 1)[0]
    names = {part.strip().strip("'\"") for part in listed.split("[", 1)[1].split(",")}
    names.discard("")
    assert names == {p.stem for p in stub_fragments()}
    for name in names:
        assert (STUBS.parent / f"{name}.pxi").exists(), name


def test_names_match():
    stubs = set(stub_definitions())
    assert exported() - stubs == set(), "exported but not in the stubs"
    assert stubs - exported() == set(), "in the stubs but not exported"


def _parameters(fn: ast.FunctionDef) -> list[tuple[str, bool]]:
    args = fn.args
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    out = [(a.arg, i >= first_default) for i, a in enumerate(positional)]
    out += [(a.arg, d is not None)
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return out


@pytest.mark.parametrize("name", sorted(n for n, d in stub_definitions().items() if d))
def test_signature_matches(name):
    fn = stub_definitions()[name]
    assert fn is not None
    runtime = inspect.signature(getattr(_firmware, name))
    assert _parameters(fn) == [(p.name, p.default is not p.empty)
                               for p in runtime.parameters.values()]
    assert fn.returns is not None, f"{name}: no return type"


@pytest.mark.parametrize("name", sorted(n for n, d in stub_definitions().items() if not d))
def test_constants_are_not_functions(name):
    assert not callable(getattr(_firmware, name))


def test_concatenated_stubs_parse():
    """What the build installs as _firmware.pyi: the fragments' imports once, then their
    bodies; a valid stub file defining every name."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "concat_stubs", STUBS.parents[2] / "tools" / "concat_stubs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.concat([str(p) for p in stub_fragments()])
    tree = ast.parse(text)
    defined = {n.name if isinstance(n, ast.FunctionDef) else n.target.id  # type: ignore[union-attr]
               for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))}
    assert defined == exported()
    first_def = next(i for i, n in enumerate(tree.body)
                     if not isinstance(n, (ast.Import, ast.ImportFrom)))
    assert all(not isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body[first_def:])
