# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/dhcp.h (included by _firmware.pyx after parse.pxi): the DHCPv4 request
# parser, for fuzzing. Input goes through _guarded_copy(): an over-read faults at once.
from dplane.dhcp cimport *

DHCP_STATUS = tuple(dp_dhcp_status_name(<dp_dhcp_status>i).decode()
                    for i in range(DP_DHCP_STATUS_COUNT))
DHCP_PXE_NONE = DP_DHCP_PXE_NONE
DHCP_PXE_TFTP = DP_DHCP_PXE_TFTP
DHCP_PXE_HTTP = DP_DHCP_PXE_HTTP


def dhcp_parse(data):
    """Run the DHCPv4 parser on a UDP payload. Returns (status_name, fields dict)."""
    cdef const unsigned char[:] view = data
    cdef dp_dhcp_info out
    cdef unsigned char *buf = _guarded_copy(view)
    cdef dp_dhcp_status st = dp_dhcp_parse(buf, <uint32_t>view.shape[0], &out)
    if st != DP_DHCP_OK:
        return dp_dhcp_status_name(st).decode(), None
    return 'ok', {'options_end': out.options_end, 'msg_type': out.msg_type, 'pxe': out.pxe}


DHCP_MAX_DNS = DP_DHCP_MAX_DNS


def dhcp_conf_set(uint16_t mtu, dns):
    """Before core_start(): the MTU and DNS servers (packed 4-byte addresses) every reply
    carries."""
    cdef uint8_t servers[DP_DHCP_MAX_DNS][4]
    if len(dns) > DP_DHCP_MAX_DNS:
        raise ValueError('at most %d DNS servers' % DP_DHCP_MAX_DNS)
    for i, addr in enumerate(dns):
        _copy_addr(servers[i], addr, 4)
    _check(dp_dhcp_conf_set(mtu, servers, len(dns)))
