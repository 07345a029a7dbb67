# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/core.h (included by _firmware.pyx).
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset

from dplane.core cimport *

PORT_PF = DP_PORT_PF
PORT_VF = DP_PORT_VF
PORT_NONE = DP_PORT_NONE
MAX_PORTS = DP_MAX_PORTS
MAX_ETHPORTS = dp_max_ethports()  # the linked DPDK's RTE_MAX_ETHPORTS


def eal_init(args):
    """Initialise EAL with args (args[0] is the program name). Returns EAL's count."""
    cdef list encoded = [a.encode() if isinstance(a, str) else bytes(a) for a in args]
    cdef int argc = len(encoded)
    cdef char **argv = <char **>calloc(argc + 1, sizeof(char *))
    cdef int rc
    if argv == NULL:
        raise MemoryError()
    try:
        for i in range(argc):
            argv[i] = encoded[i]
        with nogil:
            rc = dp_eal_init(argc, argv)  # copies argv
        return _check(rc)
    finally:
        free(argv)


def eal_cleanup():
    cdef int rc
    with nogil:
        rc = dp_eal_cleanup()
    _check(rc)


def lcore_count():
    return dp_lcore_count()


def ethdevs():
    """One dict per ethdev EAL found."""
    cdef dp_ethdev_info info
    out = []
    for port_id in range(DP_MAX_PORTS):
        if len(out) == dp_ethdev_count():
            break
        if dp_ethdev_get(port_id, &info) < 0:
            continue
        out.append({
            'port_id': info.port_id,
            'name': info.name.decode(),
            'ifname': info.ifname.decode(),
            'driver': info.driver.decode(),
            'mac': ':'.join('%02x' % info.mac[i] for i in range(6)),
            'if_index': info.if_index,
        })
    return out


IDLE_MODES = {'interrupt': DP_IDLE_INTERRUPT, 'pause': DP_IDLE_PAUSE, 'busy': DP_IDLE_BUSY}


def core_start(unsigned int nb_mbufs, ports, idle='interrupt'):
    """ports: iterable of (port_id, role, pf_index, xconnect, start); idle: how the worker
    waits when its ports are idle, one of IDLE_MODES."""
    cdef dp_core_conf *conf = <dp_core_conf *>calloc(1, sizeof(dp_core_conf))
    cdef int rc
    if conf == NULL:
        raise MemoryError()
    try:
        ports = list(ports)
        if len(ports) > DP_MAX_PORTS:
            raise ValueError('too many ports')
        conf.nb_mbufs = nb_mbufs
        conf.nb_ports = len(ports)
        conf.idle = IDLE_MODES[idle]
        for i, (port_id, role, pf_index, xconnect, start) in enumerate(ports):
            conf.ports[i].port_id = port_id
            conf.ports[i].role = role
            conf.ports[i].pf_index = pf_index
            conf.ports[i].xconnect = DP_PORT_NONE if xconnect is None else xconnect
            conf.ports[i].start = bool(start)
        with nogil:
            rc = dp_core_start(conf)
        _check(rc)
    finally:
        free(conf)


def core_stop():
    cdef int rc
    with nogil:
        rc = dp_core_stop()
    _check(rc)


def core_running():
    return dp_core_running()


def responder_limit_set(uint32_t rate, uint32_t burst):
    """Before core_start(): the answers per second (and at once) one VF may draw from the
    ARP, DHCP and ND responders; rate 0: no limit."""
    _check(dp_responder_limit_set(rate, burst))


def idle_stats():
    """How the worker spent its idle time since the dataplane started."""
    cdef dp_idle_stats st
    _check(dp_idle_stats_get(&st))
    return {'sleeps': st.sleeps, 'wakeups': st.wakeups, 'timeouts': st.timeouts,
            'kicks': st.kicks, 'pauses': st.pauses, 'asleep_ns': st.asleep_ns,
            'intr_ports': st.intr_ports, 'nointr_ports': st.nointr_ports}


def port_start(uint16_t port_id):
    cdef int rc
    with nogil:
        rc = dp_port_start(port_id)
    _check(rc)


def port_stop(uint16_t port_id):
    cdef int rc
    with nogil:
        rc = dp_port_stop(port_id)
    _check(rc)


def port_stats(uint16_t port_id):
    cdef dp_port_stats st
    _check(dp_port_stats_get(port_id, &st))
    return {
        'ipackets': st.ipackets, 'opackets': st.opackets,
        'ibytes': st.ibytes, 'obytes': st.obytes,
        'imissed': st.imissed, 'ierrors': st.ierrors,
        'oerrors': st.oerrors, 'rx_nombuf': st.rx_nombuf,
    }


