# SPDX-License-Identifier: Apache-2.0
"""dplane-cli routes and alias prefixes against a real service: documents compared with the
gRPC listings, ordering by prefix string, the list-prefixes fan-out, table and name output,
service errors passed through with the codes the API returns."""
from __future__ import annotations

from clientutil import VF1, Outcome
from dplane.proto import dpdk_pb2 as pb

NEXT_HOP = "fc00:2::1"


def grpc_routes(svc, vni):
    reply = svc.api.ListRoutes(pb.ListRoutesRequest(vni=vni), timeout=5)
    assert reply.status.code == 0
    return reply.routes


def route_item(vni, route):
    return {"kind": "Route", "metadata": {"vni": vni},
            "spec": {"prefix": f"{route.prefix.ip.address.decode()}/{route.prefix.length}",
                     "next_hop": {"vni": route.nexthop_vni,
                                  "address": route.nexthop_address.address.decode()}},
            "status": {"code": 0, "message": ""}}


def add_route(cli, prefix, next_hop=NEXT_HOP, vni=100, nh_vni=0, *extra):
    return cli("create", "route", f"--prefix={prefix}", f"--next-hop-vni={nh_vni}",
               f"--next-hop-ip={next_hop}", f"--vni={vni}", *extra)


def test_create_route(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    assert add_route(cli, "10.1.0.0/16") == Outcome(
        0, f"route/10.1.0.0/16-0 created, Next Hop IP: {NEXT_HOP}\n", "")
    doc = add_route(cli, "10.1.0.0/24", "fc00:2::9", 100, 7, "-o", "json").json()
    assert doc == {"kind": "Route", "metadata": {"vni": 100},
                   "spec": {"prefix": "10.1.0.0/24",
                            "next_hop": {"vni": 7, "address": "fc00:2::9"}},
                   "status": {"code": 0, "message": "Success"}}
    assert "10.1.0.0" in [r.prefix.ip.address.decode() for r in grpc_routes(svc, 100)]


def test_list_routes_matches_grpc_sorted_by_prefix_string(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    for prefix in ("9.0.0.0/8", "10.1.0.0/24", "10.1.0.0/16"):
        assert add_route(cli, prefix).status == 0
    doc = cli("list", "routes", "--vni=100", "-o", "json").json()
    assert doc["kind"] == "RouteList" and doc["metadata"] == {"vni": 100}
    assert doc["status"] == {"code": 0, "message": "Success"}
    expected = sorted((route_item(100, r) for r in grpc_routes(svc, 100)),
                      key=lambda item: item["spec"]["prefix"])
    assert doc["items"] == expected
    prefixes = [item["spec"]["prefix"] for item in doc["items"]]
    assert prefixes.index("10.1.0.0/16") < prefixes.index("10.1.0.0/24") < prefixes.index(
        "9.0.0.0/8")
    assert cli("get", "routes", "--vni=100", "-o", "json").json() == doc


def test_route_table_and_names(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    add_route(cli, "10.1.0.0/16")
    add_route(cli, "192.168.0.0/24", "fc00:2::abcd", 100, 200)
    assert cli("list", "routes", "--vni=100").out == (
        " Prefix          VNI  NextHopVNI  NextHopIP\n"
        " 10.1.0.0/16     100           0  fc00:2::1\n"
        " 192.168.0.0/24  100         200  fc00:2::abcd\n")
    assert cli("list", "routes", "--vni=100", "-o", "name").out == (
        "route/10.1.0.0/16-0\nroute/192.168.0.0/24-200\n")


def test_delete_route(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    add_route(cli, "10.1.0.0/16")
    assert cli("delete", "route", "--prefix=10.1.0.0/16", "--vni=100") == Outcome(
        0, "route/10.1.0.0/16-0 deleted\n", "")
    again = cli("delete", "route", "--prefix=10.1.0.0/16", "--vni=100", "-o", "json")
    code = svc.api.DeleteRoute(pb.DeleteRouteRequest(vni=100, route=pb.Route(
        prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.1.0.0"), length=16))),
        timeout=5).status
    assert again.status == 2
    assert again.json() == {"kind": "Error", "spec": {"source": "server"},
                            "status": {"code": code.code, "message": code.message}}
    assert code.message == "ROUTE_NOT_FOUND"


def test_route_service_errors(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    add_route(cli, "10.1.0.0/16")
    duplicate = add_route(cli, "10.1.0.0/16", NEXT_HOP, 100, 0, "-o", "json")
    assert duplicate.status == 2 and duplicate.json()["status"]["message"] == "ROUTE_EXISTS"
    ipv4_hop = add_route(cli, "10.2.0.0/16", "10.9.9.9")
    assert ipv4_hop == Outcome(2, "route/10.2.0.0/16-0 server error: 204, BAD_IPVER\n", "")
    unknown_vni = cli("list", "routes", "--vni=4242", "-o", "json")
    assert unknown_vni.status == 2
    assert unknown_vni.json()["status"] == {"code": 206, "message": "NO_VNI"}


def test_route_client_errors(svc, cli):
    bad = add_route(cli, "10.1.0.0/33", NEXT_HOP, 100, 0, "-o", "json")
    assert bad.status == 1 and bad.json()["status"]["code"] == 1000
    assert "prefix length out of range" in bad.json()["status"]["message"]
    hop = add_route(cli, "10.1.0.0/16", "fc00:2::zz")
    assert hop.status == 1 and '"--next-hop-ip" flag' in hop.err


# --- prefixes -------------------------------------------------------------------------------

def grpc_prefixes(svc, iface_id):
    reply = svc.api.ListPrefixes(pb.ListPrefixesRequest(interface_id=iface_id.encode()),
                                 timeout=5)
    assert reply.status.code == 0
    return reply.prefixes


def prefix_item(iface_id, vni, prefix):
    return {"kind": "Prefix", "metadata": {"interface_id": iface_id, "vni": vni},
            "spec": {"prefix": f"{prefix.ip.address.decode()}/{prefix.length}",
                     "underlay_route": prefix.underlay_route.decode()},
            "status": {"code": 0, "message": ""}}


def add_prefix(cli, prefix, iface="vm1", *extra):
    return cli("create", "prefix", f"--prefix={prefix}", f"--interface-id={iface}", *extra)


def test_create_prefix(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    assert add_prefix(cli, "10.2.0.0/24", "vm1", "--underlay=fc00:1::8000:0:5") == Outcome(
        0, "prefix/10.2.0.0/24 created, underlay route: fc00:1::8000:0:5\n", "")
    doc = add_prefix(cli, "10.3.0.0/24", "vm1", "-o", "json").json()
    listed = {f"{p.ip.address.decode()}/{p.length}": p for p in grpc_prefixes(svc, "vm1")}
    assert doc == {"kind": "Prefix", "metadata": {"interface_id": "vm1"},
                   "spec": {"prefix": "10.3.0.0/24",
                            "underlay_route": listed["10.3.0.0/24"].underlay_route.decode()},
                   "status": {"code": 0, "message": "Success"}}


def test_list_prefixes_of_an_interface(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    for prefix in ("10.3.0.0/24", "10.2.0.0/24", "9.9.0.0/16"):
        assert add_prefix(cli, prefix).status == 0
    doc = cli("list", "prefixes", "--interface-id=vm1", "-o", "json").json()
    assert doc["kind"] == "PrefixList" and doc["metadata"] == {"interface_id": "vm1"}
    expected = sorted((prefix_item("vm1", 100, p) for p in grpc_prefixes(svc, "vm1")),
                      key=lambda item: item["spec"]["prefix"])
    assert doc["items"] == expected
    assert [item["spec"]["prefix"] for item in doc["items"]] == [
        "10.2.0.0/24", "10.3.0.0/24", "9.9.0.0/16"]


def test_list_prefixes_of_all_interfaces(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    make_interface("vm2", vni=200, device=VF1, ipv4="10.0.0.2", ipv6="::")
    add_prefix(cli, "10.5.0.0/24", "vm2", "--underlay=fc00:1::8000:0:6")
    add_prefix(cli, "10.4.0.0/24", "vm1", "--underlay=fc00:1::8000:0:7")
    doc = cli("list", "prefixes", "-o", "json").json()
    assert doc["metadata"] == {"interface_id": ""}
    assert doc["items"] == [prefix_item("vm1", 100, grpc_prefixes(svc, "vm1")[0]),
                            prefix_item("vm2", 200, grpc_prefixes(svc, "vm2")[0])]
    assert cli("list", "prefixes").out == (" Prefix       UnderlayRoute\n"
                                           " 10.4.0.0/24  fc00:1::8000:0:7\n"
                                           " 10.5.0.0/24  fc00:1::8000:0:6\n")
    assert cli("get", "prfx", "-o", "name").out == "prefix/10.4.0.0/24\nprefix/10.5.0.0/24\n"


def test_delete_prefix(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    add_prefix(cli, "10.2.0.0/24")
    assert cli("del", "prefix", "--prefix=10.2.0.0/24", "--interface-id=vm1") == Outcome(
        0, "prefix/10.2.0.0/24 deleted\n", "")
    assert not grpc_prefixes(svc, "vm1")
    again = cli("del", "prefix", "--prefix=10.2.0.0/24", "--interface-id=vm1", "-o", "json")
    status = svc.api.DeletePrefix(pb.DeletePrefixRequest(
        interface_id=b"vm1", prefix=pb.Prefix(ip=pb.IpAddress(address=b"10.2.0.0"),
                                              length=24)), timeout=5).status
    assert again.status == 2 and status.code != 0
    assert again.json()["status"] == {"code": status.code, "message": status.message}


def test_prefix_service_errors(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    add_prefix(cli, "10.2.0.0/24")
    duplicate = add_prefix(cli, "10.2.0.0/24", "vm1", "-o", "json")
    assert duplicate.status == 2 and duplicate.json()["spec"] == {"source": "server"}
    no_vm = cli("list", "prefixes", "--interface-id=nope", "-o", "json")
    assert no_vm.status == 2 and no_vm.json()["status"] == {"code": 205, "message": "NO_VM"}
    assert add_prefix(cli, "10.9.0.0/24", "nope") == Outcome(
        2, "prefix/10.9.0.0/24 server error: 205, NO_VM\n", "")
