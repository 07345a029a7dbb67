# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/iface.h (included by _firmware.pyx).
from dplane.iface cimport *

PXE_NONE = DP_PXE_NONE
PXE_IPV4 = DP_PXE_IPV4
PXE_IPV6 = DP_PXE_IPV6
BOOT_FILE_LEN = DP_BOOT_FILE_LEN
HOSTNAME_LEN = DP_HOSTNAME_LEN


def iface_attach(uint16_t port_id, uint32_t vni, bytes ipv4, bytes ipv6, int pxe_family,
                 bytes pxe_addr, bytes boot_file, bytes hostname, bytes underlay=bytes(16)):
    cdef dp_iface_conf conf
    memset(&conf, 0, sizeof(conf))
    conf.vni = vni
    _copy_addr(conf.underlay, underlay, 16)
    _copy_addr(conf.ipv4, ipv4, 4)
    _copy_addr(conf.ipv6, ipv6, 16)
    conf.pxe_family = pxe_family
    if pxe_family == DP_PXE_IPV4:
        _copy_addr(conf.pxe_ipv4, pxe_addr, 4)
    elif pxe_family == DP_PXE_IPV6:
        _copy_addr(conf.pxe_ipv6, pxe_addr, 16)
    if len(boot_file) >= DP_BOOT_FILE_LEN or len(hostname) >= DP_HOSTNAME_LEN:
        raise ValueError('boot file or hostname too long')
    memcpy(conf.boot_file, <const char *>boot_file, len(boot_file))
    memcpy(conf.hostname, <const char *>hostname, len(hostname))
    _check(dp_iface_attach(port_id, &conf))


def iface_detach(uint16_t port_id):
    cdef int rc
    with nogil:
        rc = dp_iface_detach(port_id)
    _check(rc)


def iface_vm_mac(uint16_t port_id):
    cdef uint8_t mac[6]
    _check(dp_iface_vm_mac(port_id, mac))
    return ':'.join('%02x' % mac[i] for i in range(6))
