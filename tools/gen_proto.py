#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate the Python gRPC stubs for proto/*.proto at build time (called by meson).

grpc_tools writes absolute imports between generated modules (`import dpdk_pb2`); inside the
dplane.proto package they must be relative, so they are rewritten here.
"""
import argparse
import pathlib
import re
import sys

from grpc_tools import protoc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("protos", nargs="+", type=pathlib.Path)
    args = ap.parse_args()

    include = args.protos[0].parent.resolve()
    grpc_include = pathlib.Path(protoc.__file__).parent / "_proto"
    args.out.mkdir(parents=True, exist_ok=True)
    rc = protoc.main([
        "grpc_tools.protoc",
        f"-I{include}",
        f"-I{grpc_include}",
        f"--python_out={args.out}",
        f"--pyi_out={args.out}",
        f"--grpc_python_out={args.out}",
        *[str(p.resolve()) for p in args.protos],
    ])
    if rc != 0:
        return rc

    modules = {p.stem + "_pb2" for p in args.protos}
    pattern = re.compile(r"^import ({}) as (\w+)$".format("|".join(modules)), re.M)
    for path in args.out.glob("*_pb2*.py"):
        text = path.read_text()
        fixed = pattern.sub(r"from . import \1 as \2", text)
        if fixed != text:
            path.write_text(fixed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
