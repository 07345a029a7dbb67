# SPDX-License-Identifier: Apache-2.0
# Stubs of the iface.pxi bindings (concatenated into dplane/_firmware.pyi by the build).

PXE_NONE: int
PXE_IPV4: int
PXE_IPV6: int
BOOT_FILE_LEN: int
HOSTNAME_LEN: int

def iface_attach(port_id: int, vni: int, ipv4: bytes, ipv6: bytes, pxe_family: int,
                 pxe_addr: bytes, boot_file: bytes, hostname: bytes,
                 underlay: bytes = ...) -> None: ...
def iface_detach(port_id: int) -> None: ...
def iface_vm_mac(port_id: int) -> str: ...
