# SPDX-License-Identifier: Apache-2.0
import sys
from pathlib import Path

# the overlay tests' helpers: VMs on the VFs, frames as they send them
sys.path.insert(0, str(Path(__file__).parent.parent / "overlay"))
