# SPDX-License-Identifier: Apache-2.0
"""dplane-dump, as an operator runs it against a live service: packets entering the graph
and leaving it, drops with their reason, node traversal, pcap output, --stop; and tracing on
under load leaves forwarding alone."""
from __future__ import annotations

import re
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

import harness
from overlay_util import create_vm, from_vm

# the console script of the Python running the tests (a venv's), else the module itself
_script = shutil.which("dplane-dump", path=str(Path(sys.executable).parent))
DUMP = [_script] if _script else [
    sys.executable, "-c", "import sys; from dplane.dump import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    # two VMs, no routes: VM to VM is forwarded, anything else is dropped (no route)
    with harness.running_service() as svc:
        for vm in ("vm1", "vm2"):
            create_vm(svc, vm)
        yield svc


def start_dump(svc: harness.Service, *args: str, stdout=subprocess.PIPE) -> subprocess.Popen:
    """dplane-dump against svc, returned once it says the session runs."""
    proc = subprocess.Popen([*DUMP, "--address", f"{svc.netns.ns_ip}:{harness.GRPC_PORT}",
                             *args], stdout=stdout, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stderr], [], [], 15)
    line = proc.stderr.readline() if ready else ""
    if "tracing" not in line:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"dplane-dump did not start: {line}{err}")
    return proc


def finish(proc: subprocess.Popen, timeout: float = 10) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"dplane-dump did not end: {out}{err}")
    assert proc.returncode == 0, err
    return out or "", err


def udp(dst: str, port: int) -> Ether:
    return from_vm("vm1", IP(src="10.0.0.2", dst=dst) / UDP(sport=port, dport=port) / b"trace")


def where(line: str) -> str:
    """'12:00:00.000001 PORT 2 >> cls   : Ether ...' -> 'PORT 2 >> cls'"""
    m = re.match(r"\d\d:\d\d:\d\d\.\d{6} (.+?)\s*: ", line)
    assert m, line
    return m.group(1)


def test_packets_and_drops_with_reason(svc):
    dump = start_dump(svc, "--drops", "--filter", "udp port 4242", "-c", "4")
    vm1 = svc.tap("dtapvf_0")
    vm1.send(udp("10.0.0.3", 4242))     # to vm2: in at VF0, out at VF1
    vm1.send(udp("192.0.2.99", 4242))   # no route: dropped
    out, err = finish(dump)
    seen = sorted(where(line) for line in out.splitlines())
    assert seen == sorted(["PORT 2 >> cls", "PORT 2 >> cls", "tx-3 >> PORT 3",
                           "ipv4_lookup_no_route >> DROP"]), out
    assert "10.0.0.2:4242 > 10.0.0.3:4242" in out
    assert "4 packets shown" in err


def test_node_traversal(svc):
    dump = start_dump(svc, "--nodes", "lookup|conntrack", "--filter", "udp port 4243", "-c", "4")
    svc.tap("dtapvf_0").send(udp("10.0.0.3", 4243))
    out, _ = finish(dump)
    seen = [where(line) for line in out.splitlines()]
    assert seen == ["PORT 2 >> cls", "conntrack", "ipv4_lookup", "tx-3 >> PORT 3"], out


def test_pcap_is_read_back(svc, tmp_path):
    path = tmp_path / "trace.pcap"
    dump = start_dump(svc, "--pcap", str(path), "--filter", "udp port 4244", "-c", "2")
    frame = udp("10.0.0.3", 4244)
    svc.tap("dtapvf_0").send(frame)
    out, err = finish(dump)
    assert out == "" and "2 packets shown" in err
    packets = rdpcap(str(path))
    assert len(packets) == 2
    assert bytes(packets[0]) == bytes(frame)  # as the VM sent it, into cls
    assert packets[1][UDP].dport == 4244 and packets[1][IP].dst == "10.0.0.3"
    assert packets[1][Ether].src != frame[Ether].src  # rewritten for vm2
    assert abs(float(packets[0].time) - time.time()) < 30


def test_one_session_and_stop(svc):
    first = start_dump(svc)
    busy = subprocess.run([*DUMP, "--address", f"{svc.netns.ns_ip}:{harness.GRPC_PORT}"],
                          capture_output=True, text=True, timeout=15)
    assert busy.returncode == 1 and "FAILED_PRECONDITION" in busy.stderr
    stop = subprocess.run([*DUMP, "--stop", "--address",
                           f"{svc.netns.ns_ip}:{harness.GRPC_PORT}"],
                          capture_output=True, text=True, timeout=15)
    assert stop.returncode == 0 and "stopped" in stop.stderr
    finish(first)  # its stream ended


def test_bad_filter_is_refused(svc):
    bad = subprocess.run([*DUMP, "--address", f"{svc.netns.ns_ip}:{harness.GRPC_PORT}",
                          "--filter", "udp port banana"], capture_output=True, text=True,
                         timeout=15)
    assert bad.returncode == 1 and "invalid filter" in bad.stderr


def _vf1_tx(svc: harness.Service) -> int:
    return next(p.tx_packets for p in svc.stats().ports if p.name == "dtapvf_1")


def test_tracing_under_load_keeps_forwarding(svc):
    count = 3000
    dump = start_dump(svc, "--drops", "--nodes", "", stdout=subprocess.DEVNULL)
    vm1 = svc.tap("dtapvf_0")
    frame = bytes(udp("10.0.0.3", 4245))
    before = _vf1_tx(svc)
    for i in range(count):
        if i % 100 == 99:  # ~30k packets/s: what the TAP queue takes, also under ASan
            time.sleep(0.003)
        while True:
            try:
                vm1.sock.send(frame)
                break
            except BlockingIOError:
                select.select([], [vm1.sock], [], 1)
    deadline = time.monotonic() + 10
    while _vf1_tx(svc) - before < count and time.monotonic() < deadline:
        time.sleep(0.05)
    forwarded = _vf1_tx(svc) - before
    dump.terminate()
    _, err = finish(dump)
    assert forwarded == count, f"forwarded {forwarded} of {count} while tracing; {err}"
    assert "packets shown" in err


def test_tracing_off_after_the_client_went(svc):
    dump = start_dump(svc, stdout=subprocess.DEVNULL)
    dump.kill()
    dump.wait()
    # the service notices the stream is gone and ends the session: a new one may start
    deadline = time.monotonic() + 5
    while True:
        again = subprocess.Popen([*DUMP, "--address", f"{svc.netns.ns_ip}:{harness.GRPC_PORT}",
                                  "-c", "1"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([again.stderr], [], [], 15)
        line = again.stderr.readline() if ready else ""
        again.kill()
        again.communicate()
        if "tracing" in line or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "tracing" in line, line


def test_address_unreachable():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = subprocess.run([*DUMP, "--address", f"127.0.0.1:{port}"], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 1 and "UNAVAILABLE" in res.stderr
