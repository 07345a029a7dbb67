#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The gates CI runs besides the tests: ruff on the Python code, clang-format on the C code
# (.clang-format; Debian bookworm's clang-format 14, which tools/setup.sh installs).
# Usage: tools/lint.sh [--fix]   (--fix: rewrite the files instead of failing)
set -eu
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--fix" ]; then
    python3 -m ruff check --fix .
    git ls-files -z 'firmware/*.c' 'firmware/*.h' | xargs -0 clang-format -i
    exit 0
fi
python3 -m ruff check .
git ls-files -z 'firmware/*.c' 'firmware/*.h' | xargs -0 clang-format --dry-run --Werror
echo "lint: ruff and clang-format clean"
