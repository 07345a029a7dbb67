# SPDX-License-Identifier: Apache-2.0
"""The load-balancer tests: the Maglev model (maglevmodel.py) is here; dpservice's flow hash
and flow key are tests/overlay's (dpservice_hash.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "overlay"))
