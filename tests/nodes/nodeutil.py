# SPDX-License-Identifier: Apache-2.0
"""Node tests' machinery: a dataplane in a process of its own, driven over a pipe.

EAL initialises once per process, and the test process must not initialise it, so each
dataplane runs in a child started with multiprocessing's "spawn" method: it initialises EAL on
net_null ports that receive nothing (no-rx=1), applies its configuration (conntrack size,
ND, DHCP, WCMP) and starts the graph, then serves calls to `dplane._firmware` by name,
pickled over a pipe, on its main thread (the control thread). The tests set up state and
run `node_test` through it (Dataplane.run).

Every started dataplane gets the same topology (setup_topology), set up through the pipe:

  port 0  PF0, underlay router 02:fe:00:00:00:00
  port 1  PF1, underlay router 02:fe:00:00:00:01
  port 2  VM1: VNI 100, 10.0.0.2 / fd00::2, underlay fc00:1::2, hostname "vm1"
  port 3  VM2: VNI 100, 10.0.0.3 / fd00::3, underlay fc00:1::3, PXE (IPv4) 192.0.2.10
          "/boot.ipxe"
  port 4  VM3: VNI 200, 10.0.0.2 / fd00::2 (VM1's addresses, another VNI), fc00:1::4,
          PXE (IPv6) fd00:b007::10 "boot.ipxe"
  port 5  a VF without an interface
  port 6  LEARN: VNI 100, 10.0.0.6 / fd00::6, fc00:1::6 (the tests that teach MACs)
  port 7  BARE: VNI 100, no IPv4 and no IPv6, fc00:1::7
  port 8  (PLAIN only) a VF patched to VM2's port (xconnect)

Each VM's MAC is VM_MAC[port], taught through its ARP cycle at setup (BARE, without IPv4,
keeps its VF's own). Routes: VNI 100 has
both default routes to PF0 towards REMOTE (fc00:2::1), the VMs' /32 and /128, and 10.9/16 and
fd09::/32 to port 50, which does not exist; VNI 200 has only VM3's addresses. The VNF table
holds the interfaces' underlay addresses, one address per other VNF type for VM1
(VNF_ADDR), and an interface address for port 5, which has no interface.
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
import multiprocessing
import os
import shutil
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet

from dplane import _firmware as fw

PF0, PF1, VM1, VM2, VM3, NOIF, LEARN, BARE = range(8)
NB_PORTS = 8
MISSING_PORT = 50  # routes may point here; no such port exists

VNI = 100
VNI2 = 200
NO_VNI = 999

REMOTE = "fc00:2::1"  # the default routes' next hop in the underlay
NEIGH_MAC = {PF0: "02:fe:00:00:00:00", PF1: "02:fe:00:00:00:01"}
GW4, GW6 = "169.254.0.1", "fe80::1"
PXE4, PXE6 = "192.0.2.10", "fd00:b007::10"
DHCP_MTU = 1450
DHCP_DNS = ("192.0.2.53", "192.0.2.54")
DHCPV6_DNS = ("fd00:53::1",)


def vm_mac(port: int) -> str:
    return f"02:00:00:00:00:{port:02x}"


VM_MAC = {p: vm_mac(p) for p in range(NB_PORTS + 1)}


@dataclasses.dataclass(frozen=True)
class Vm:
    port: int
    vni: int
    ipv4: str | None
    ipv6: str | None
    underlay: str
    pxe: int = fw.PXE_NONE
    pxe_addr: str = ""
    boot_file: str = ""
    hostname: str = ""


VMS = {
    VM1: Vm(VM1, VNI, "10.0.0.2", "fd00::2", "fc00:1::2", hostname="vm1"),
    VM2: Vm(VM2, VNI, "10.0.0.3", "fd00::3", "fc00:1::3", fw.PXE_IPV4, PXE4, "/boot.ipxe"),
    VM3: Vm(VM3, VNI2, "10.0.0.2", "fd00::2", "fc00:1::4", fw.PXE_IPV6, PXE6, "boot.ipxe"),
    LEARN: Vm(LEARN, VNI, "10.0.0.6", "fd00::6", "fc00:1::6"),
    BARE: Vm(BARE, VNI, None, None, "fc00:1::7"),
}

# Underlay addresses of VNFs other than interfaces, all for VM1 (type -> address)
VNF_ADDR = {
    fw.VNF_VIP: "fc00:1::b2",
    fw.VNF_NAT: "fc00:1::c2",
    fw.VNF_LB: "fc00:1::d2",
    fw.VNF_LB_ALIAS_PFX: "fc00:1::e2",
    fw.VNF_ALIAS_PFX: "fc00:1::a2",
}
LB_PREFIX_IP = "203.0.113.80"  # VM1's LB prefix (VNF_ADDR[VNF_LB_ALIAS_PFX]), a /32
NOIF_UNDERLAY = "fc00:1::5"  # an interface address whose port has no interface
UNKNOWN_UNDERLAY = "fc00:1::ff"


def ip(text: str) -> bytes:
    """An IPv4 or IPv6 address, packed."""
    return ipaddress.ip_address(text).packed


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def frame_bytes(frame: Packet | bytes) -> bytes:
    return frame if isinstance(frame, bytes | bytearray) else bytes(frame)


@dataclasses.dataclass(frozen=True)
class Config:
    """How a dataplane process is configured before core_start."""

    name: str
    nb_ports: int = NB_PORTS
    nd: bool = True                # --enable-ipv6-overlay
    ct_capacity: int = 4096        # keys (two per flow)
    wcmp: int = 100
    dhcp_mtu: int = DHCP_MTU
    dhcp_dns: tuple[str, ...] = DHCP_DNS
    dhcpv6_dns: tuple[str, ...] = DHCPV6_DNS
    xconnect: tuple[tuple[int, int], ...] = ()  # (port, patched to)
    start: bool = True             # False: EAL only, the dataplane not started

    @staticmethod
    def file_prefix(pid: int) -> str:
        return f"dpnode{pid}"

    def eal_args(self) -> list[str]:
        return (["nodes", "-l", "0,1", "--no-huge", "-m", "128", "--no-shconf", "--no-pci",
                 "--no-telemetry", f"--file-prefix={self.file_prefix(os.getpid())}",
                 "--log-level=lib.eal:crit"]
                + [f"--vdev=net_null{i},no-rx=1" for i in range(self.nb_ports)])

    def ports(self) -> list[tuple[int, int, int, int | None, bool]]:
        xconnect = dict(self.xconnect)
        return [(0, fw.PORT_PF, 0, None, True), (1, fw.PORT_PF, 1, None, True)] + [
            (p, fw.PORT_VF, 0, xconnect.get(p), False) for p in range(2, self.nb_ports)]


# The main configuration: IPv6 overlay on, DHCP options set, a roomy conntrack table.
MAIN = Config("main")
# Defaults where the main one differs, a tiny conntrack table (8 flows), WCMP 50/50 and a
# VF patched straight to VM2's (port 8).
PLAIN = Config("plain", nb_ports=NB_PORTS + 1, nd=False, ct_capacity=16, wcmp=50,
               dhcp_mtu=1500, dhcp_dns=(), dhcpv6_dns=(), xconnect=((NB_PORTS, VM2),))
XCONNECT_PORT = NB_PORTS


# -- the child ---------------------------------------------------------------------------------

def _configure(config: Config) -> None:
    fw.eal_init(config.eal_args())
    fw.ct_conf_set(config.ct_capacity, 30)
    fw.nd_conf_set(config.nd)
    fw.overlay_conf_set(config.wcmp)
    fw.dhcp_conf_set(config.dhcp_mtu, [ip(a) for a in config.dhcp_dns])
    fw.dhcpv6_conf_set([ip(a) for a in config.dhcpv6_dns])
    if config.start:
        fw.core_start(2048, config.ports())


def _call_in_thread(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict) -> Any:
    """fn in a thread other than the control thread; its exception re-raised here."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, fn(*args, **kwargs)))
        except BaseException as exc:  # handed to the caller
            outcome.append((False, exc))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _send_error(conn, exc: BaseException) -> None:
    tb = traceback.format_exc()
    try:
        conn.send(("err", exc, tb))
    except Exception:  # not picklable: its text will do
        conn.send(("err", RuntimeError(repr(exc)), tb))


