# SPDX-License-Identifier: Apache-2.0
# Stubs of the arp.pxi bindings (concatenated into dplane/_firmware.pyi by the build).

ARP_STATUS: tuple[str, ...]
ARP_LEN: int
ARP_OP_REQUEST: int
ARP_OP_REPLY: int

def arp_parse(data: bytes) -> tuple[str, int, bytes, bytes, bytes, bytes]: ...
def arp_build_request(mac: bytes, sip: bytes, tip: bytes) -> bytes: ...
def arp_send_gratuitous(port_id: int) -> None: ...
