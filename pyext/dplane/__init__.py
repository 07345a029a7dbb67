# SPDX-License-Identifier: Apache-2.0
"""dplane: a dataplane service for cloud hypervisors and SmartNICs.

Run it with `dplane [EAL options] -- [service options]` (or `python -m dplane`); drive it
over gRPC (dpdkironcore.v1.DPDKironcore, port 1337).
"""
from ._version import __version__

__all__ = ["__version__"]
