# SPDX-License-Identifier: Apache-2.0
"""Connection tracking from the control side: the table's size and timeout, aging, and the
flows that must go when what they depend on goes (an interface, a route, a prefix, a VNI).
Control thread only."""
from __future__ import annotations

import logging

from .. import _firmware
from ..assembly import component
from ..cmdline import Config
from ..control import ControlThread
from ..interfaces import Interface, Interfaces
from ..vnis import Vnis
from .prefixes import Prefixes
from .routes import Routes

log = logging.getLogger("dplane.flows")

AGING_INTERVAL = 5.0  # seconds, or the flow timeout when that is shorter


@component
class Flows:
    def __init__(self, cfg: Config, control: ControlThread, interfaces: Interfaces,
                 vnis: Vnis, routes: Routes, prefixes: Prefixes) -> None:
        self.capacity = cfg.flow_table_size
        self.timeout_s = cfg.flow_timeout
        self._control = control
        # flows go with what they depend on
        interfaces.after_delete.append(self.interface_deleted)
        vnis.on_destroy.append(self.vni_destroyed)
        routes.on_remove.append(self.prefix_removed)
        prefixes.on_remove.append(self.prefix_removed)

    def configure(self) -> None:
        """Before the dataplane starts."""
        _firmware.ct_conf_set(self.capacity, self.timeout_s)

    def start(self) -> None:
        self._control.every(self.aging_interval, self.age)

    @property
    def aging_interval(self) -> float:
        return float(min(AGING_INTERVAL, self.timeout_s))

    def age(self) -> None:
        removed = _firmware.ct_age()
        if removed:
            log.debug("aged out %d flows", removed)

    def interface_deleted(self, iface: Interface) -> None:
        """Every flow from the interface's VF, and every flow to its addresses."""
        removed = _firmware.ct_flush(port_id=iface.port.port_id)
        for prefix, length in iface.routes():
            removed += _firmware.ct_flush(vni=iface.vni, prefix=prefix, prefix_len=length)
        log.debug("interface %s: removed %d flows", iface.id, removed)

    def prefix_removed(self, vni: int, prefix: bytes, length: int) -> None:
        """A route or prefix is gone: so are the flows of the VNI to or from it."""
        _firmware.ct_flush(vni=vni, prefix=prefix, prefix_len=length)

    def vni_destroyed(self, vni: int) -> None:
        """The VNI's last user is gone: every flow of it, both families."""
        self.prefix_removed(vni, bytes(4), 0)
        self.prefix_removed(vni, bytes(16), 0)