def _serve(conn, config: Config) -> None:
    """The child: configure, report ready, then serve (op, name, args, kwargs) requests."""
    try:
        _configure(config)
        conn.send(("ok", fw.ethdevs()))
    except BaseException as exc:
        _send_error(conn, exc)
        return
    while True:
        try:
            op, name, args, kwargs = conn.recv()
        except EOFError:
            break
        if op == "exit":
            break
        try:
            fn = getattr(fw, name)
            value = _call_in_thread(fn, args, kwargs) if op == "thread" else fn(*args, **kwargs)
            conn.send(("ok", value))
        except Exception as exc:
            _send_error(conn, exc)
    fw.core_stop()
    fw.eal_cleanup()
    conn.send(("ok", None))


# -- the parent --------------------------------------------------------------------------------

@dataclasses.dataclass
class Result:
    """What dp_node_test reports: the nodes the packet was sent to, the frame as the nodes
    left it and its metadata."""

    path: list[str]
    frame: bytes
    meta: dict[str, Any]

    @property
    def edge(self) -> str:
        """The first node's decision (the next node's name)."""
        return self.path[0]

    @property
    def pkt(self) -> Ether:
        return Ether(self.frame)


class DataplaneDied(RuntimeError):
    pass


class Dataplane:
    """A dataplane in a child process. Any `_firmware` function is called by its name
    (dp.vni_create(100)); OSError and friends come back as raised in the child."""

    CALL_TIMEOUT = 60.0

    def __init__(self, config: Config) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.config = config
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, config), daemon=True,
                                 name=f"dataplane-{config.name}")
        self._proc.start()
        child.close()
        devs = self._reply()
        self.port_mac = {d["port_id"]: d["mac"] for d in devs}

    def _reply(self) -> Any:
        if not self._conn.poll(self.CALL_TIMEOUT):
            raise DataplaneDied(f"{self.config.name}: no answer in {self.CALL_TIMEOUT} s")
        try:
            answer = self._conn.recv()
        except EOFError:
            self._proc.join(5)
            raise DataplaneDied(f"{self.config.name}: exited with {self._proc.exitcode}"
                                ) from None
        if answer[0] == "ok":
            return answer[1]
        exc = answer[1]
        exc.add_note(f"in the dataplane process:\n{answer[2]}")
        raise exc

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self._proc.is_alive():
            raise DataplaneDied(f"{self.config.name}: exited with {self._proc.exitcode}")
        self._conn.send(("call", name, args, kwargs))
        return self._reply()

    def call_in_thread(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """The same call from a thread other than the control thread."""
        if not self._proc.is_alive():
            raise DataplaneDied(f"{self.config.name}: exited with {self._proc.exitcode}")
        self._conn.send(("thread", name, args, kwargs))
        return self._reply()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return functools.partial(self.call, name)

    def run(self, node: str, frame: Packet | bytes, port: int, steps: int = 1,
            **meta: Any) -> Result:
        """node_test: `node` on `frame` as if it came in on `port`, with metadata `meta`
        (nh_ipv6 may be given as text); `steps` nodes at most."""
        if isinstance(meta.get("nh_ipv6"), str):
            meta["nh_ipv6"] = ip(meta["nh_ipv6"])
        path, out, got = self.call("node_test", node, frame_bytes(frame), port, meta or None,
                                   steps)
        return Result(path, out, got)

    def edge(self, node: str, frame: Packet | bytes, port: int, **meta: Any) -> str:
        return self.run(node, frame, port, **meta).edge

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    def close(self) -> None:
        if self._proc.is_alive():
            try:
                self._conn.send(("exit", "", (), {}))
                self._reply()
            except (OSError, DataplaneDied):
                pass
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()
        if self._proc.exitcode != 0:  # EAL had no chance to remove its runtime directory
            shutil.rmtree(f"/var/run/dpdk/{self.config.file_prefix(self._proc.pid)}",
                          ignore_errors=True)


def setup_topology(dp: Dataplane) -> None:
    """The topology of the module's docstring, into a started dataplane."""
    for port, neigh in NEIGH_MAC.items():
        dp.port_set_neigh_mac(port, mac(neigh))
    dp.vni_create(VNI)
    dp.vni_create(VNI2)
    for vm in VMS.values():
        dp.vnf_add(ip(vm.underlay), fw.VNF_INTERFACE_IP, vm.port, vm.vni)
        if vm.ipv4:
            dp.route_add(vm.vni, ip(vm.ipv4), 32, vm.port)
        if vm.ipv6:
            dp.route_add(vm.vni, ip(vm.ipv6), 128, vm.port)
        attach(dp, vm)
    dp.route_add(VNI, ip("0.0.0.0"), 0, PF0, VNI, ip(REMOTE))
    dp.route_add(VNI, ip("::"), 0, PF0, VNI, ip(REMOTE))
    dp.route_add(VNI, ip("10.9.0.0"), 16, MISSING_PORT)
    dp.route_add(VNI, ip("fd09::"), 32, MISSING_PORT)
    for vnf_type, address in VNF_ADDR.items():
        if vnf_type == fw.VNF_ALIAS_PFX:
            dp.vnf_add(ip(address), vnf_type, VM1, VNI, ip("10.1.0.0"), 24)
        elif vnf_type == fw.VNF_LB_ALIAS_PFX:  # a load balancer's address
            dp.vnf_add(ip(address), vnf_type, VM1, VNI, ip(LB_PREFIX_IP), 32)
        else:
            dp.vnf_add(ip(address), vnf_type, VM1, VNI)
    dp.vnf_add(ip(NOIF_UNDERLAY), fw.VNF_INTERFACE_IP, NOIF, VNI)
    for vm in VMS.values():
        if vm.ipv4:  # BARE keeps the VF's own MAC as its VM's
            teach_mac(dp, vm, VM_MAC[vm.port])


def attach(dp: Dataplane, vm: Vm) -> None:
    pxe_addr = ip(vm.pxe_addr) if vm.pxe_addr else b""
    dp.iface_attach(vm.port, vm.vni, ip(vm.ipv4) if vm.ipv4 else bytes(4),
                    ip(vm.ipv6) if vm.ipv6 else bytes(16), vm.pxe, pxe_addr,
                    vm.boot_file.encode(), vm.hostname.encode(),
                    ip(vm.underlay))


def teach_mac(dp: Dataplane, vm: Vm, address: str) -> None:
    """The VM's MAC, learned through its ARP cycle: a newly attached interface waits for
    the VM's reply for its own address."""
    reply = Ether(src=address, dst=dp.port_mac[vm.port]) / ARP(
        op=2, hwsrc=address, psrc=vm.ipv4, hwdst=dp.port_mac[vm.port], pdst=GW4)
    result = dp.run("arp", reply, vm.port)
    assert result.path == ["arp_learned"], result.path
    assert dp.iface_vm_mac(vm.port) == address


def reattach(dp: Dataplane, port: int, learn: bool = False) -> Vm:
    """The VM's interface detached and attached again (its ARP cycle pending again); with
    `learn`, its MAC VM_MAC[port] taught again (ending the cycle)."""
    vm = VMS[port]
    dp.iface_detach(port)
    attach(dp, vm)
    if learn:
        teach_mac(dp, vm, VM_MAC[port])
    return vm


def from_vm(dp: Dataplane, port: int, l3: Packet) -> Ether:
    """A frame as the VM behind `port` sends it: to the gateway, at the VF's MAC."""
    return Ether(src=VM_MAC[port], dst=dp.port_mac[port]) / l3


def from_underlay(dp: Dataplane, dst: str, inner: Packet, src: str = REMOTE,
                  port: int = PF0) -> Ether:
    """An IP-in-IPv6 frame from the underlay router to underlay address `dst`."""
    nh = 4 if isinstance(inner, IP) else 41
    return (Ether(src=NEIGH_MAC[port], dst=dp.port_mac[port])
            / IPv6(src=src, dst=dst, nh=nh, hlim=62) / inner)
