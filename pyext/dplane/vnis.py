# SPDX-License-Identifier: Apache-2.0
"""VNIs: routing tables created on first use, shared by reference count, freed on last use;
emptied by ResetVni and by every Initialize, after which their owners put back what they own.
Also what a failed change of a VNI's routes means to a client. Control thread only."""
from __future__ import annotations

from collections.abc import Callable

from . import _firmware
from .cmdline import Config
from .errors import ErrorCode, ServiceError, failing_as, meanings
from .lifecycle import Lifecycle

# dpservice's codes for a route that cannot be added or removed
meanings(ErrorCode.ROUTE_INSERT, EEXIST=ErrorCode.ROUTE_EXISTS, ENODEV=ErrorCode.NO_VNI)
meanings(ErrorCode.ROUTE_NOT_FOUND, ENODEV=ErrorCode.NO_VNI, EXDEV=ErrorCode.ROUTE_BAD_PORT)


class Vnis:
    def __init__(self, cfg: Config, lifecycle: Lifecycle) -> None:
        self.routes_per_table = cfg.route_table_size  # per VNI and family
        self._users: dict[int, int] = {}
        # called with the VNI after its tables were emptied: owners re-add their routes
        self.on_reset: list[Callable[[int], None]] = []
        # called with the VNI before its tables are freed (its last user is gone)
        self.on_destroy: list[Callable[[int], None]] = []
        lifecycle.on_initialize.append(self.reset_all)

    def configure(self) -> None:
        """Before the dataplane starts: how many routes a VNI's table holds."""
        _firmware.vni_conf_set(self.routes_per_table)

    def ref(self, vni: int) -> None:
        if vni not in self._users:
            with failing_as(ErrorCode.VNI_INIT4):
                _firmware.vni_create(vni)
            self._users[vni] = 0
        self._users[vni] += 1

    def unref(self, vni: int) -> None:
        self._users[vni] -= 1
        if self._users[vni] == 0:
            del self._users[vni]
            for hook in self.on_destroy:
                hook(vni)
            _firmware.vni_destroy(vni)

    def in_use(self, vni: int) -> bool:
        return vni in self._users

    def __iter__(self):
        return iter(list(self._users))

    def reset(self, vni: int) -> None:
        """Empty the VNI's tables and let their owners put back what they own."""
        if vni not in self._users:
            return
        try:
            _firmware.vni_reset(vni)
            for hook in self.on_reset:
                hook(vni)
        except (OSError, ServiceError) as exc:
            raise ServiceError(ErrorCode.ROUTE_RESET, str(exc)) from None

    def reset_all(self) -> None:
        """Initialize: every VNI's tables rebuilt with only what their owners put back."""
        for vni in self:
            self.reset(vni)
