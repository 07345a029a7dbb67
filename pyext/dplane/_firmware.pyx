# SPDX-License-Identifier: Apache-2.0
# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin bindings to the C firmware. One .pxi per public header; the Pythonic layer is
dplane.firmware. Every C control function returns 0 or -errno: _check() turns the latter
into the matching OSError subclass."""

import errno as _errno
import os as _os


cdef inline int _check(int rc) except -1:
    if rc < 0:
        raise OSError(-rc, _os.strerror(-rc))
    return rc


include "core.pxi"
include "parse.pxi"
include "iface.pxi"
include "vni.pxi"
include "vnf.pxi"
include "arp.pxi"
include "nd.pxi"
include "dhcp.pxi"
include "dhcpv6.pxi"
include "conntrack.pxi"
include "overlay.pxi"
include "telemetry.pxi"
include "trace.pxi"
