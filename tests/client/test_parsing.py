# SPDX-License-Identifier: Apache-2.0
"""The command line without a service: run() in-process with a fake connection that records
the requests. Global flags anywhere, aliases, defaults, required flags, client-side errors,
the requests built, init's CheckInitialized logic, fan-outs; and a fuzz of random argv."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientutil import FakeApi, Outcome, ok, run_fake
from dplane._version import __version__
from dplane.cli.errors import ConnectError, GrpcError
from dplane.cli.spec import NOUNS, REGISTRY
from dplane.proto import dpdk_pb2 as pb


def cli(*argv, api=None):
    return run_fake(api if api is not None else FakeApi(), *argv)


def client_error(outcome):
    assert outcome.status == 1, outcome
    doc = outcome.json()
    assert doc["kind"] == "Error" and doc["spec"] == {"source": "client"}
    assert doc["status"]["code"] == 1000
    return doc["status"]["message"]


def test_version():
    for flag in ("-v", "--version", "--version=true"):
        assert cli(flag) == Outcome(0, f"dplane-cli version {__version__}\n", "")


def test_help_exits_0():
    outcome = cli("get", "interface", "--help")
    assert outcome.status == 0 and "--id" in outcome.out


@pytest.mark.parametrize("argv", [
    ("-o", "json", "get", "interface", "--id", "vm1"),
    ("get", "-o", "json", "interface", "--id", "vm1"),
    ("get", "interface", "--id", "vm1", "-o", "json"),
    ("get", "interface", "--id=vm1", "--output=json"),
    ("get", "interface", "--id=vm1", "-ojson"),
    ("--output", "yaml", "get", "interface", "--id=vm1", "-o=json"),  # the last one wins
])
def test_global_flags_anywhere(argv):
    api = FakeApi()
    outcome = cli(*argv, api=api)
    assert outcome.status == 1
    assert outcome.json() == {"kind": "Error", "spec": {"source": "grpc"},
                              "status": {"code": 14, "message": "connection refused"}}
    assert api.calls[0] == ("GetInterface", pb.GetInterfaceRequest(interface_id=b"vm1"))


def test_address_and_timeout(monkeypatch):
    api = FakeApi()
    monkeypatch.delenv("DP_GRPC_PORT", raising=False)
    cli("get", "init", api=api)
    assert (api.address, api.timeout) == ("localhost:1337", 4.0)
    monkeypatch.setenv("DP_GRPC_PORT", "4242")
    cli("get", "init", api=api)
    assert api.address == "localhost:4242"
    cli("--address", "[fc00::1]:99", "--connect-timeout", "1m500ms", "get", "init", api=api)
    assert (api.address, api.timeout) == ("[fc00::1]:99", 60.5)


@pytest.mark.parametrize("flag, value, reason", [
    ("--address", "nohost", "missing port in address"),
    ("--connect-timeout", "4", 'time: missing unit in duration "4"'),
])
def test_bad_connection_flags(flag, value, reason):
    message = client_error(cli(flag, value, "-o", "json", "get", "init"))
    assert message == f'invalid argument "{value}" for "{flag}" flag: {reason}'


@pytest.mark.parametrize("argv, rpc", [
    ("add iface --id=a --vni=1 --ipv4=1.2.3.4 --device=d", "CreateInterface"),
    ("del ifaces --id=a", "DeleteInterface"),
    ("list iface", "ListInterfaces"),
    ("get interfaces", "ListInterfaces"),  # get without --id lists
    ("create rt --prefix=1.0.0.0/8 --next-hop-vni=0 --next-hop-ip=fc00::1 --vni=1",
     "CreateRoute"),
    ("list rts --vni=1", "ListRoutes"),
    ("get route --vni=1", "ListRoutes"),
    ("add prfx --prefix=1.0.0.0/8 --interface-id=a", "CreatePrefix"),
    ("get prefix --interface-id=a", "ListPrefixes"),
    ("create lbprfx --prefix=1.0.0.0/8 --interface-id=a", "CreateLoadBalancerPrefix"),
    ("list loadbalancer-prefixes --interface-id=a", "ListLoadBalancerPrefixes"),
    ("add vip --vip=1.2.3.4 --interface-id=a", "CreateVip"),
    ("get vips --interface-id=a", "GetVip"),
    ("create lb --id=l --vni=1 --vip=1.2.3.4 --lbports=TCP/80", "CreateLoadBalancer"),
    ("list lbs", "ListLoadBalancers"),
    ("get loadbalancer --id=l", "GetLoadBalancer"),
    ("add lbtrgt --target-ip=fc00::1 --lb-id=l", "CreateLoadBalancerTarget"),
    ("get lbtarget --lb-id=l", "ListLoadBalancerTargets"),
    ("add translation --interface-id=a --nat-ip=1.2.3.4 --minport=1 --maxport=2", "CreateNat"),
    ("list nats --nat-ip=0.0.0.0 --nat-type=neighbor", "ListNeighborNats"),
    ("add nnat --nat-ip=1.2.3.4 --vni=1 --minport=1 --maxport=2 --underlayroute=fc00::1",
     "CreateNeighborNat"),
    ("del ngbnat --nat-ip=1.2.3.4 --vni=1 --minport=1 --maxport=2", "DeleteNeighborNat"),
    ("add fw-rule --interface-id=a --rule-id=r --direction=ingress --action=accept "
     "--src=0.0.0.0/0 --dst=0.0.0.0/0", "CreateFirewallRule"),
    ("list fw-rules --interface-id=a", "ListFirewallRules"),
    ("get fwrule --interface-id=a --rule-id=r", "GetFirewallRule"),
    ("get vni --vni=1 --vni-type=0", "CheckVniInUse"),
    ("reset vni --vni=1", "ResetVni"),
    ("get version", "GetVersion"),
    ("capture start --sink-node-ip=fc00::1 --udp-src-port=1 --udp-dst-port=2", "CaptureStart"),
    ("capture stop", "CaptureStop"),
    ("capture status", "CaptureStatus"),
])
def test_commands_and_aliases(argv, rpc):
    api = FakeApi()
    outcome = cli(*argv.split(), api=api)
    assert outcome.status == 1 and "connection refused" in outcome.err
    assert api.rpcs[:1] == [rpc]


SAMPLES = {"id": "x", "str": "1", "addr": "1.2.3.4", "prefix": "1.0.0.0/8", "u8": "0",
           "u32": "1", "u64": "1", "i32": "-1", "lbports": "TCP/80", "list": "a"}


def answer_everything(api_rpcs):
    """Replies for every RPC: the empty (successful) response message."""
    service = pb.DESCRIPTOR.services_by_name["DPDKironcore"]
    return {m.name: (lambda req, name=m.output_type.name: ok(getattr(pb, name)()))
            for m in service.methods if m.name in api_rpcs}


def minimal_argv(cmd):
    words = [cmd.verb] + ([cmd.noun] if cmd.noun else [])
    return words + [f"--{f.name}={SAMPLES[f.kind]}" for f in cmd.flags
                    if f.required or f.kind == "id"]


ALL_RPCS = {m.name for m in pb.DESCRIPTOR.services_by_name["DPDKironcore"].methods}


@pytest.mark.parametrize("fmt", ["json", "yaml", "table", "name"])
def test_every_command_runs_and_renders(fmt):
    """Each command with its required flags against a service that answers every RPC
    successfully: exit 0 and output in the format; together they reach every RPC."""
    reached = set()
    for cmd in REGISTRY:
        api = FakeApi(answer_everything(ALL_RPCS))
        if cmd.verb == "init":
            api.replies["CheckInitialized"] = not_initialized
        argv = minimal_argv(cmd)
        if cmd.noun in ("interface", "loadbalancer") and cmd.verb in ("get", "list"):
            argv.append("-w")
        outcome = cli(*argv, "-o", fmt, api=api)
        assert (outcome.status, outcome.err) == (0, ""), (argv, outcome)
        if fmt == "json":
            assert json.loads(outcome.out)["kind"]
        elif fmt == "yaml":
            assert "kind:" in outcome.out
        reached.update(api.rpcs)
    assert reached == ALL_RPCS


def test_default_output_per_verb():
    created = pb.CreateInterfaceResponse(underlay_route=b"fc00::8000:0:1")
    created.vf.name = "dtapvf_0"
    api = FakeApi({"CreateInterface": lambda req: ok(created),
                   "CheckVniInUse": lambda req: ok(pb.CheckVniInUseResponse(in_use=True))})
    outcome = cli("create", "interface", "--id=vm1", "--vni=7", "--ipv4=10.0.0.1",
                  "--device=net_tap2", api=api)
    assert outcome == Outcome(0, "interface/vm1 created, underlay route: fc00::8000:0:1\n", "")
    outcome = cli("get", "vni", "--vni=7", "--vni-type=0", api=api)
    assert outcome.out == " VNI  VniType  inUse\n   7        0  true\n"


def test_create_interface_request():
    created = pb.CreateInterfaceResponse(underlay_route=b"fc00::8000:0:1")
    created.vf.name = "dtapvf_0"
    api = FakeApi({"CreateInterface": lambda req: ok(created)})
    outcome = cli("create", "interface", "--id=vm1", "--vni=0x10", "--ipv4=10.0.0.1",
                  "--device=net_tap2", "--pxe-server=10.0.0.9", "--pxe-file-name=boot.ipxe",
                  "--total-meter-rate=100", "--underlay=fc00::8000:0:1", "--hostname=h1",
                  "-o", "json", api=api)
    (rpc, req), = api.calls
    assert req == pb.CreateInterfaceRequest(
        interface_id=b"vm1", vni=16, ipv4_config=pb.IpConfig(primary_address=b"10.0.0.1"),
        ipv6_config=pb.IpConfig(primary_address=b"::"), device_name="net_tap2",
        pxe_config=pb.PxeConfig(next_server="10.0.0.9", boot_filename="boot.ipxe"),
        metering_parameters=pb.MeteringParams(total_rate=100),
        preferred_underlay_route=b"fc00::8000:0:1", hostname="h1")
    assert outcome.json()["spec"] == {
        "vni": 16, "device": "net_tap2", "primary_ipv4": "10.0.0.1", "primary_ipv6": "::",
        "underlay_route": "fc00::8000:0:1", "virtual_function": {"name": "dtapvf_0"},
        "pxe": {"next_server": "10.0.0.9", "boot_filename": "boot.ipxe"},
        "metering": {"total_rate": 100}, "hostname": "h1"}


def test_pxe_needs_both_flags():
    api = FakeApi()
    cli("create", "interface", "--id=vm1", "--vni=1", "--ipv4=10.0.0.1", "--device=d",
        "--pxe-server=10.0.0.9", api=api)
    assert not api.calls[0][1].HasField("pxe_config")


def test_required_flags():
    message = client_error(cli("create", "interface", "--id", "vm1", "-o", "json"))
    assert message == 'required flag(s) "vni", "ipv4", "device" not set'


@pytest.mark.parametrize("argv, message", [
    (["add", "vip", "--vip=xxx", "--interface-id=a"],
     'invalid argument "xxx" for "--vip" flag: ParseAddr("xxx"): unable to parse IP'),
    (["add", "prefix", "--prefix=10.0.0.0", "--interface-id=a"],
     'invalid argument "10.0.0.0" for "--prefix" flag: netip.ParsePrefix("10.0.0.0"): no \'/\''),
    (["list", "routes", "--vni=-1"],
     'invalid argument "-1" for "--vni" flag: strconv.ParseUint: parsing "-1": invalid syntax'),
    (["add", "nat", "--interface-id=a", "--nat-ip=1.2.3.4", "--minport=1",
      "--maxport=99999999999"],
     'invalid argument "99999999999" for "--maxport" flag: strconv.ParseUint: parsing '
     '"99999999999": value out of range'),
    (["add", "lb", "--id=l", "--vni=1", "--vip=1.2.3.4", "--lbports=TCP/80,GRE/1"],
     'invalid argument "TCP/80,GRE/1" for "--lbports" flag: "GRE/1": unsupported protocol '
     '"GRE"'),
    (["list", "nats", "--nat-ip=0.0.0.0", "--nat-type=both"],
     "nat type can be only: Any = 0/Local = 1/Neigh(bor) = 2"),
    (["reset", "vni", "--vni=1", "--vni-type=3"],
     "VNI type can be only: ipv4 = 0/ipv6 = 1/both = 2"),
    (["capture", "start", "--sink-node-ip=fc00::1", "--udp-src-port=1", "--udp-dst-port=2",
      "--pf=2"], "error converting PF indexes: pf index must be 0 or 1"),
    (["get", "interface", "--id=a", "--pretty=maybe"],
     'invalid argument "maybe" for "--pretty" flag: strconv.ParseBool: parsing "maybe": '
     "invalid syntax"),
    (["get", "interface", "--id=a", "--bogus"], "unrecognized arguments: --bogus"),
    (["get", "interface", "--id=a", "extra"], "unrecognized arguments: extra"),
    (["get"], "subcommand is required (see dplane-cli --help)"),
    ([], "subcommand is required (see dplane-cli --help)"),
])
def test_client_errors(argv, message):
    api = FakeApi()
    assert client_error(cli(*argv, "-o", "json", api=api)) == message
    assert api.calls == []  # nothing reaches the service


def test_unknown_output_format():
    outcome = cli("get", "init", "-o", "xml")
    assert outcome.status == 1 and outcome.out == ""
    assert outcome.err == ('Error running command: invalid argument "xml" for "--output" flag: '
                           "must be one of json|yaml|table|name\n")


def test_parse_errors_are_reported_in_the_requested_format():
    outcome = cli("-o", "yaml", "get", "interface", "--nope")
    assert outcome.status == 1 and outcome.out.startswith("kind: Error\n")
    outcome = cli("get", "nothing")
    assert outcome.status == 1 and outcome.out == ""
    assert outcome.err.startswith("Error running command: argument NOUN: invalid choice")


def test_bool_flags_with_values():
    api = FakeApi({"CheckInitialized": lambda req: ok(pb.CheckInitializedResponse(uuid="U"))})
    assert cli("get", "init", "-o", "json", "--pretty=false", api=api).out.count("\n") == 1
    assert cli("get", "init", "-o", "json", "--pretty=1", api=api).out.count("\n") > 1


FW = ["create", "fwrule", "--interface-id=vm1", "--rule-id=r1", "--direction=ingress",
      "--action=accept", "--src=0.0.0.0/0", "--dst=10.0.0.0/8"]


@pytest.mark.parametrize("extra, message", [
    (["--protocol=tcp"], 'required flag(s) "src-port-min", "dst-port-min" not set'),
    (["--protocol=udp", "--src-port-min=5", "--dst-port-min=-1"],
     'required flag(s) "src-port-max" not set'),
    (["--protocol=icmp", "--icmp-type=8"], 'required flag(s) "icmp-code" not set'),
    (["--protocol=gre"], "protocol can be only: icmp = 1/tcp = 6/udp = 17"),
    (["--protocol=tcp", "--src-port-min=0", "--src-port-max=5", "--dst-port-min=-1"],
     "ports can only be -1 or <1,65535>"),
    (["--protocol=tcp", "--src-port-min=9", "--src-port-max=5", "--dst-port-min=-1"],
     "min port must be lower or equal to max port"),
    (["--priority=65537"], "priority can be only: <0,65536"),
])
def test_firewall_rule_checks(extra, message):
    assert client_error(cli(*FW, *extra, "-o", "json")) == message


def test_firewall_rule_request_and_document():
    api = FakeApi({"CreateFirewallRule": lambda req: ok(pb.CreateFirewallRuleResponse())})
    argv = [*FW, "--direction=Egress", "--action=1", "--protocol=6", "--src-port-min=-1",
            "--dst-port-min=80", "--dst-port-max=443", "-o", "json"]
    doc = cli(*argv, api=api).json()
    rule = api.calls[0][1].rule
    assert (rule.id, rule.direction, rule.action, rule.priority) == (b"r1", pb.EGRESS,
                                                                     pb.ACCEPT, 1000)
    assert rule.protocol_filter.tcp == pb.TcpFilter(src_port_lower=-1, src_port_upper=-1,
                                                    dst_port_lower=80, dst_port_upper=443)
    assert doc["spec"] == {
        "id": "r1", "direction": "Egress", "action": "Accept", "priority": 1000,
        "source_prefix": "0.0.0.0/0", "destination_prefix": "10.0.0.0/8",
        "protocol_filter": {"Filter": {"Tcp": {"src_port_lower": -1, "src_port_upper": -1,
                                               "dst_port_lower": 80, "dst_port_upper": 443}}}}
    no_protocol = cli(*FW, "-o", "json", api=api).json()
    assert no_protocol["spec"]["protocol_filter"] == {"Filter": None}


def not_initialized(request):
    raise GrpcError(10, "ABORTED", "not initialized")


def test_init_initializes_an_uninitialized_service():
    api = FakeApi({"CheckInitialized": not_initialized,
                   "Initialize": lambda req: ok(pb.InitializeResponse(uuid="U-1"))})
    outcome = cli("init", "-o", "json", api=api)
    assert api.rpcs == ["CheckInitialized", "Initialize"]
    assert outcome.json() == {"kind": "Initialized", "metadata": {}, "spec": {"uuid": "U-1"},
                              "status": {"code": 0, "message": "Success"}}


def test_init_refuses_an_initialized_service():
    api = FakeApi({"CheckInitialized": lambda req: ok(pb.CheckInitializedResponse(uuid="U-2")),
                   "Initialize": lambda req: pytest.fail("must not re-initialise")})
    assert client_error(cli("init", "-o", "json", api=api)) == (
        "error dp-service already initialized, uuid: U-2")


@pytest.mark.parametrize("error", [GrpcError(13, "INTERNAL", "ipc write failed"),
                                   GrpcError(10, "ABORTED", "something else")])
def test_init_other_failures(error):
    def fail(req):
        raise error
    api = FakeApi({"CheckInitialized": fail})
    assert client_error(cli("init", "-o", "json", api=api)) == "error checking initialization"
    assert api.rpcs == ["CheckInitialized"]


def test_init_unreachable_service_is_a_grpc_error():
    def fail(req):
        raise ConnectError("localhost:1337")
    outcome = cli("init", "-o", "json", api=FakeApi({"CheckInitialized": fail}))
    assert outcome.status == 1 and outcome.json()["spec"]["source"] == "grpc"


def interfaces_reply(*ids_vnis):
    return ok(pb.ListInterfacesResponse(interfaces=[pb.Interface(id=i, vni=v)
                                                    for i, v in ids_vnis]))


def prefixes_reply(*texts):
    return ok(pb.ListPrefixesResponse(prefixes=[
        pb.Prefix(ip=pb.IpAddress(address=t.split("/")[0].encode()), length=int(t.split("/")[1]),
                  underlay_route=b"fc00::1") for t in texts]))


def test_list_prefixes_fans_out_over_interfaces():
    per_iface = {b"b": prefixes_reply("10.0.0.0/24", "9.0.0.0/8"), b"a": prefixes_reply()}
    api = FakeApi({"ListInterfaces": lambda req: interfaces_reply((b"b", 5), (b"a", 6)),
                   "ListPrefixes": lambda req: per_iface[req.interface_id]})
    doc = cli("list", "prefixes", "-o", "json", api=api).json()
    assert api.rpcs == ["ListInterfaces", "ListPrefixes", "ListPrefixes"]
    assert doc["kind"] == "PrefixList" and doc["metadata"] == {"interface_id": ""}
    assert [(i["spec"]["prefix"], i["metadata"]) for i in doc["items"]] == [
        ("10.0.0.0/24", {"interface_id": "b", "vni": 5}),
        ("9.0.0.0/8", {"interface_id": "b", "vni": 5})]


def test_list_prefixes_of_one_interface_gets_its_vni():
    got = ok(pb.GetInterfaceResponse(interface=pb.Interface(id=b"a", vni=42)))
    api = FakeApi({"ListPrefixes": lambda req: prefixes_reply("10.0.0.0/24"),
                   "GetInterface": lambda req: got})
    doc = cli("list", "prefixes", "--interface-id=a", "-o", "json", api=api).json()
    assert api.rpcs == ["ListPrefixes", "GetInterface"]
    assert doc["items"][0]["metadata"] == {"interface_id": "a", "vni": 42}
    assert doc["status"] == {"code": 0, "message": "Success"}


def test_list_nats_any_asks_both_and_sorts_by_vni():
    local = ok(pb.ListLocalNatsResponse(nat_entries=[
        pb.NatEntry(nat_ip=pb.IpAddress(address=b"10.0.0.1"), min_port=1, max_port=2, vni=9)]))
    neigh = ok(pb.ListNeighborNatsResponse(nat_entries=[
        pb.NatEntry(underlay_route=b"fc00::9", min_port=3, max_port=4, vni=1,
                    actual_nat_ip=pb.IpAddress(address=b"1.2.3.4"))]))
    api = FakeApi({"ListLocalNats": lambda req: local, "ListNeighborNats": lambda req: neigh})
    doc = cli("list", "nats", "--nat-ip=1.2.3.4", "-o", "json", api=api).json()
    assert api.rpcs == ["ListLocalNats", "ListNeighborNats"]
    assert doc["metadata"] == {"nat_ip": "1.2.3.4", "nat_type": "0"}
    assert [(i["kind"], i["spec"]) for i in doc["items"]] == [
        ("NeighborNat", {"min_port": 3, "max_port": 4, "underlay_route": "fc00::9", "vni": 1,
                         "actual_nat_ip": "1.2.3.4"}),
        ("Nat", {"nat_ip": "10.0.0.1", "min_port": 1, "max_port": 2, "vni": 9})]
    # an empty type is "any" too, and left out of the metadata (Go's omitempty)
    doc = cli("list", "nats", "--nat-ip=1.2.3.4", "--nat-type=", "-o", "json", api=api).json()
    assert doc["metadata"] == {"nat_ip": "1.2.3.4"} and len(doc["items"]) == 2


def test_server_error_of_a_fan_out():
    api = FakeApi({"ListInterfaces": lambda req: interfaces_reply((b"a", 1)),
                   "ListFirewallRules": lambda req: pb.ListFirewallRulesResponse(
                       status=pb.Status(code=205, message="NO_VM"))})
    outcome = cli("list", "fwrules", api=api)
    assert outcome == Outcome(2, "firewallrulelist server error: 205, NO_VM\n", "")


# --- fuzz -----------------------------------------------------------------------------------

FLAG_NAMES = sorted({f"--{flag.name}" for cmd in REGISTRY for flag in cmd.flags})
WORDS = sorted({cmd.verb for cmd in REGISTRY} | {"add", "del"} |
               {name for names in NOUNS.values() for name in names})
GLOBALS = ["-o", "--output", "--pretty", "-w", "--wide", "--address", "--connect-timeout",
           "-v", "--version", "-h", "--", "-", ""]
VALUES = ["", "0", "-1", "1", "65536", "0x1f", "1.2.3.4", "10.0.0.0/8", "fc00::1", "::/0",
          "json", "yaml", "table", "name", "xml", "4s", "0ms", "TCP/80", "tcp", "icmp", "both",
          "true", "maybe", "vm1", "a,b", "127.0.0.1:1", "x" * 70, "\u00e9", "\udcff", "%s"]
token = st.one_of(
    st.sampled_from(WORDS), st.sampled_from(FLAG_NAMES), st.sampled_from(GLOBALS),
    st.sampled_from(VALUES),
    st.builds(lambda f, v: f"{f}={v}", st.sampled_from(FLAG_NAMES + GLOBALS[:7]),
              st.sampled_from(VALUES) | st.text(max_size=8)),
    st.text(max_size=12))


@st.composite
def command_lines(draw):
    """A real command with most of its flags, values sometimes valid, sometimes not, and a
    few stray tokens anywhere."""
    cmd = draw(st.sampled_from(REGISTRY))
    argv = [cmd.verb] + ([draw(st.sampled_from(NOUNS[cmd.noun]))] if cmd.noun else [])
    for flag in cmd.flags:
        if draw(st.integers(0, 9)) < (9 if flag.required else 4):
            value = draw(st.one_of(st.just(SAMPLES[flag.kind]), st.sampled_from(VALUES),
                                   st.text(max_size=10)))
            argv += draw(st.sampled_from([[f"--{flag.name}={value}"], [f"--{flag.name}", value]]))
    for stray in draw(st.lists(token, max_size=1)):
        argv.insert(draw(st.integers(0, len(argv))), stray)
    return argv


argv_lists = st.one_of(
    st.lists(token, max_size=10),
    st.builds(lambda verb, noun, rest: [verb, noun, *rest], st.sampled_from(WORDS),
              st.sampled_from(WORDS), st.lists(token, max_size=8)),
    command_lines(), command_lines(), command_lines())


@settings(max_examples=2000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(argv_lists)
def test_fuzz_never_crashes(argv):
    outcome = cli(*argv)  # any exception (a would-be traceback) fails the test
    assert outcome.status in (0, 1, 2)
    assert "Traceback" not in outcome.err
