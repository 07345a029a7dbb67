# SPDX-License-Identifier: Apache-2.0
"""The NAT tests: the port model (natmodel.py) is here; the overlay's helpers (VMs, frames,
dpservice's hashes) are tests/overlay's, dplane-cli's are tests/client's."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "overlay"))
sys.path.insert(0, str(Path(__file__).parent.parent / "client"))
