# SPDX-License-Identifier: Apache-2.0
"""Pythonic face of the C firmware (dplane._firmware). Control functions must run on the
control thread, the one that called eal_init(); the firmware refuses others (EPERM)."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from . import _firmware as _fw

PORT_PF = _fw.PORT_PF
PORT_VF = _fw.PORT_VF
MAX_PORTS = _fw.MAX_PORTS
MAX_ETHPORTS = _fw.MAX_ETHPORTS  # RTE_MAX_ETHPORTS of the DPDK build (32 in Debian's)
PARSE_STATUS: tuple[str, ...] = _fw.PARSE_STATUS


@dataclasses.dataclass(frozen=True)
class EthDev:
    """An ethdev as EAL found it."""

    port_id: int
    name: str      # DPDK device name, e.g. "net_tap2"
    ifname: str    # kernel interface name, "" when there is none
    driver: str
    mac: str
    if_index: int


@dataclasses.dataclass(frozen=True)
class PortConf:
    port_id: int
    role: int             # PORT_PF or PORT_VF
    pf_index: int = 0
    xconnect: int | None = None
    start: bool = True


def eal_init(args: list[str]) -> int:
    return _fw.eal_init(args)


def eal_cleanup() -> None:
    _fw.eal_cleanup()


def lcore_count() -> int:
    return _fw.lcore_count()


def ethdevs() -> list[EthDev]:
    return [EthDev(**d) for d in _fw.ethdevs()]


def start(nb_mbufs: int, ports: Iterable[PortConf]) -> None:
    _fw.core_start(nb_mbufs, [(p.port_id, p.role, p.pf_index, p.xconnect, p.start)
                              for p in ports])


def stop() -> None:
    _fw.core_stop()


def running() -> bool:
    return _fw.core_running()


def port_start(port_id: int) -> None:
    _fw.port_start(port_id)


def port_stop(port_id: int) -> None:
    _fw.port_stop(port_id)


def port_set_neigh_mac(port_id: int, mac: bytes) -> None:
    """The underlay router's MAC behind a PF: where encapsulated frames are sent."""
    _fw.port_set_neigh_mac(port_id, mac)


def port_link_update(port_id: int) -> bool:
    """Refresh the datapath's view of the port's link state; True when up."""
    return _fw.port_link_update(port_id)


def port_stats(port_id: int) -> dict[str, int]:
    return _fw.port_stats(port_id)


def rcu_synchronize() -> None:
    _fw.rcu_synchronize()


def drop_counters() -> dict[str, int]:
    """Packets dropped per reason ("<node>_<reason>") since the graph started."""
    return _fw.drop_counters()


@dataclasses.dataclass(frozen=True)
class ParseResult:
    status: str  # "ok" or the error ("bad_ipv4", ...)
    ethertype: int
    l3_off: int
    l3_len: int
    l4_off: int
    l3_type: int
    l4_proto: int
    vlans: int
    flags: int


L3_NONE, L3_ARP, L3_IPV4, L3_IPV6, L3_OTHER = range(5)
PARSE_F_FRAGMENT, PARSE_F_NO_L4, PARSE_F_IPV6_EXT = 0x01, 0x02, 0x04


def parse_frame(data: bytes) -> ParseResult:
    """The cls parser, as the dataplane runs it (needs no EAL)."""
    status, fields = _fw.parse_frame(data)
    return ParseResult(status, **fields)


# -- service-wide settings, tables ------------------------------------------------------

def service_conf_set(dhcp_mtu: int, dns4: list[bytes], dns6: list[bytes],
                     ipv6_overlay: bool, wcmp: int = 100) -> None:
    """Before start(): what DHCP/DHCPv6/ND answers with (addresses packed), and the share of
    IPv4 underlay traffic for PF0 (--wcmp)."""
    _fw.dhcp_conf_set(dhcp_mtu, dns4)
    _fw.dhcpv6_conf_set(dns6)
    _fw.nd_conf_set(ipv6_overlay)
    _fw.overlay_conf_set(wcmp)


