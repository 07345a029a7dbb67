# SPDX-License-Identifier: Apache-2.0
"""dplane-inspect: the service's tables, read-only, as dpservice-inspect shows them.

    dplane-inspect [-t TABLE] [--dump] [-o human|table|csv|json] [--address HOST:PORT]

Without --dump it prints how many entries a table has; with --dump, the entries. Unlike
dpservice-inspect (a DPDK secondary process reading the hash tables in shared memory) it asks
the running service over gRPC (dplane.v1.Diagnostics and the dpservice API), which reads its
tables on the control thread, so it is safe while traffic flows and works on a remote host.
`--file-prefix` and `-s/--socket` are accepted for compatibility and have no effect.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import grpc

from . import tls_client
from ._version import __version__
from .proto import dpdk_pb2, dpdk_pb2_grpc, dplane_pb2, dplane_pb2_grpc

PROG = "dplane-inspect"
FORMATS = ("human", "table", "csv", "json")
# dpservice-inspect's tables that dplane does not have (yet): refused with a clear message
MISSING = ("vnf_rev",)
TIMEOUT = 10.0

VNF_TYPES = {0: "none", 1: "iface", 2: "vip", 3: "nat", 4: "lb", 5: "lb_pfx", 6: "pfx"}
PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}
TCP_STATES = {"none": "none", "new_syn": "syn", "new_synack": "synack",
              "established": "est", "finwait": "finwai", "rst_fin": "rstfin"}


class InspectError(Exception):
    pass


class Stubs:
    def __init__(self, channel: grpc.Channel) -> None:
        self.diag = dplane_pb2_grpc.DiagnosticsStub(channel)
        self.api = dpdk_pb2_grpc.DPDKironcoreStub(channel)


Row = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Table:
    name: str                  # the -t argument
    table_name: str            # as GetStats and telemetry name it
    columns: tuple[tuple[str, str], ...]  # (json key, header)
    rows: Callable[[Stubs], list[Row]]


# ---------------------------------------------------------------------------------------
# The tables.

def _age(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _conntrack_rows(stubs: Stubs) -> list[Row]:
    """One row per key, as the hash table holds them: the original and the reply direction."""
    rows = []
    flows = stubs.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=TIMEOUT).flows
    for flow in flows:
        for direction, key, packets in (("orig", flow.key, flow.packets),
                                        ("reply", flow.reply_key, flow.reply_packets)):
            rows.append({
                "type": VNF_TYPES.get(key.vnf_type, "?"),
                "vni": key.vni,
                "proto": PROTOCOLS.get(key.protocol, str(key.protocol)),
                "src": f"{key.src}:{key.src_port}",
                "dst": f"{key.dst}:{key.dst_port}",
                "port_id": flow.in_port,
                "state": TCP_STATES.get(flow.tcp_state, flow.tcp_state),
                "age": _age(flow.idle_ms),
                "timeout": flow.timeout_s,
                "dir": direction,
                "packets": packets,
            })
    return rows


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _iface_rows(stubs: Stubs) -> list[Row]:
    reply = stubs.api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(), timeout=TIMEOUT)
    if reply.status.code:
        raise InspectError(f"ListInterfaces: error {reply.status.code} {reply.status.message}")
    return [{"iface_id": _text(i.id), "vni": i.vni, "device": i.pci_name,
             "ipv4": _text(i.primary_ipv4), "ipv6": _text(i.primary_ipv6),
             "underlay": _text(i.underlay_route)}
            for i in sorted(reply.interfaces, key=lambda i: i.id)]


def _interfaces(stubs: Stubs) -> list:
    reply = stubs.api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(), timeout=TIMEOUT)
    if reply.status.code:
        raise InspectError(f"ListInterfaces: error {reply.status.code} {reply.status.message}")
    return sorted(reply.interfaces, key=lambda i: i.id)


def _snat_rows(stubs: Stubs) -> list[Row]:
    """Per VM with a VIP or a NAT (dpservice's snat_table: {VM address, VNI} -> both)."""
    rows = []
    for iface in _interfaces(stubs):
        vip = stubs.api.GetVip(dpdk_pb2.GetVipRequest(interface_id=iface.id), timeout=TIMEOUT)
        nat = stubs.api.GetNat(dpdk_pb2.GetNatRequest(interface_id=iface.id), timeout=TIMEOUT)
        if vip.status.code and nat.status.code:
            continue
        rows.append({
            "ip": _text(iface.primary_ipv4), "vni": iface.vni,
            "vip_ip": _text(vip.vip_ip.address) if not vip.status.code else "",
            "nat_ip": _text(nat.nat_ip.address) if not nat.status.code else "",
            "min_port": nat.min_port if not nat.status.code else 0,
            "max_port": nat.max_port if not nat.status.code else 0,
            "vip_ul": _text(vip.underlay_route) if not vip.status.code else "",
            "nat_ul": _text(nat.underlay_route) if not nat.status.code else ""})
    return rows


def _dnat_rows(stubs: Stubs) -> list[Row]:
    """{address, VNI} -> the VM a VIP stands for, or 0.0.0.0 for a NAT IP (local or a
    neighbour's), one entry each, as dpservice's dnat_table."""
    rows: dict[tuple[str, int], Row] = {}
    for row in _snat_rows(stubs):
        if row["vip_ip"]:
            rows[(row["vip_ip"], row["vni"])] = {"ip": row["vip_ip"], "vni": row["vni"],
                                                 "dnat_ip": row["ip"]}
    every = dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4, address=b"0.0.0.0")
    local = stubs.api.ListLocalNats(dpdk_pb2.ListLocalNatsRequest(nat_ip=every),
                                    timeout=TIMEOUT).nat_entries
    neigh = stubs.api.ListNeighborNats(dpdk_pb2.ListNeighborNatsRequest(nat_ip=every),
                                       timeout=TIMEOUT).nat_entries
    for entry in (*local, *neigh):
        key = (_text(entry.actual_nat_ip.address), entry.vni)
        rows.setdefault(key, {"ip": key[0], "vni": key[1], "dnat_ip": "0.0.0.0"})
    return list(rows.values())


