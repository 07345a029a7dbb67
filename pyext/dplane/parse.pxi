# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/parse.h (included by _firmware.pyx): the cls parser, for fuzzing.
from libc.string cimport memcpy
from posix.mman cimport (MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_NONE, PROT_READ,
                         PROT_WRITE, mmap, mprotect)

from dplane.parse cimport *

PARSE_STATUS = tuple(dp_parse_status_name(<dp_parse_status>i).decode()
                     for i in range(DP_PARSE_STATUS_COUNT))
L3_NONE, L3_ARP, L3_IPV4, L3_IPV6, L3_OTHER = (DP_L3_NONE, DP_L3_ARP, DP_L3_IPV4, DP_L3_IPV6,
                                               DP_L3_OTHER)
PARSE_F_FRAGMENT = DP_PARSE_F_FRAGMENT
PARSE_F_NO_L4 = DP_PARSE_F_NO_L4
PARSE_F_IPV6_EXT = DP_PARSE_F_IPV6_EXT

# Input is copied to the very end of a page followed by an inaccessible page, so a read
# past the end of the frame faults at once instead of passing unnoticed.
cdef enum:
    _GUARD_PAGE = 4096
cdef unsigned char *_guard_area = NULL


cdef unsigned char *_guarded_copy(const unsigned char[:] data) except NULL:
    global _guard_area
    cdef size_t n = data.shape[0]
    cdef void *area
    if n > _GUARD_PAGE * 15:
        raise ValueError('frame too long')
    if _guard_area == NULL:
        area = mmap(NULL, _GUARD_PAGE * 17, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if area == MAP_FAILED:
            raise MemoryError()
        mprotect(<unsigned char *>area + _GUARD_PAGE * 16, _GUARD_PAGE, PROT_NONE)
        _guard_area = <unsigned char *>area
    cdef unsigned char *dst = _guard_area + _GUARD_PAGE * 16 - n
    if n:
        memcpy(dst, &data[0], n)
    return dst


def parse_frame(data):
    """Run the cls parser on bytes. Returns (status_name, fields dict)."""
    cdef const unsigned char[:] view = data
    cdef dp_parse out
    cdef unsigned char *buf = _guarded_copy(view)
    cdef dp_parse_status st = dp_parse_frame(buf, <uint32_t>view.shape[0], &out)
    return dp_parse_status_name(st).decode(), {
        'ethertype': out.ethertype, 'l3_off': out.l3_off, 'l3_len': out.l3_len,
        'l4_off': out.l4_off, 'l3_type': out.l3_type, 'l4_proto': out.l4_proto,
        'vlans': out.vlans, 'flags': out.flags,
    }
