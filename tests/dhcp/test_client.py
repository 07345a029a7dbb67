# SPDX-License-Identifier: Apache-2.0
"""A stock DHCP client configures a VM from dplane: ISC dhclient (Debian's isc-dhcp-client,
with its stock dhclient-script and rfc3442-classless-routes hook) runs in a "VM" network
namespace that holds the VF's TAP, and gets its address, gateway route, MTU, DNS and host
name; then its IPv6 address and DNS over DHCPv6.

The TAP is moved into the VM namespace after CreateInterface brought its link up (DPDK keeps
its file descriptor; only its link up/down by name no longer reaches it, which a test that
ends with the service does not need). dhclient runs under `unshare --uts` so that setting the
host name touches only the VM's own UTS namespace, and `ip netns exec` bind-mounts
/etc/netns/<vm>/resolv.conf over /etc/resolv.conf, where the script writes the servers.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness
from dhcp_util import VF, VM_IP, VM_IP6, interface

DNS4 = ("192.0.2.53", "198.51.100.53")
DNS6 = ("2001:db8::53",)
MTU = 1400
HOSTNAME = "vm-dhcp"

pytestmark = pytest.mark.skipif(shutil.which("dhclient") is None,
                                reason="needs ISC dhclient (isc-dhcp-client, tools/setup.sh)")


@pytest.fixture
def vm_netns() -> Iterator[str]:
    name = f"dpvm-{os.getpid()}"
    harness.run("ip", "netns", "add", name)
    conf = Path("/etc/netns") / name
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "resolv.conf").write_text("")
    try:
        yield name
    finally:
        harness.run("ip", "netns", "del", name, check=False)
        shutil.rmtree(conf, ignore_errors=True)


def dhclient(vm: str, tmp: Path, family: str) -> str:
    """Run dhclient until it has a lease (it then stays in the background); returns what it
    printed, and the host name it left in the VM's UTS namespace on the last line."""
    cmd = (f"hostname localhost && dhclient {family} -1 -v -lf {tmp}/lease{family} "
           f"-pf {tmp}/pid{family} eth0 && hostname")
    out = subprocess.run(["ip", "netns", "exec", vm, "unshare", "--uts", "sh", "-c", cmd],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def stop_dhclients(tmp: Path) -> None:
    for pidfile in tmp.glob("pid*"):
        try:
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
        except (ValueError, ProcessLookupError):
            pass


def test_dhclient_configures_the_vm(start_service, vm_netns, tmp_path):
    opts = [*harness.SERVICE_OPTS, "--dhcp-mtu", str(MTU)]
    opts += [a for server in DNS4 for a in ("--dhcp-dns", server)]
    opts += [a for server in DNS6 for a in ("--dhcpv6-dns", server)]
    svc = start_service(opts=opts)
    svc.initialize()
    vm = vm_netns
    with interface(svc, 0, open_tap=False, hostname=HOSTNAME):
        harness.run("ip", "link", "set", VF[0][1], "netns", vm, "name", "eth0",
                    netns=svc.netns.name)
        harness.run("sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0", netns=vm)
        harness.run("ip", "link", "set", "eth0", "up", netns=vm)
        try:
            assert dhclient(vm, tmp_path, "-4") == HOSTNAME

            addrs = harness.run("ip", "-4", "-o", "addr", "show", "dev", "eth0",
                                netns=vm).stdout
            assert f"inet {VM_IP}/32 " in addrs
            routes = harness.run("ip", "-4", "route", "show", netns=vm).stdout.splitlines()
            assert sorted(r.strip() for r in routes) == [
                "169.254.0.0/16 dev eth0 scope link",  # from option 121 (on link)
                "default via 169.254.0.1 dev eth0",    # from option 121
            ]
            link = harness.run("ip", "-o", "link", "show", "dev", "eth0", netns=vm).stdout
            assert f" mtu {MTU} " in link
            resolv = harness.run("cat", "/etc/resolv.conf", netns=vm).stdout
            assert [line for line in resolv.splitlines() if line.startswith("nameserver")] == [
                f"nameserver {a}" for a in DNS4]

            dhclient(vm, tmp_path, "-6")
            addrs6 = harness.run("ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope",
                                 "global", netns=vm).stdout
            assert f"inet6 {VM_IP6}/128 " in addrs6
            resolv = harness.run("cat", "/etc/resolv.conf", netns=vm).stdout
            assert [line for line in resolv.splitlines() if line.startswith("nameserver")] == [
                f"nameserver {a}" for a in DNS6]
        finally:
            stop_dhclients(tmp_path)
