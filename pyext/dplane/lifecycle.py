# SPDX-License-Identifier: Apache-2.0
"""The service's session with its controller: the UUID of this process and whether the
controller has called Initialize (every RPC but Initialize answers ABORTED until then).
Initialize may come again at any time; each time, the features put their state back to
what a fresh controller expects (e.g. every VNI's routing tables with only the interfaces'
own routes) through the hooks they add to `on_initialize`. Control thread only."""
from __future__ import annotations

import uuid
from collections.abc import Callable


class Lifecycle:
    def __init__(self) -> None:
        self.uuid = str(uuid.uuid4()).upper()
        self.initialized = False
        # called on the control thread by every Initialize, in the order they were added
        self.on_initialize: list[Callable[[], None]] = []

    def initialize(self) -> None:
        for hook in self.on_initialize:
            hook()
        self.initialized = True
