# SPDX-License-Identifier: Apache-2.0
"""Rendering of fabricated documents: table snapshots (expected text written here, not
produced by the code under test), name lines, json and yaml, and the error reports."""
from __future__ import annotations

import io
import json

import yaml

from dplane.cli import output
from dplane.cli.errors import ClientError, ConnectError, GrpcError, ServerError


def iface(iface_id, vni, device, ipv4, ipv6, underlay, rates=None, **extra):
    spec = {"vni": vni, "device": device, "primary_ipv4": ipv4, "primary_ipv6": ipv6,
            "underlay_route": underlay, "metering": rates or {}, **extra}
    return {"kind": "Interface", "metadata": {"id": iface_id}, "spec": spec,
            "status": {"code": 0, "message": ""}}


IFACES = {"kind": "InterfaceList", "metadata": {}, "status": {"code": 0, "message": "Success"},
          "items": [iface("vm1", 100, "net_tap2", "10.0.0.1", "fd00::1", "fc00:1::8000:0:1"),
                    iface("web-server-2", 4096, "net_tap3", "10.0.0.22", "::",
                          "fc00:1::8000:0:2", {"total_rate": 1000, "public_rate": 50})]}


def render(doc, fmt="table", operation="", wide=False, pretty=False):
    out = io.StringIO()
    output.render(doc, fmt, out, operation, pretty, wide)
    return out.getvalue()


def test_interface_table():
    # written out column by column: ID(12) VNI(4) Device(8) IPv4(9) IPv6(7) Underlay(16)
    expected = [
        " ID            VNI   Device    IPv4       IPv6     UnderlayRoute     TotalMeterRate"
        "  PublicMeterRate",
        " vm1            100  net_tap2  10.0.0.1   fd00::1  fc00:1::8000:0:1               0"
        "                0",
        " web-server-2  4096  net_tap3  10.0.0.22  ::       fc00:1::8000:0:2            1000"
        "               50",
    ]
    assert render(IFACES).splitlines() == expected


def test_created_interface_table_has_vf_and_wide_columns():
    created = iface("vm1", 100, "net_tap2", "10.0.0.1", "::", "fc00:1::8000:0:1",
                    virtual_function={"name": "dtapvf_0"},
                    nat={"spec": {"nat_ip": "1.2.3.4", "min_port": 100, "max_port": 200}})
    assert render(created, wide=True).splitlines() == [
        " ID   VNI  Device    IPv4      IPv6  UnderlayRoute     TotalMeterRate  PublicMeterRate"
        "  VirtualFunction  Nat                 VirtualIP",
        " vm1  100  net_tap2  10.0.0.1  ::    fc00:1::8000:0:1               0                0"
        "  dtapvf_0         1.2.3.4 <100, 200>",
    ]


def test_empty_list_is_a_header():
    empty = {"kind": "RouteList", "metadata": {"vni": 0}, "status": {}, "items": []}
    assert render(empty) == " Prefix  VNI  NextHopVNI  NextHopIP\n"


def test_route_and_prefix_tables():
    routes = {"kind": "RouteList", "metadata": {"vni": 100}, "status": {}, "items": [
        {"kind": "Route", "metadata": {"vni": 100},
         "spec": {"prefix": "0.0.0.0/0", "next_hop": {"vni": 0, "address": "fc00:2::1"}}},
        {"kind": "Route", "metadata": {"vni": 100},
         "spec": {"prefix": "10.100.3.0/24", "next_hop": {"vni": 200, "address": "fc00::9"}}}]}
    assert render(routes) == (" Prefix         VNI  NextHopVNI  NextHopIP\n"
                              " 0.0.0.0/0      100           0  fc00:2::1\n"
                              " 10.100.3.0/24  100         200  fc00::9\n")
    prefix = {"kind": "Prefix", "metadata": {"interface_id": "vm1"},
              "spec": {"prefix": "10.20.30.0/24", "underlay_route": "fc00:1::8000:0:9"}}
    assert render(prefix) == (" Prefix         UnderlayRoute\n"
                              " 10.20.30.0/24  fc00:1::8000:0:9\n")


def test_firewall_and_loadbalancer_tables():
    rule = {"kind": "FirewallRule", "metadata": {"interface_id": "vm1"},
            "spec": {"id": "r1", "direction": "Ingress", "action": "Accept", "priority": 1000,
                     "source_prefix": "0.0.0.0/0", "destination_prefix": "10.0.0.0/8",
                     "protocol_filter": {"Filter": {"Tcp": {
                         "src_port_lower": -1, "src_port_upper": -1,
                         "dst_port_lower": 80, "dst_port_upper": 443}}}}}
    assert render(rule) == (
        " InterfaceID  RuleID  Direction  Src        Dst         Action  Protocol"
        "                Priority\n"
        " vm1          r1      Ingress    0.0.0.0/0  10.0.0.0/8  Accept  tcp src=any dst=80-443"
        "      1000\n")
    lb = {"kind": "LoadBalancer", "metadata": {"id": "lb1"},
          "spec": {"vni": 100, "loadbalanced_ip": "10.20.30.40", "underlay_route": "fc00::1",
                   "loadbalanced_ports": [{"protocol": 6, "port": 443},
                                          {"protocol": 17, "port": 53}]}}
    assert render(lb) == (" ID   VNI  LbVipIP      Lbports         UnderlayRoute\n"
                          " lb1  100  10.20.30.40  TCP/443,UDP/53  fc00::1\n")