def tables() -> list[tuple[str, int, int]]:
    """(name, capacity, entries) of every firmware table."""
    return _fw.tables()


# -- interfaces (VF ports bound to a VNI and addresses) ----------------------------------

PXE_NONE, PXE_IPV4, PXE_IPV6 = _fw.PXE_NONE, _fw.PXE_IPV4, _fw.PXE_IPV6
BOOT_FILE_LEN = _fw.BOOT_FILE_LEN  # with the terminating NUL
HOSTNAME_LEN = _fw.HOSTNAME_LEN


def iface_attach(port_id: int, vni: int, ipv4: bytes, ipv6: bytes, pxe_family: int = 0,
                 pxe_addr: bytes = b"", boot_file: str = "", hostname: str = "",
                 underlay: bytes = bytes(16)) -> None:
    _fw.iface_attach(port_id, vni, ipv4, ipv6, pxe_family, pxe_addr, boot_file.encode(),
                     hostname.encode(), underlay)


def iface_detach(port_id: int) -> None:
    _fw.iface_detach(port_id)


def iface_vm_mac(port_id: int) -> str:
    return _fw.iface_vm_mac(port_id)


# -- VNIs and routes -----------------------------------------------------------------------

VNI_MAX = _fw.VNI_MAX


def vni_create(vni: int) -> None:
    _fw.vni_create(vni)


def vni_destroy(vni: int) -> None:
    _fw.vni_destroy(vni)


def vni_exists(vni: int) -> bool:
    return _fw.vni_exists(vni)


def vni_reset(vni: int) -> None:
    _fw.vni_reset(vni)


def route_add(vni: int, prefix: bytes, prefix_len: int, port_id: int, nh_vni: int = 0,
              nh_ipv6: bytes = b"") -> None:
    _fw.route_add(vni, prefix, prefix_len, port_id, nh_vni, nh_ipv6)


def route_del(vni: int, prefix: bytes, prefix_len: int, port_id: int = -1) -> None:
    _fw.route_del(vni, prefix, prefix_len, port_id)


def route_list(vni: int, family: int) -> list[tuple[bytes, int, int, int, bytes]]:
    return _fw.route_list(vni, family)


# -- the VNF table (underlay addresses) -------------------------------------------------

VNF_INTERFACE_IP, VNF_VIP, VNF_NAT, VNF_LB, VNF_LB_ALIAS_PFX, VNF_ALIAS_PFX = (
    _fw.VNF_INTERFACE_IP, _fw.VNF_VIP, _fw.VNF_NAT, _fw.VNF_LB, _fw.VNF_LB_ALIAS_PFX, _fw.VNF_ALIAS_PFX)


def vnf_add(underlay: bytes, vnf_type: int, port_id: int, vni: int, prefix: bytes = b"",
            prefix_len: int = 0) -> None:
    _fw.vnf_add(underlay, vnf_type, port_id, vni, prefix, prefix_len)


def vnf_del(underlay: bytes) -> None:
    _fw.vnf_del(underlay)


def vnf_get(underlay: bytes) -> tuple[int, int, int, bytes, int] | None:
    return _fw.vnf_get(underlay)


def vnf_list() -> list[tuple[bytes, int, int, int, bytes, int]]:
    """The VNF table as workers read it: (underlay, type, port_id, vni, prefix, prefix_len)."""
    return _fw.vnf_list()


def vni_list() -> list[int]:
    """The VNIs in the VNI table, sorted."""
    return _fw.vni_list()


# -- DHCP parsers (fuzzing) ------------------------------------------------------------------

DHCP_STATUS: tuple[str, ...] = _fw.DHCP_STATUS
DHCPV6_STATUS: tuple[str, ...] = _fw.DHCPV6_STATUS
DHCP_PXE_NONE, DHCP_PXE_TFTP, DHCP_PXE_HTTP = (_fw.DHCP_PXE_NONE, _fw.DHCP_PXE_TFTP,
                                                _fw.DHCP_PXE_HTTP)
