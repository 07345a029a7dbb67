# SPDX-License-Identifier: Apache-2.0
"""The `status` of every success document, as the Go dpservice-cli writes it (contract 5).

dpservice-go fills a document's Status from the response in some places and not in others:
its converters for interfaces, routes, prefixes and firewall rules (ProtoInterfaceToInterface,
ProtoRouteToRoute, ProtoPrefixToPrefix, ProtoFwRuleToFwRule) copy no Status, so `get
interface`, `get firewallrule` and every list item carry {"code": 0, "message": ""}; those for
load balancers, virtual IPs and NATs, and every create/delete/init/version/VNI call, copy the
response's, so they carry the server's "Success". A list's own status is the response's
("Success"), except where the CLI builds the list itself: the fan-outs over all interfaces
(prefixes, LB prefixes, firewall rules without --interface-id) and `list nats` of both types.

Every registered command runs here against a fake connection whose replies all succeed and
hold one object each, so that every kind of item is seen; the real service checks the same
for what it implements (test_interfaces.py, test_routes_prefixes.py).
"""
from __future__ import annotations

import pytest

from clientutil import FakeApi, ok, run_fake
from dplane.cli.errors import GrpcError
from dplane.cli.spec import REGISTRY
from dplane.proto import dpdk_pb2 as pb

SUCCESS = {"code": 0, "message": "Success"}
EMPTY = {"code": 0, "message": ""}

IFACE = pb.Interface(id=b"vm1", vni=100, primary_ipv4=b"10.0.0.1", primary_ipv6=b"fd00::1",
                     underlay_route=b"fc00:1::d000:0:0:1", pci_name="net_tap2")
PREFIX = pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.1.0.0"), length=24,
                   underlay_route=b"fc00:1::d000:0:0:2")
RULE = pb.FirewallRule(id=b"r1", direction=pb.INGRESS, action=pb.ACCEPT, priority=1000,
                       source_prefix=pb.Prefix(ip=pb.IpAddress(address=b"0.0.0.0")),
                       destination_prefix=pb.Prefix(ip=pb.IpAddress(address=b"0.0.0.0")))
NAT_IP = pb.IpAddress(ipver=pb.IPV4, address=b"1.2.3.4")


def not_initialized(req):
    raise GrpcError(10, "ABORTED", "not initialized")