def test_vni_version_and_init_tables():
    vni = {"kind": "Vni", "metadata": {"vni": 100, "vni_type": 0}, "spec": {"in_use": True}}
    assert render(vni) == " VNI  VniType  inUse\n 100        0  true\n"
    init = {"kind": "Initialized", "metadata": {}, "spec": {"uuid": "ABC-1"}}
    assert render(init) == " UUID\n ABC-1\n"


def test_nat_list_table():
    nats = {"kind": "NatList", "metadata": {}, "status": {}, "items": [
        {"kind": "Nat", "metadata": {},
         "spec": {"nat_ip": "10.0.0.1", "min_port": 100, "max_port": 200, "vni": 7}},
        {"kind": "NeighborNat", "metadata": {},
         "spec": {"min_port": 300, "max_port": 400, "underlay_route": "fc00::5", "vni": 7}}]}
    assert render(nats) == (" VNI  IP        MinPort  MaxPort  UnderlayRoute  NatType\n"
                            "   7  10.0.0.1      100      200                 Local\n"
                            "   7                300      400  fc00::5        Neighbor\n")


def test_name_lines():
    assert render(IFACES, "name") == "interface/vm1\ninterface/web-server-2\n"
    assert render(IFACES["items"][0], "name", "created, underlay route: fc00:1::8000:0:1") == (
        "interface/vm1 created, underlay route: fc00:1::8000:0:1\n")
    route = {"kind": "Route", "metadata": {"vni": 1},
             "spec": {"prefix": "10.0.0.0/8", "next_hop": {"vni": 5}}}
    assert render(route, "name", "deleted") == "route/10.0.0.0/8-5 deleted\n"
    vip = {"kind": "VirtualIP", "metadata": {"interface_id": "vm1"}, "spec": {"vip_ip": None}}
    assert render(vip, "name") == "virtualip/on interface: vm1\n"
    empty = {"kind": "PrefixList", "metadata": {}, "status": {}, "items": []}
    assert render(empty, "name") == ""


def test_json_compact_pretty_and_escaped():
    doc = {"kind": "Interface", "metadata": {"id": "a<b>&c"}, "spec": {"metering": {}},
           "status": {"code": 0, "message": "Success"}}
    compact = render(doc, "json")
    assert compact == ('{"kind":"Interface","metadata":{"id":"a\\u003cb\\u003e\\u0026c"},'
                       '"spec":{"metering":{}},"status":{"code":0,"message":"Success"}}\n')
    assert json.loads(compact) == doc
    pretty = render(doc, "json", pretty=True)
    assert pretty.startswith('{\n  "kind": "Interface",\n  "metadata": {\n    "id": ')
    assert json.loads(pretty) == doc


def test_yaml_sorted_keys():
    text = render(IFACES["items"][0], "yaml")
    assert text.splitlines()[:3] == ["kind: Interface", "metadata:", "  id: vm1"]
    assert yaml.safe_load(text) == IFACES["items"][0]
    assert "primary_ipv6: fd00::1" in text


def report(error, fmt):
    out, err = io.StringIO(), io.StringIO()
    status = output.render_error(error, fmt, out, err)
    return status, out.getvalue(), err.getvalue()


def test_error_documents_and_exit_statuses():
    server = ServerError(201, "NOT_FOUND", "Interface", "vm1")
    assert report(server, "json") == (
        2, '{"kind":"Error","spec":{"source":"server"},'
           '"status":{"code":201,"message":"NOT_FOUND"}}\n', "")
    grpc = GrpcError(3, "INVALID_ARGUMENT", "Invalid interface_id")
    assert report(grpc, "json") == (
        1, '{"kind":"Error","spec":{"source":"grpc"},'
           '"status":{"code":3,"message":"Invalid interface_id"}}\n', "")
    client = ClientError('invalid argument "x" for "--vip" flag: ParseAddr("x"): unable to '
                         "parse IP")
    status, out, err = report(client, "yaml")
    assert status == 1 and err == ""
    assert yaml.safe_load(out) == {"kind": "Error", "spec": {"source": "client"},
                                   "status": {"code": 1000, "message": client.message}}


def test_error_lines_for_people():
    assert report(ServerError(201, "NOT_FOUND", "Interface", "vm1"), "table") == (
        2, "interface/vm1 server error: 201, NOT_FOUND\n", "")
    assert report(ServerError(205, "NO_VM", "PrefixList", None), "name") == (
        2, "prefixlist server error: 205, NO_VM\n", "")
    assert report(GrpcError(12, "UNIMPLEMENTED", "GetNat is not implemented yet"), "table") == (
        1, "", "Error running command: rpc error: code = Unimplemented desc = GetNat is not "
               "implemented yet\n")
    assert report(ConnectError("10.0.0.1:1337"), "name") == (
        1, "", "Error running command: error connecting to 10.0.0.1:1337: context deadline "
               "exceeded\n")
    assert report(ClientError('required flag(s) "id" not set'), "table") == (
        1, "", 'Error running command: required flag(s) "id" not set\n')