DHCPV6_F_CLIENT_ID = _fw.DHCPV6_F_CLIENT_ID
DHCPV6_F_IA_NA = _fw.DHCPV6_F_IA_NA
DHCPV6_F_RAPID_COMMIT = _fw.DHCPV6_F_RAPID_COMMIT
DHCPV6_MAX_DUID = _fw.DHCPV6_MAX_DUID


@dataclasses.dataclass(frozen=True)
class DhcpInfo:
    """What the DHCPv4 responder reads from a request (see dplane/dhcp.h)."""

    options_end: int  # offset just past the END option, or the length without one
    msg_type: int
    pxe: int          # DHCP_PXE_*


@dataclasses.dataclass(frozen=True)
class Dhcpv6Info:
    """What the DHCPv6 responder reads from a client message (see dplane/dhcpv6.h)."""

    msg_type: int
    flags: int          # DHCPV6_F_*
    pxe: int            # DHCP_PXE_*
    client_id_off: int  # where the CLIENTID value is in the message (0 if absent)
    client_id_len: int
    iaid: bytes         # of the IA_NA (zeros if absent)


def dhcp_parse(data: bytes) -> tuple[str, DhcpInfo | None]:
    """The DHCPv4 request parser on a UDP payload (needs no EAL): ("ok", info) or
    (error, None)."""
    status, fields = _fw.dhcp_parse(data)
    return status, None if fields is None else DhcpInfo(**fields)


def dhcpv6_parse(data: bytes) -> tuple[str, Dhcpv6Info | None]:
    """The DHCPv6 message parser on a UDP payload (needs no EAL): ("ok", info) or
    (error, None)."""
    status, fields = _fw.dhcpv6_parse(data)
    return status, None if fields is None else Dhcpv6Info(**fields)


# -- ARP and ND ----------------------------------------------------------------------------
# The parsers, checksum and builders are pure (no EAL needed); the senders queue the periodic
# announcements for one VF (control thread).

ARP_STATUS: tuple[str, ...] = _fw.ARP_STATUS
ND_STATUS: tuple[str, ...] = _fw.ND_STATUS
ARP_LEN = _fw.ARP_LEN
ARP_OP_REQUEST, ARP_OP_REPLY = _fw.ARP_OP_REQUEST, _fw.ARP_OP_REPLY
ND_RS, ND_RA, ND_NS, ND_NA = _fw.ND_RS, _fw.ND_RA, _fw.ND_NS, _fw.ND_NA
ND_NA_ROUTER, ND_NA_SOLICITED, ND_NA_OVERRIDE = (_fw.ND_NA_ROUTER, _fw.ND_NA_SOLICITED,
                                                 _fw.ND_NA_OVERRIDE)


@dataclasses.dataclass(frozen=True)
class ArpInfo:
    status: str  # "ok" or the error ("truncated", ...)
    op: int
    sha: bytes
    sip: bytes
    tha: bytes
    tip: bytes


def arp_parse(data: bytes) -> ArpInfo:
    """The ARP parser of the `arp` node on an ARP packet (without the Ethernet header)."""
    return ArpInfo(*_fw.arp_parse(data))


def arp_build_request(mac: bytes, sip: bytes, tip: bytes) -> bytes:
    """The frame of a broadcast ARP request from mac (packed addresses)."""
    return _fw.arp_build_request(mac, sip, tip)


def arp_send_gratuitous(port_id: int) -> None:
    """Queue the periodic ARP request to the VM behind VF port_id."""
    _fw.arp_send_gratuitous(port_id)


@dataclasses.dataclass(frozen=True)
class NdOptions:
    status: str
    nb_opts: int
    slla: bytes | None  # first source link-layer address option
    tlla: bytes | None  # first target link-layer address option


@dataclasses.dataclass(frozen=True)
class NdInfo:
    status: str
    type: int
    code: int
    target: bytes  # NS only, else zero
    opts_off: int
    nb_opts: int
    slla: bytes | None
    tlla: bytes | None


