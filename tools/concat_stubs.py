#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Build step: dplane/_firmware.pyi from the stub fragments of the bindings, in order.

    concat_stubs.py OUTPUT FRAGMENT...

Each fragment is a stub file of its own (it imports what it uses); the result is their
bodies one after the other, with every import once at the top."""
from __future__ import annotations

import sys
from pathlib import Path


def concat(fragments: list[str]) -> str:
    imports: list[str] = []
    bodies: list[str] = []
    for path in fragments:
        body = []
        for line in Path(path).read_text().splitlines():
            if line.startswith(("import ", "from ")):
                if line not in imports:
                    imports.append(line)
            elif not line.startswith("#"):
                body.append(line)
        bodies.append("\n".join(body).strip("\n"))
    header = ["# SPDX-License-Identifier: Apache-2.0",
              "# Generated from pyext/dplane/stubs/*.pyi by tools/concat_stubs.py.",
              "from __future__ import annotations", "", *imports, ""]
    return "\n".join(header) + "\n" + "\n\n".join(bodies) + "\n"


def main(argv: list[str]) -> int:
    output, *fragments = argv
    Path(output).write_text(concat(fragments))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
