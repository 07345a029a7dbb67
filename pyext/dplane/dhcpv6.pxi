# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/dhcpv6.h (included by _firmware.pyx after parse.pxi): the DHCPv6
# message parser, for fuzzing. Input goes through _guarded_copy(): an over-read faults at once.
from dplane.dhcpv6 cimport *

DHCPV6_STATUS = tuple(dp_dhcpv6_status_name(<dp_dhcpv6_status>i).decode()
                      for i in range(DP_DHCPV6_STATUS_COUNT))
DHCPV6_F_CLIENT_ID = DP_DHCPV6_F_CLIENT_ID
DHCPV6_F_IA_NA = DP_DHCPV6_F_IA_NA
DHCPV6_F_RAPID_COMMIT = DP_DHCPV6_F_RAPID_COMMIT
DHCPV6_MAX_DUID = DP_DHCPV6_MAX_DUID


def dhcpv6_parse(data):
    """Run the DHCPv6 parser on a UDP payload. Returns (status_name, fields dict)."""
    cdef const unsigned char[:] view = data
    cdef dp_dhcpv6_info out
    cdef unsigned char *buf = _guarded_copy(view)
    cdef dp_dhcpv6_status st = dp_dhcpv6_parse(buf, <uint32_t>view.shape[0], &out)
    if st != DP_DHCPV6_OK:
        return dp_dhcpv6_status_name(st).decode(), None
    return 'ok', {'msg_type': out.msg_type, 'flags': out.flags, 'pxe': out.pxe,
                  'client_id_off': out.client_id_off, 'client_id_len': out.client_id_len,
                  'iaid': bytes(out.iaid[:4])}


DHCPV6_MAX_DNS = DP_DHCPV6_MAX_DNS


def dhcpv6_conf_set(dns):
    """Before core_start(): the DNS servers (packed 16-byte addresses) every reply carries."""
    cdef uint8_t servers[DP_DHCPV6_MAX_DNS][16]
    if len(dns) > DP_DHCPV6_MAX_DNS:
        raise ValueError('at most %d DNS servers' % DP_DHCPV6_MAX_DNS)
    for i, addr in enumerate(dns):
        _copy_addr(servers[i], addr, 16)
    _check(dp_dhcpv6_conf_set(servers, len(dns)))
