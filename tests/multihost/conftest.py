# SPDX-License-Identifier: Apache-2.0
"""The two-host tests: the load balancer's Maglev choice is tests/lb's, which uses the
overlay's helpers."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "lb"))
sys.path.insert(0, str(Path(__file__).parent.parent / "overlay"))
