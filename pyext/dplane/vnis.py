# SPDX-License-Identifier: Apache-2.0
"""VNIs: routing tables created on first use, shared by reference count, freed on last use.
Control thread only."""
from __future__ import annotations

from collections.abc import Callable

from . import firmware
from .errors import ErrorCode, ServiceError


class Vnis:
    def __init__(self) -> None:
        self._users: dict[int, int] = {}
        # called with the VNI after its tables were emptied: owners re-add their routes
        self.on_reset: list[Callable[[int], None]] = []
        # called with the VNI before its tables are freed (its last user is gone)
        self.on_destroy: list[Callable[[int], None]] = []

    def ref(self, vni: int) -> None:
        if vni not in self._users:
            try:
                firmware.vni_create(vni)
            except OSError as exc:
                raise ServiceError(ErrorCode.VNI_INIT4, str(exc)) from None
            self._users[vni] = 0
        self._users[vni] += 1

    def unref(self, vni: int) -> None:
        self._users[vni] -= 1
        if self._users[vni] == 0:
            del self._users[vni]
            for hook in self.on_destroy:
                hook(vni)
            firmware.vni_destroy(vni)

    def in_use(self, vni: int) -> bool:
        return vni in self._users

    def __iter__(self):
        return iter(list(self._users))

    def reset(self, vni: int) -> None:
        """Empty the VNI's tables and let their owners put back what they own."""
        if vni not in self._users:
            return
        try:
            firmware.vni_reset(vni)
            for hook in self.on_reset:
                hook(vni)
        except (OSError, ServiceError) as exc:
            raise ServiceError(ErrorCode.ROUTE_RESET, str(exc)) from None