def _dumped(name: str) -> Callable[[Stubs], list[Row]]:
    """The rows of a table the service dumps itself (Diagnostics/DumpTable)."""
    def rows(stubs: Stubs) -> list[Row]:
        reply = stubs.diag.DumpTable(dplane_pb2.DumpTableRequest(name=name), timeout=TIMEOUT)
        return [dict(row.fields) for row in reply.rows]
    return rows


def _vnf_rows(stubs: Stubs) -> list[Row]:
    vnfs = stubs.diag.ListVnfs(dplane_pb2.ListVnfsRequest(), timeout=TIMEOUT).vnfs
    return [{"ul": v.underlay, "type": VNF_TYPES.get(v.type, "?"), "vni": v.vni,
             "port_id": v.port_id, "prefix": v.prefix, "length": v.prefix_len}
            for v in vnfs]


def _vni_rows(stubs: Stubs) -> list[Row]:
    vnis = stubs.diag.ListVnis(dplane_pb2.ListVnisRequest(), timeout=TIMEOUT).vnis
    return [{"vni": v.vni, "ipv4_routes": v.ipv4_routes, "ipv6_routes": v.ipv6_routes}
            for v in vnis]


TABLES = {t.name: t for t in (
    Table("conntrack", "conntrack_table",
          (("type", "TYPE"), ("vni", "VNI"), ("proto", "PROTO"), ("src", "SOURCE"),
           ("dst", "DESTINATION"), ("port_id", "PORT_ID"), ("state", "STATE"),
           ("age", "AGE"), ("timeout", "TIMEOUT"), ("dir", "DIR"), ("packets", "PACKETS")),
          _conntrack_rows),
    Table("iface", "interface_table",
          (("iface_id", "IFACE_ID"), ("vni", "VNI"), ("device", "DEVICE"), ("ipv4", "IPV4"),
           ("ipv6", "IPV6"), ("underlay", "UNDERLAY")),
          _iface_rows),
    Table("vnf", "vnf_table",
          (("ul", "UNDERLAY_IP"), ("type", "TYPE"), ("vni", "VNI"), ("port_id", "PORT_ID"),
           ("prefix", "PREFIX"), ("length", "LENGTH")),
          _vnf_rows),
    Table("snat", "snat_table",
          (("ip", "IP"), ("vni", "VNI"), ("vip_ip", "VIP"), ("nat_ip", "NAT_IP"),
           ("min_port", "MIN_PORT"), ("max_port", "MAX_PORT"), ("vip_ul", "VIP_UNDERLAY"),
           ("nat_ul", "NAT_UNDERLAY")),
          _snat_rows),
    Table("dnat", "dnat_table", (("ip", "IP"), ("vni", "VNI"), ("dnat_ip", "DNAT_IP")),
          _dnat_rows),
    Table("portmap", "nat_portmap_table",
          (("vni", "VNI"), ("src", "SOURCE"), ("src_port", "SOURCE_PORT"), ("nat_ip", "NAT_IP"),
           ("nat_port", "NAT_PORT"), ("flows", "FLOWS")),
          _dumped("nat_portmap_table")),
    Table("portoverload", "nat_portoverload_table",
          (("nat_ip", "NAT_IP"), ("nat_port", "NAT_PORT"), ("dst", "DESTINATION"),
           ("dst_port", "DESTINATION_PORT"), ("proto", "PROTO")),
          _dumped("nat_portoverload_table")),
    Table("lb", "loadbalancer_table",
          (("vni", "VNI"), ("ip", "IP"), ("id", "ID"), ("ports", "PORTS"),
           ("underlay", "UNDERLAY"), ("targets", "TARGETS")),
          _dumped("loadbalancer_table")),
    Table("lb_id", "loadbalancer_id_table", (("id", "ID"), ("vni", "VNI"), ("ip", "IP")),
          _dumped("loadbalancer_id_table")),
    Table("vni", "vni_table",
          (("vni", "VNI"), ("ipv4_routes", "IPV4_ROUTES"), ("ipv6_routes", "IPV6_ROUTES")),
          _vni_rows),
    Table("offload", "offload_rules",
          (("port_id", "PORT_ID"), ("group", "GROUP"), ("pattern", "PATTERN"),
           ("actions", "ACTIONS"), ("hits", "HITS"), ("bytes", "BYTES"), ("idle", "IDLE"),
           ("age", "AGE"), ("stale", "STALE"), ("nic", "NIC")),
          _dumped("offload_rules")),
)}


