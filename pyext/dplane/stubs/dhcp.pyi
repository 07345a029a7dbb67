# SPDX-License-Identifier: Apache-2.0
# Stubs of the dhcp.pxi bindings (concatenated into dplane/_firmware.pyi by the build).

DHCP_STATUS: tuple[str, ...]
DHCP_PXE_NONE: int
DHCP_PXE_TFTP: int
DHCP_PXE_HTTP: int
DHCP_MAX_DNS: int

def dhcp_parse(data: bytes) -> tuple[str, dict[str, int] | None]: ...
def dhcp_conf_set(mtu: int, dns: list[bytes]) -> None: ...
