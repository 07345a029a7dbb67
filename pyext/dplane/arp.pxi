# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/arp.h (included by _firmware.pyx): the ARP parser (for fuzzing), the
# request builder and the periodic request.
from dplane.arp cimport *

ARP_STATUS = tuple(dp_arp_status_name(<dp_arp_status>i).decode()
                   for i in range(DP_ARP_STATUS_COUNT))
ARP_LEN = DP_ARP_LEN
ARP_OP_REQUEST = DP_ARP_OP_REQUEST
ARP_OP_REPLY = DP_ARP_OP_REPLY


def arp_parse(data):
    """Run the ARP parser on the bytes of an ARP packet (no Ethernet header), placed right
    before a guard page. Returns (status, op, sha, sip, tha, tip)."""
    cdef const unsigned char[:] view = data
    cdef dp_arp_info out
    cdef unsigned char *buf = _guarded_copy(view)
    cdef dp_arp_status st = dp_arp_parse(buf, <uint32_t>view.shape[0], &out)
    return (ARP_STATUS[st], out.op, (<char *>out.sha)[:6], (<char *>out.sip)[:4],
            (<char *>out.tha)[:6], (<char *>out.tip)[:4])


def arp_build_request(bytes mac, bytes sip, bytes tip):
    cdef uint8_t frame[DP_ARP_FRAME_LEN]
    cdef uint8_t addr[16]
    if len(mac) != 6 or len(sip) != 4 or len(tip) != 4:
        raise ValueError('6-byte MAC and 4-byte addresses expected')
    memcpy(addr, <const char *>mac, 6)
    memcpy(addr + 6, <const char *>sip, 4)
    memcpy(addr + 10, <const char *>tip, 4)
    cdef uint32_t n = dp_arp_build_request(frame, sizeof(frame), addr, addr + 6, addr + 10)
    return (<char *>frame)[:n]


def arp_send_gratuitous(uint16_t port_id):
    cdef int rc
    with nogil:
        rc = dp_arp_send_gratuitous(port_id)
    _check(rc)