def rcu_synchronize():
    cdef int rc
    with nogil:
        rc = dp_rcu_synchronize()
    _check(rc)


def drop_counters():
    """{reason: packets} for every drop reason the firmware knows."""
    cdef uint64_t packets
    out = {}
    for i in range(dp_drop_reason_count()):
        _check(dp_drop_reason_packets(i, &packets))
        out[dp_drop_reason_name(i).decode()] = packets
    return out


cdef _copy_addr(uint8_t *dst, bytes src, Py_ssize_t size):
    if len(src) != size:
        raise ValueError('address of %d bytes expected' % size)
    memcpy(dst, <const char *>src, size)


def tables():
    """[(name, capacity, entries)] for every table the firmware registered."""
    cdef dp_table_info info
    out = []
    for i in range(dp_table_count()):
        _check(dp_table_get(i, &info))
        out.append((info.name.decode(), info.capacity, info.entries))
    return out


def port_set_neigh_mac(uint16_t port_id, bytes mac):
    """The underlay router's MAC behind a PF (6 bytes)."""
    if len(mac) != 6:
        raise ValueError('MAC of 6 bytes expected')
    _check(dp_port_set_neigh_mac(port_id, <const uint8_t *><const char *>mac))


def port_link_update(uint16_t port_id):
    """Refresh the datapath's view of the port's link; True if it is up."""
    return bool(_check(dp_port_link_update(port_id)))


NODE_TEST_MAX_STEPS = DP_NODE_TEST_MAX_STEPS


cdef dict _meta_dict(const dp_pkt_meta *meta):
    return {
        'l3_type': meta.parse.l3_type, 'l4_proto': meta.parse.l4_proto,
        'l3_off': meta.parse.l3_off, 'l4_off': meta.parse.l4_off,
        'vni': meta.vni, 'out_port': meta.out_port, 'tun_port': meta.tun_port,
        'vnf_type': meta.vnf_type, 'flow_dir': meta.flow_dir,
        'route_depth': meta.route_depth, 'has_flow': bool(meta.has_flow),
        'flow_hash': meta.flow_hash, 'nh_ipv6': (<char *>meta.nh_ipv6)[:16],
    }


_META_IN = ('vni', 'out_port', 'tun_port', 'vnf_type', 'flow_dir', 'route_depth',
            'flow_hash', 'nh_ipv6')


def node_test(str node, frame, uint16_t port, dict meta=None, unsigned int max_steps=1):
    """Run node's classification on a frame that came in on port, as the worker would; with
    max_steps > 1 follow the packet's edges through the graph. `meta` sets the packet's
    metadata (keys of _META_IN); its parse is always the frame's, as cls made it. Returns
    (path of next-node names, frame as the nodes left it, metadata dict)."""
    cdef dp_node_test_pkt *pkt = <dp_node_test_pkt *>calloc(1, sizeof(dp_node_test_pkt))
    cdef const unsigned char[:] view = frame
    cdef bytes name = node.encode()
    cdef const char *cname = name
    cdef int rc
    if pkt == NULL:
        raise MemoryError()
    try:
        if view.shape[0] > DP_NODE_TEST_ROOM:
            raise ValueError('frame longer than %d bytes' % DP_NODE_TEST_ROOM)
        pkt.port = port
        pkt.len = <uint16_t>view.shape[0]
        pkt.parse = 1
        if pkt.len:
            memcpy(pkt.data, &view[0], pkt.len)
        for key, value in (meta or {}).items():
            if key not in _META_IN:
                raise KeyError(key)
            if key == 'nh_ipv6':
                _copy_addr(pkt.meta.nh_ipv6, value, 16)
            else:
                setattr_meta(&pkt.meta, key, value)
        with nogil:
            rc = dp_node_test(cname, pkt, max_steps)
        steps = _check(rc)
        return ([pkt.path[i].decode() for i in range(steps)], (<char *>pkt.data)[:pkt.len],
                _meta_dict(&pkt.meta))
    finally:
        free(pkt)


cdef setattr_meta(dp_pkt_meta *meta, str key, value):
    if key == 'vni':
        meta.vni = value
    elif key == 'out_port':
        meta.out_port = value
    elif key == 'tun_port':
        meta.tun_port = value
    elif key == 'vnf_type':
        meta.vnf_type = value
    elif key == 'flow_dir':
        meta.flow_dir = value
    elif key == 'route_depth':
        meta.route_depth = value
    elif key == 'flow_hash':
        meta.flow_hash = value
