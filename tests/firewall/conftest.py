# SPDX-License-Identifier: Apache-2.0
"""The firewall tests: the model (fwmodel.py) is here; the dplane-cli helpers (clientutil)
are tests/client's."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "client"))