REPLIES = {
    "CheckInitialized": lambda req: ok(pb.CheckInitializedResponse(uuid="U")),
    "Initialize": lambda req: ok(pb.InitializeResponse(uuid="U")),
    "GetVersion": lambda req: ok(pb.GetVersionResponse(service_protocol="p",
                                                        service_version="v")),
    "CheckVniInUse": lambda req: ok(pb.CheckVniInUseResponse(in_use=True)),
    "ResetVni": lambda req: ok(pb.ResetVniResponse()),
    "CreateInterface": lambda req: ok(pb.CreateInterfaceResponse(
        underlay_route=IFACE.underlay_route, vf=pb.VirtualFunction(name="dtapvf_0"))),
    "DeleteInterface": lambda req: ok(pb.DeleteInterfaceResponse()),
    "GetInterface": lambda req: ok(pb.GetInterfaceResponse(interface=IFACE)),
    "ListInterfaces": lambda req: ok(pb.ListInterfacesResponse(interfaces=[IFACE])),
    "CreateRoute": lambda req: ok(pb.CreateRouteResponse()),
    "DeleteRoute": lambda req: ok(pb.DeleteRouteResponse()),
    "ListRoutes": lambda req: ok(pb.ListRoutesResponse(routes=[pb.Route(
        prefix=PREFIX, nexthop_vni=0,
        nexthop_address=pb.IpAddress(ipver=pb.IPV6, address=b"fc00:2::1"))])),
    "CreatePrefix": lambda req: ok(pb.CreatePrefixResponse(underlay_route=b"fc00::1")),
    "DeletePrefix": lambda req: ok(pb.DeletePrefixResponse()),
    "ListPrefixes": lambda req: ok(pb.ListPrefixesResponse(prefixes=[PREFIX])),
    "CreateLoadBalancerPrefix": lambda req: ok(pb.CreateLoadBalancerPrefixResponse(
        underlay_route=b"fc00::1")),
    "DeleteLoadBalancerPrefix": lambda req: ok(pb.DeleteLoadBalancerPrefixResponse()),
    "ListLoadBalancerPrefixes": lambda req: ok(pb.ListLoadBalancerPrefixesResponse(
        prefixes=[PREFIX])),
    "CreateLoadBalancer": lambda req: ok(pb.CreateLoadBalancerResponse(
        underlay_route=b"fc00::1")),
    "DeleteLoadBalancer": lambda req: ok(pb.DeleteLoadBalancerResponse()),
    "GetLoadBalancer": lambda req: ok(pb.GetLoadBalancerResponse(
        vni=100, loadbalanced_ip=NAT_IP, underlay_route=b"fc00::1",
        loadbalanced_ports=[pb.LbPort(protocol=pb.TCP, port=80)])),
    "ListLoadBalancers": lambda req: ok(pb.ListLoadBalancersResponse(loadbalancers=[
        pb.Loadbalancer(id=b"lb1", vni=100, ip=NAT_IP, underlay_route=b"fc00::1")])),
    "CreateLoadBalancerTarget": lambda req: ok(pb.CreateLoadBalancerTargetResponse()),
    "DeleteLoadBalancerTarget": lambda req: ok(pb.DeleteLoadBalancerTargetResponse()),
    "ListLoadBalancerTargets": lambda req: ok(pb.ListLoadBalancerTargetsResponse(
        target_ips=[pb.IpAddress(ipver=pb.IPV6, address=b"fc00:3::1")])),
    "CreateVip": lambda req: ok(pb.CreateVipResponse(underlay_route=b"fc00::1")),
    "DeleteVip": lambda req: ok(pb.DeleteVipResponse()),
    "GetVip": lambda req: ok(pb.GetVipResponse(vip_ip=NAT_IP, underlay_route=b"fc00::1")),
    "CreateNat": lambda req: ok(pb.CreateNatResponse(underlay_route=b"fc00::1")),
    "DeleteNat": lambda req: ok(pb.DeleteNatResponse()),
    "GetNat": lambda req: ok(pb.GetNatResponse(nat_ip=NAT_IP, min_port=100, max_port=200,
                                               underlay_route=b"fc00::1")),
    "CreateNeighborNat": lambda req: ok(pb.CreateNeighborNatResponse()),
    "DeleteNeighborNat": lambda req: ok(pb.DeleteNeighborNatResponse()),
    "ListLocalNats": lambda req: ok(pb.ListLocalNatsResponse(nat_entries=[pb.NatEntry(
        nat_ip=pb.IpAddress(address=b"10.0.0.1"), min_port=100, max_port=200, vni=100)])),
    "ListNeighborNats": lambda req: ok(pb.ListNeighborNatsResponse(nat_entries=[pb.NatEntry(
        underlay_route=b"fc00:9::1", min_port=200, max_port=300, vni=100)])),
    "CreateFirewallRule": lambda req: ok(pb.CreateFirewallRuleResponse(rule_id=b"r1")),
    "DeleteFirewallRule": lambda req: ok(pb.DeleteFirewallRuleResponse()),
    "GetFirewallRule": lambda req: ok(pb.GetFirewallRuleResponse(rule=RULE)),
    "ListFirewallRules": lambda req: ok(pb.ListFirewallRulesResponse(rules=[RULE])),
    "CaptureStart": lambda req: ok(pb.CaptureStartResponse()),
    "CaptureStop": lambda req: ok(pb.CaptureStopResponse(stopped_interface_cnt=1)),
    "CaptureStatus": lambda req: ok(pb.CaptureStatusResponse()),
}

