# SPDX-License-Identifier: Apache-2.0
"""The worker's tests use tests/dhcp's frames."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "dhcp"))
