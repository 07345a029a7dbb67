# SPDX-License-Identifier: Apache-2.0
"""The load-balancer tests: the Maglev model (maglevmodel.py) is here; dpservice's flow hash
and the overlay's helpers are tests/overlay's, dplane-cli's are tests/client's."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "overlay"))
sys.path.insert(0, str(Path(__file__).parent.parent / "client"))