# ---------------------------------------------------------------------------------------
# Output.

def _aligned(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    return "\n".join([line(headers), *(line(r) for r in rows)]) + "\n"


def _csv(headers: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue()


def _json_list(items: list[Any]) -> str:
    if not items:
        return "[]\n"
    return "[\n" + ",\n".join("\t" + json.dumps(i) for i in items) + "\n]\n"


def format_rows(table: Table, rows: list[Row], fmt: str) -> str:
    keys = [k for k, _ in table.columns]
    headers = [h for _, h in table.columns]
    if fmt == "json":
        return _json_list([{k: r[k] for k in keys} for r in rows])
    if fmt == "csv":
        return _csv(headers, [[r[k] for k in keys] for r in rows])
    if fmt == "table":
        return _aligned(headers, [[str(r[k]) for k in keys] for r in rows])
    return "".join(", ".join(f"{k}: {r[k]}" for k in keys) + "\n" for r in rows)


def format_count(table_name: str, entries: int, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"table": table_name, "entries": entries}) + "\n"
    if fmt == "csv":
        return _csv(["TABLE", "ENTRIES"], [[table_name, entries]])
    if fmt == "table":
        return _aligned(["TABLE", "ENTRIES"], [[table_name, str(entries)]])
    return f"Table '{table_name}' has {entries} entries\n"


def format_list(fmt: str) -> str:
    names = list(TABLES)
    if fmt == "json":
        return _json_list(names)
    if fmt in ("table", "csv"):
        return "NAME\n" + "".join(f"{n}\n" for n in names)
    return "Supported tables (-t argument):\n" + "".join(f"  {n}\n" for n in names)


def table_entries(stubs: Stubs, table_name: str) -> int:
    stats = stubs.diag.GetStats(dplane_pb2.GetStatsRequest(), timeout=TIMEOUT)
    for usage in stats.tables:
        if usage.name == table_name:
            return usage.entries
    raise InspectError(f"Table '{table_name}' not found")


# ---------------------------------------------------------------------------------------
# Command line.

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Show the tables of a running dplane (read-only, over gRPC).")
    parser.add_argument("-o", "--output-format", choices=FORMATS, default="human",
                        help="format of the output (default human)")
    parser.add_argument("-t", "--table", choices=("list", *TABLES, *MISSING), default="list",
                        help="table to inspect (default: list the tables)")
    parser.add_argument("--dump", action="store_true", help="dump table contents")
    parser.add_argument("--address", default=None, help="the service's gRPC address "
                        "(default localhost:$DP_GRPC_PORT, or localhost:1337)")
    tls_client.add_arguments(parser)
    parser.add_argument("--file-prefix", default=None,
                        help="accepted for dpservice-inspect compatibility; no effect")
    parser.add_argument("-s", "--socket", type=int, default=-1,
                        help="accepted for dpservice-inspect compatibility; no effect")
    parser.add_argument("-v", "--version", action="store_true",
                        help="display version and exit")
    return parser


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        out.write(f"DP Service version {__version__}\n")
        return 0
    if args.table == "list":
        out.write(format_list(args.output_format))
        return 0
    if args.table in MISSING:
        err.write(f"{PROG}: dplane has no '{args.table}' table (the feature is not "
                  "implemented yet)\n")
        return 1
    table = TABLES[args.table]
    address = args.address or f"localhost:{os.environ.get('DP_GRPC_PORT') or 1337}"
    try:
        channel = tls_client.open_channel(address, tls_client.ClientTls.from_args(args))
    except tls_client.TlsError as exc:
        err.write(f"{PROG}: {exc}\n")
        return 1
    with channel:
        stubs = Stubs(channel)
        try:
            if args.dump:
                text = format_rows(table, table.rows(stubs), args.output_format)
            else:
                text = format_count(table.table_name, table_entries(stubs, table.table_name),
                                    args.output_format)
        except grpc.RpcError as exc:
            err.write(f"{PROG}: {address}: {exc.code().name}: {exc.details()}\n")
            return 1
        except InspectError as exc:
            err.write(f"{PROG}: {exc}\n")
            return 1
    out.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else list(argv), sys.stdout, sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
