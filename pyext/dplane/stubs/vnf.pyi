# SPDX-License-Identifier: Apache-2.0
# Stubs of the vnf.pxi bindings (concatenated into dplane/_firmware.pyi by the build).

VNF_TYPES: tuple[str, ...]
VNF_UNDEFINED: int
VNF_INTERFACE_IP: int
VNF_VIP: int
VNF_NAT: int
VNF_LB: int
VNF_LB_ALIAS_PFX: int
VNF_ALIAS_PFX: int

def vnf_add(underlay: bytes, vnf_type: int, port_id: int, vni: int, prefix: bytes = ...,
            prefix_len: int = ...) -> None: ...
def vnf_del(underlay: bytes) -> None: ...
def vnf_get(underlay: bytes) -> tuple[int, int, int, bytes, int] | None: ...
def vnf_count() -> int: ...
