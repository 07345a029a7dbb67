# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/overlay.h (included after parse.pxi): the tunnel functions the
# ipip_encap / ipip_decap nodes run, on bytes, for fuzzing. Frames go through
# _guarded_copy(): an over-read past the end faults at once.
from dplane.overlay cimport *

DECAP_STATUS = tuple(dp_decap_status_name(<dp_decap_status>i).decode()
                     for i in range(DP_DECAP_STATUS_COUNT))


def ipip_encap(data, bytes src_ip, bytes dst_ip, bytes src_mac, bytes dst_mac):
    """The tunnel frame for an Ethernet frame; raises ValueError when it cannot be one."""
    cdef const unsigned char[:] view = data
    cdef unsigned char *buf = _guarded_copy(view)
    cdef uint32_t n = <uint32_t>view.shape[0]
    cdef dp_encap_params e
    _copy_addr(e.src_ip, src_ip, 16)
    _copy_addr(e.dst_ip, dst_ip, 16)
    _copy_addr(e.src_mac, src_mac, 6)
    _copy_addr(e.dst_mac, dst_mac, 6)
    if dp_ipip_encap(buf, n, &e) < 0:
        raise ValueError('not an IPv4/IPv6 frame that fits a tunnel')
    return (<const char *>(buf - DP_IPV6_LEN))[:n + DP_IPV6_LEN]


def ipip_decap(data, bytes dst_mac, bytes src_mac):
    """(status, inner frame or None)."""
    cdef const unsigned char[:] view = data
    cdef unsigned char *buf = _guarded_copy(view)
    cdef uint32_t out_len = 0
    if len(dst_mac) != 6 or len(src_mac) != 6:
        raise ValueError('MACs of 6 bytes expected')
    cdef dp_decap_status st = dp_ipip_decap(buf, <uint32_t>view.shape[0],
                                            <const uint8_t *><const char *>dst_mac,
                                            <const uint8_t *><const char *>src_mac, &out_len)
    if st != DP_DECAP_OK:
        return DECAP_STATUS[st], None
    return 'ok', (<const char *>(buf + DP_IPV6_LEN))[:out_len]


def overlay_conf_set(uint8_t wcmp):
    """Before core_start(): --wcmp, the share of IPv4 underlay traffic for PF0 in %."""
    _check(dp_overlay_conf_set(wcmp))


def overlay_host_set(bytes ipv6):
    """Before start(): the host's underlay address (--ipv6, 16 bytes)."""
    cdef uint8_t a[16]
    _copy_addr(a, ipv6, 16)
    _check(dp_overlay_host_set(a))


def overlay_underlay_check_set(bint enforce):
    """Before core_start(): drop tunnels whose inner destination does not belong to their
    underlay address (enforce), or count and deliver them (audit)."""
    _check(dp_overlay_underlay_check_set(enforce))


def overlay_underlay_audited():
    return dp_overlay_underlay_audited()
