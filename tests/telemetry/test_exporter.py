# SPDX-License-Identifier: Apache-2.0
"""dplane-exporter: dpservice-exporter's flags and metrics, scraped over HTTP while traffic
flows."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

import harness
from dplane._version import __version__
from telemetry_util import VMS, vm1_to_vm2, wait_for

PORT = 9064  # the default; free in the service's own network namespace
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def exporter_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dplane.exporter", *args]


@pytest.fixture(scope="module")
def exporter(svc: harness.Service) -> Iterator[str]:
    """A dplane-exporter beside the service (same netns, polling every 0.2 s); its URL."""
    cmd = ["ip", "netns", "exec", svc.netns.name, *exporter_cmd(
        "-file-prefix", svc.prefix, "--poll-interval=0.2", "-port", str(PORT),
        "--grpc-port", str(harness.GRPC_PORT), "--hostname", "hv1")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://{svc.netns.ns_ip}:{PORT}/metrics"
    try:
        assert wait_for(lambda: scrape_or_none(url, proc), timeout=20), proc.stderr
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape_or_none(url: str, proc: subprocess.Popen) -> Samples | None:
    if proc.poll() is not None:
        raise AssertionError(f"exporter exited: {proc.stderr.read()}")
    try:
        samples = scrape(url)
    except OSError:
        return None
    return samples if samples.get(("dplane_telemetry_up", ())) == 1.0 else None


def value(samples: Samples, metric: str, /, **labels: str) -> float | None:
    return samples.get((metric, tuple(sorted(labels.items()))))


def test_version():
    proc = subprocess.run(exporter_cmd("-v"), capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stdout) == (0, f"dplane-exporter version {__version__}\n")


def test_bad_port():
    proc = subprocess.run(exporter_cmd("--port", "80"), capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 1 and "port must be in range 1024 - 65535" in proc.stderr


def test_dpservice_metrics(exporter):
    samples = scrape(exporter)
    names = {name for name, _ in samples}
    # (dpdk_ethdev_misc too, but net_tap has no xstat outside bytes, packets and errors)
    assert {"dpdk_ethdev_packets_total", "dpdk_ethdev_bytes_total", "dpdk_ethdev_errors_total",
            "dpdk_ethdev_link_status", "dpdk_heap_info",
            "dps_nat_used_ports_count", "dps_firewall_rules_count", "dps_graph_call_count",
            "dps_hash_table_saturation"} <= names
    assert value(samples, "dpdk_ethdev_link_status", name="net_tap0") == 1.0
    assert value(samples, "dpdk_ethdev_packets_total", name="net_tap2",
                 stat="rx_good_packets") is not None
    assert value(samples, "dpdk_ethdev_errors_total", name="net_tap2", stat="rx_errors") == 0
    assert value(samples, "dpdk_ethdev_errors_total", name="net_tap2",
                 stat="rx_mbuf_allocation_errors") == 0
    assert value(samples, "dpdk_heap_info", node="hv1", info="Heap_size") > 0
    assert value(samples, "dps_graph_call_count", node="hv1", graph_node="rx-0-0") > 0
    assert value(samples, "dps_hash_table_saturation", table="interface_table",
                 stat="capacity") == 128
    assert value(samples, "dps_hash_table_saturation", table="interface_table",
                 stat="entries") == len(VMS)
    for vm in VMS:
        assert value(samples, "dps_nat_used_ports_count", interface_id=vm) == 0
        assert value(samples, "dps_firewall_rules_count", interface_id=vm) == 0


def test_own_metrics(exporter):
    samples = scrape(exporter)
    assert value(samples, "dplane_drops_total", reason="cls_unknown_ethertype") is not None
    assert value(samples, "dplane_table_fill_ratio", table="interface_table") == len(VMS) / 128
    assert value(samples, "dplane_table_capacity", table="vnf_table") == 131072  # default
    assert value(samples, "dplane_table_entries", table="vnf_table") == len(VMS)
    assert value(samples, "dplane_graph_objects_total", graph_node="cls") is not None
    assert value(samples, "dplane_underlay_mismatch_audited_total") == 0
    for vm in VMS:
        assert value(samples, "dplane_spoofed_source_packets_total", interface_id=vm) == 0
    # how the worker spends its core: net_tap ports all interrupt, so it sleeps, never pauses
    assert value(samples, "dplane_worker_sleeps_total") > 0
    assert value(samples, "dplane_worker_pauses_total") == 0
    assert value(samples, "dplane_worker_asleep_seconds_total") > 0
    assert value(samples, "dplane_worker_ports", interrupts="no") == 0
    assert value(samples, "dplane_worker_ports", interrupts="yes") == 2 + len(VMS)
    for name in ("wakeups", "sleep_timeouts", "kicks"):
        assert value(samples, f"dplane_worker_{name}_total") is not None
    # flow offload (on by default): every port's default rule, counters from 0
    assert value(samples, "dplane_offload_rules") >= 2 + len(VMS)
    for name in ("hits", "misses", "installs", "refusals", "destroys", "sampled"):
        assert value(samples, f"dplane_offload_{name}_total") is not None
    assert value(samples, "dplane_offload_not_offloaded_total", reason="pf_to_pf") is not None
    # TAPs take no rules: no NIC side
    assert value(samples, "dplane_offload_nic_rules") is None


def test_metrics_follow_traffic(exporter, svc):
    """Scraped while vm1 sends to vm2: packet counters and graph counters grow."""
    stop = threading.Event()

    def traffic() -> None:
        tap, sport = svc.tap(VMS["vm1"][1]), 30000
        while not stop.is_set():
            tap.send(vm1_to_vm2(sport))
            sport = 30000 + (sport + 1) % 1000
            time.sleep(0.005)

    def rx_packets(samples: Samples) -> float:
        return value(samples, "dpdk_ethdev_packets_total", name="net_tap2",
                     stat="rx_good_packets")

    sender = threading.Thread(target=traffic, daemon=True)
    first = scrape(exporter)
    sender.start()
    try:
        later = wait_for(lambda: (lambda s: s if rx_packets(s) >= rx_packets(first) + 50
                                  else None)(scrape(exporter)), timeout=10)
        assert later, "rx_good_packets did not move"
        final = wait_for(lambda: (lambda s: s if rx_packets(s) > rx_packets(later)
                                  else None)(scrape(exporter)), timeout=10)
        assert final, "rx_good_packets stopped moving"
    finally:
        stop.set()
        sender.join(5)
    for node in ("cls", "tx-3"):
        assert (value(final, "dps_graph_call_count", node="hv1", graph_node=node)
                > value(first, "dps_graph_call_count", node="hv1", graph_node=node))
        assert (value(final, "dplane_graph_objects_total", graph_node=node)
                > value(first, "dplane_graph_objects_total", graph_node=node))
    assert (value(final, "dps_hash_table_saturation", table="conntrack_table", stat="entries")
            > 0)
    # vm2 has no ingress rule: the firewall (auditing, the default) counts what it would cut
    audited = value(final, "dplane_firewall_audit_denied_packets_total", interface_id="vm2",
                    direction="ingress")
    assert audited is not None and audited > (value(
        first, "dplane_firewall_audit_denied_packets_total", interface_id="vm2",
        direction="ingress") or 0)
    assert value(final, "dplane_firewall_dropped_packets_total", interface_id="vm2",
                 direction="ingress") == 0
    assert value(final, "dplane_firewall_denied_flows_total", interface_id="vm2",
                 direction="ingress") > 0


def test_grpc_address(svc):
    """--grpc-address: the service's port is checked there (its --grpc-listen); nothing
    answering there, the exporter serves dplane_telemetry_up 0 only."""
    cmd = ["ip", "netns", "exec", svc.netns.name, *exporter_cmd(
        "-file-prefix", svc.prefix, "--poll-interval=0.2", "-port", str(PORT + 1),
        "--grpc-address", "127.0.0.1", "--grpc-port", "1")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://{svc.netns.ns_ip}:{PORT + 1}/metrics"
    try:
        assert wait_for(lambda: _up_zero(url), timeout=20), proc.stderr
        time.sleep(1.0)  # five polls: none found the port open
        assert _up_zero(url)
    finally:
        proc.terminate()
        proc.wait(10)
    ok = ["ip", "netns", "exec", svc.netns.name, *exporter_cmd(
        "-file-prefix", svc.prefix, "--poll-interval=0.2", "-port", str(PORT + 1),
        "--grpc-address", svc.netns.ns_ip, "--grpc-port", str(harness.GRPC_PORT))]
    proc = subprocess.Popen(ok, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: scrape_or_none(url, proc), timeout=20)
    finally:
        proc.terminate()
        proc.wait(10)


def _up_zero(url: str) -> bool:
    try:
        samples = scrape(url)
    except OSError:
        return False
    return samples.get(("dplane_telemetry_up", ())) == 0.0
