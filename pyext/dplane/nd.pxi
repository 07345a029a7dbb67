# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/nd.h (included by _firmware.pyx): the ND parsers and checksum (for
# fuzzing), the NA/RA builders and the periodic announcements.
from dplane.nd cimport *

ND_STATUS = tuple(dp_nd_status_name(<dp_nd_status>i).decode()
                  for i in range(DP_ND_STATUS_COUNT))
ND_RS, ND_RA, ND_NS, ND_NA = DP_ND_RS, DP_ND_RA, DP_ND_NS, DP_ND_NA
ND_NA_ROUTER = DP_ND_NA_ROUTER
ND_NA_SOLICITED = DP_ND_NA_SOLICITED
ND_NA_OVERRIDE = DP_ND_NA_OVERRIDE


cdef tuple _nd_opts(const dp_nd_opts *o):
    return (o.nb_opts, (<char *>o.slla)[:6] if o.has_slla else None,
            (<char *>o.tlla)[:6] if o.has_tlla else None)


def nd_parse_options(data):
    """The ND option parser on bytes placed right before a guard page. Returns
    (status, nb_opts, slla or None, tlla or None)."""
    cdef const unsigned char[:] view = data
    cdef dp_nd_opts out
    cdef unsigned char *buf = _guarded_copy(view)
    cdef dp_nd_status st = dp_nd_parse_options(buf, <uint32_t>view.shape[0], &out)
    return (ND_STATUS[st],) + _nd_opts(&out)


def nd_parse(data):
    """The RS/NS parser on an ICMPv6 message placed right before a guard page. Returns
    (status, type, code, target, options offset, nb_opts, slla or None, tlla or None)."""
    cdef const unsigned char[:] view = data
    cdef dp_nd_info out
    cdef unsigned char *buf = _guarded_copy(view)
    cdef dp_nd_status st = dp_nd_parse(buf, <uint32_t>view.shape[0], &out)
    return (ND_STATUS[st], out.type, out.code, (<char *>out.target)[:16],
            out.opts_off) + _nd_opts(&out.opts)


def nd_checksum(bytes src, bytes dst, msg):
    cdef const unsigned char[:] view = msg
    cdef uint8_t addr[32]
    _copy_addr(addr, src, 16)
    _copy_addr(addr + 16, dst, 16)
    cdef unsigned char *buf = _guarded_copy(view)
    return dp_nd_checksum(addr, addr + 16, buf, <uint32_t>view.shape[0])


cdef _nd_frame(dp_nd_frame *f, bytes eth_dst, bytes eth_src, bytes ip_src, bytes ip_dst,
               uint32_t vtc_flow):
    _copy_addr(f.eth_dst, eth_dst, 6)
    _copy_addr(f.eth_src, eth_src, 6)
    _copy_addr(f.ip_src, ip_src, 16)
    _copy_addr(f.ip_dst, ip_dst, 16)
    f.vtc_flow = vtc_flow


def nd_build_na(bytes eth_dst, bytes eth_src, bytes ip_src, bytes ip_dst, uint32_t vtc_flow,
                uint32_t flags, bytes target, bytes tlla):
    cdef dp_nd_frame f
    cdef uint8_t frame[DP_ND_NA_FRAME_LEN]
    cdef uint8_t addr[22]
    _nd_frame(&f, eth_dst, eth_src, ip_src, ip_dst, vtc_flow)
    _copy_addr(addr, target, 16)
    _copy_addr(addr + 16, tlla, 6)
    cdef uint32_t n = dp_nd_build_na(frame, sizeof(frame), &f, flags, addr, addr + 16)
    return (<char *>frame)[:n]


def nd_build_ra(bytes eth_dst, bytes eth_src, bytes ip_src, bytes ip_dst, uint32_t vtc_flow,
                bytes slla):
    cdef dp_nd_frame f
    cdef uint8_t frame[DP_ND_RA_FRAME_LEN]
    cdef uint8_t mac[6]
    _nd_frame(&f, eth_dst, eth_src, ip_src, ip_dst, vtc_flow)
    _copy_addr(mac, slla, 6)
    cdef uint32_t n = dp_nd_build_ra(frame, sizeof(frame), &f, mac)
    return (<char *>frame)[:n]


def nd_send_unsolicited_na(uint16_t port_id):
    cdef int rc
    with nogil:
        rc = dp_nd_send_unsolicited_na(port_id)
    _check(rc)


def nd_send_ra(uint16_t port_id):
    cdef int rc
    with nogil:
        rc = dp_nd_send_ra(port_id)
    _check(rc)


def nd_conf_set(bint enabled):
    """Before core_start(): answer NS/RS and send periodic NA/RA (--enable-ipv6-overlay)."""
    _check(dp_nd_conf_set(enabled))