# argv -> (the document's status, its items' status or None for an object)
CASES = {
    "init": (SUCCESS, None),
    "get init": (SUCCESS, None),
    "get version": (SUCCESS, None),
    "get vni --vni=100 --vni-type=0": (SUCCESS, None),
    "reset vni --vni=100": (SUCCESS, None),
    "create interface --id=vm1 --vni=100 --ipv4=10.0.0.1 --device=net_tap2": (SUCCESS, None),
    "delete interface --id=vm1": (SUCCESS, None),
    "get interface --id=vm1": (EMPTY, None),
    "get interface": (SUCCESS, EMPTY),
    "list interfaces": (SUCCESS, EMPTY),
    "create route --prefix=10.1.0.0/24 --next-hop-vni=0 --next-hop-ip=fc00:2::1 --vni=100":
        (SUCCESS, None),
    "delete route --prefix=10.1.0.0/24 --vni=100": (SUCCESS, None),
    "list routes --vni=100": (SUCCESS, EMPTY),
    "get routes --vni=100": (SUCCESS, EMPTY),
    "create prefix --prefix=10.1.0.0/24 --interface-id=vm1": (SUCCESS, None),
    "delete prefix --prefix=10.1.0.0/24 --interface-id=vm1": (SUCCESS, None),
    "list prefixes --interface-id=vm1": (SUCCESS, EMPTY),
    "get prefix --interface-id=vm1": (SUCCESS, EMPTY),
    "list prefixes": (EMPTY, EMPTY),  # the CLI's own list over all interfaces
    "get prefix": (EMPTY, EMPTY),
    "create lbprefix --prefix=10.1.0.0/24 --interface-id=vm1": (SUCCESS, None),
    "delete lbprefix --prefix=10.1.0.0/24 --interface-id=vm1": (SUCCESS, None),
    "list lbprefixes --interface-id=vm1": (SUCCESS, EMPTY),
    "get lbprefix --interface-id=vm1": (SUCCESS, EMPTY),
    "list lbprefixes": (EMPTY, EMPTY),
    "get lbprefix": (EMPTY, EMPTY),
    "create loadbalancer --id=lb1 --vni=100 --vip=1.2.3.4 --lbports=TCP/80": (SUCCESS, None),
    "delete loadbalancer --id=lb1": (SUCCESS, None),
    "get loadbalancer --id=lb1": (SUCCESS, None),
    "get loadbalancer": (SUCCESS, EMPTY),
    "list loadbalancers": (SUCCESS, EMPTY),
    "create lbtarget --target-ip=fc00:3::1 --lb-id=lb1": (SUCCESS, None),
    "delete lbtarget --target-ip=fc00:3::1 --lb-id=lb1": (SUCCESS, None),
    "list lbtargets --lb-id=lb1": (SUCCESS, EMPTY),
    "get lbtarget --lb-id=lb1": (SUCCESS, EMPTY),
    "create virtualip --vip=1.2.3.4 --interface-id=vm1": (SUCCESS, None),
    "delete virtualip --interface-id=vm1": (SUCCESS, None),
    "get virtualip --interface-id=vm1": (SUCCESS, None),
    "create nat --interface-id=vm1 --nat-ip=1.2.3.4 --minport=100 --maxport=200":
        (SUCCESS, None),
    "delete nat --interface-id=vm1": (SUCCESS, None),
    "get nat --interface-id=vm1": (SUCCESS, None),
    "create neighbornat --nat-ip=1.2.3.4 --vni=100 --minport=200 --maxport=300 "
    "--underlayroute=fc00:9::1": (SUCCESS, None),
    "delete neighbornat --nat-ip=1.2.3.4 --vni=100 --minport=200 --maxport=300":
        (SUCCESS, None),
    "list nats --nat-ip=1.2.3.4": (EMPTY, EMPTY),  # both types: the CLI's own list
    "list nats --nat-ip=1.2.3.4 --nat-type=local": (SUCCESS, EMPTY),
    "list nats --nat-ip=1.2.3.4 --nat-type=neigh": (SUCCESS, EMPTY),
    "create firewallrule --interface-id=vm1 --rule-id=r1 --direction=ingress --action=accept "
    "--src=0.0.0.0/0 --dst=0.0.0.0/0": (SUCCESS, None),
    "delete firewallrule --interface-id=vm1 --rule-id=r1": (SUCCESS, None),
    "get firewallrule --interface-id=vm1 --rule-id=r1": (EMPTY, None),
    "list firewallrules --interface-id=vm1": (SUCCESS, EMPTY),
    "list firewallrules": (EMPTY, EMPTY),  # the CLI's own list over all interfaces
    "capture start --sink-node-ip=fc00::9 --udp-src-port=1 --udp-dst-port=2": (SUCCESS, None),
    "capture stop": (SUCCESS, None),
    "capture status": (SUCCESS, None),
}


def run(argv: str) -> dict:
    api = FakeApi(dict(REPLIES))
    if argv == "init":
        api.replies["CheckInitialized"] = not_initialized
    outcome = run_fake(api, *argv.split(), "-o", "json")
    assert (outcome.status, outcome.err) == (0, ""), outcome
    return outcome.json()


@pytest.mark.parametrize("argv", list(CASES))
def test_success_status(argv):
    doc_status, item_status = CASES[argv]
    doc = run(argv)
    assert doc["status"] == doc_status
    if item_status is None:
        assert "items" not in doc
    else:
        assert doc["items"], "a reply with one object lists it"
        assert [item["status"] for item in doc["items"]] == [item_status] * len(doc["items"])


@pytest.mark.parametrize("argv", ["get interface --id=vm1 -w", "list interfaces -w"])
def test_wide_interface_nests_nat_and_vip_with_their_status(argv):
    """-w adds GetNat's and GetVip's documents: theirs carry "Success"."""
    doc = run(argv)
    for iface in doc.get("items", [doc]):
        assert iface["status"] == EMPTY
        assert iface["spec"]["nat"]["status"] == SUCCESS
        assert iface["spec"]["vip"]["status"] == SUCCESS


def test_every_command_is_covered():
    """A command added later gets its row here."""
    covered = set()
    for argv in CASES:
        words = argv.split()
        covered.add((words[0], None if words[0] == "init" else words[1]))
    aliases = {"interfaces": "interface", "routes": "route", "prefixes": "prefix",
               "lbprefixes": "lbprefix", "loadbalancers": "loadbalancer",
               "lbtargets": "lbtarget", "nats": "nat", "firewallrules": "firewallrule"}
    covered = {(verb, aliases.get(noun, noun)) for verb, noun in covered}
    assert {(cmd.verb, cmd.noun) for cmd in REGISTRY} <= covered
