# SPDX-License-Identifier: Apache-2.0
# Stubs of the parse.pxi bindings (concatenated into dplane/_firmware.pyi by the build).

PARSE_STATUS: tuple[str, ...]
L3_NONE: int
L3_ARP: int
L3_IPV4: int
L3_IPV6: int
L3_OTHER: int
PARSE_F_FRAGMENT: int
PARSE_F_NO_L4: int
PARSE_F_IPV6_EXT: int

def parse_frame(data: bytes) -> tuple[str, dict[str, int]]: ...
