# SPDX-License-Identifier: Apache-2.0
# Stubs of the dhcpv6.pxi bindings (concatenated into dplane/_firmware.pyi by the build).
from typing import Any

DHCPV6_STATUS: tuple[str, ...]
DHCPV6_F_CLIENT_ID: int
DHCPV6_F_IA_NA: int
DHCPV6_F_RAPID_COMMIT: int
DHCPV6_MAX_DUID: int
DHCPV6_MAX_DNS: int

def dhcpv6_parse(data: bytes) -> tuple[str, dict[str, Any] | None]: ...
def dhcpv6_conf_set(dns: list[bytes]) -> None: ...