def nd_parse_options(data: bytes) -> NdOptions:
    return NdOptions(*_fw.nd_parse_options(data))


def nd_parse(data: bytes) -> NdInfo:
    """The RS/NS parser of the `ipv6_nd` node on an ICMPv6 message (checksum not checked)."""
    return NdInfo(*_fw.nd_parse(data))


def nd_checksum(src: bytes, dst: bytes, msg: bytes) -> int:
    """ICMPv6 checksum of msg between src and dst: 0 when msg carries a correct one."""
    return _fw.nd_checksum(src, dst, msg)


def nd_build_na(eth_dst: bytes, eth_src: bytes, ip_src: bytes, ip_dst: bytes, flags: int,
                target: bytes, tlla: bytes, vtc_flow: int = 0x60000000) -> bytes:
    return _fw.nd_build_na(eth_dst, eth_src, ip_src, ip_dst, vtc_flow, flags, target, tlla)


def nd_build_ra(eth_dst: bytes, eth_src: bytes, ip_src: bytes, ip_dst: bytes, slla: bytes,
                vtc_flow: int = 0x60000000) -> bytes:
    return _fw.nd_build_ra(eth_dst, eth_src, ip_src, ip_dst, vtc_flow, slla)


def nd_send_unsolicited_na(port_id: int) -> None:
    """Queue the periodic unsolicited NA for fe80::1 to the VM behind VF port_id."""
    _fw.nd_send_unsolicited_na(port_id)


def nd_send_ra(port_id: int) -> None:
    """Queue the periodic RA to the VM behind VF port_id."""
    _fw.nd_send_ra(port_id)


# -- connection tracking -----------------------------------------------------------------

CT_DEFAULT_CAPACITY = _fw.CT_DEFAULT_CAPACITY
CT_TCP_ESTABLISHED_TIMEOUT = _fw.CT_TCP_ESTABLISHED_TIMEOUT
TCP_STATES: tuple[str, ...] = _fw.TCP_STATES


def ct_conf_set(capacity: int, timeout_s: int) -> None:
    """Before start(): table size in keys (two per flow), idle timeout."""
    _fw.ct_conf_set(capacity, timeout_s)


def ct_age() -> int:
    """Remove idle flows; returns how many."""
    return _fw.ct_age()


def ct_flush(port_id: int = -1, vni: int = 0, prefix: bytes = b"", prefix_len: int = 0) -> int:
    """Remove the flows that came in on port_id, or those of vni with an end inside the
    prefix (packed). Returns how many."""
    return _fw.ct_flush(port_id, vni, prefix, prefix_len)


def ct_flush_all() -> int:
    return _fw.ct_flush_all()


def ct_count() -> int:
    return _fw.ct_count()


def ct_list() -> list[dict]:
    return _fw.ct_list()


def flow_key_build(frame: bytes, vni: int = 0, vnf_type: int = 0) -> tuple[str, bytes | None]:
    """cls's parser then conntrack's key, on a frame: (status, 44-byte key or None)."""
    return _fw.flow_key_build(frame, vni, vnf_type)


def flow_key_reverse(key: bytes) -> bytes:
    return _fw.flow_key_reverse(key)


def ct_tcp_next(state: int, direction: int, tcp_flags: int) -> int:
    return _fw.ct_tcp_next(state, direction, tcp_flags)


# -- tunnels -----------------------------------------------------------------------------

def ipip_encap(frame: bytes, src_ip: bytes, dst_ip: bytes, src_mac: bytes,
               dst_mac: bytes) -> bytes:
    """ipip_encap's tunnel frame for an Ethernet frame (ValueError if it cannot be one)."""
    return _fw.ipip_encap(frame, src_ip, dst_ip, src_mac, dst_mac)


def ipip_decap(frame: bytes, dst_mac: bytes, src_mac: bytes) -> tuple[str, bytes | None]:
    """ipip_decap's inner frame: (status, frame or None)."""
    return _fw.ipip_decap(frame, dst_mac, src_mac)
