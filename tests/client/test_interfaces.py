# SPDX-License-Identifier: Apache-2.0
"""dplane-cli against a real service: init, versions, interfaces and VNIs, each JSON document
compared field by field with what the gRPC API returns; the three error sources; table and
name output; RPCs the service does not implement yet."""
from __future__ import annotations

import subprocess
import sys
import time

from clientutil import VF0, VF1, Outcome, address, run_console, run_inprocess
from dplane._version import __version__
from dplane.proto import dpdk_pb2 as pb

UNDERLAY1, UNDERLAY2 = "fc00:1::8000:0:1", "fc00:1::8000:0:2"  # preferred, so stable


def grpc_interface(svc, iface_id):
    reply = svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=iface_id.encode()),
                                 timeout=5)
    assert reply.status.code == 0
    return reply.interface


def assert_matches(doc, iface):
    """An Interface document against the gRPC Interface message, field by field."""
    spec = doc["spec"]
    assert doc["kind"] == "Interface" and doc["metadata"] == {"id": iface.id.decode()}
    assert spec["vni"] == iface.vni
    assert spec["device"] == iface.pci_name
    assert spec["primary_ipv4"] == iface.primary_ipv4.decode()
    assert spec["primary_ipv6"] == iface.primary_ipv6.decode()
    assert spec["underlay_route"] == iface.underlay_route.decode()
    rates = {"total_rate": iface.meteringParams.total_rate,
             "public_rate": iface.meteringParams.public_rate}
    assert spec["metering"] == {key: value for key, value in rates.items() if value}
    assert spec.get("hostname", "") == iface.hostname


def test_init_checks_first(start_service):
    svc = start_service()  # not initialised
    addr = address(svc)
    before = run_inprocess(addr, "get", "init", "-o", "json")
    assert before.status == 1
    assert before.json() == {"kind": "Error", "spec": {"source": "grpc"},
                             "status": {"code": 10, "message": "not initialized"}}
    first = run_inprocess(addr, "init", "-o", "json")
    assert first.status == 0, first
    uuid = svc.api.CheckInitialized(pb.CheckInitializedRequest(), timeout=5).uuid
    assert first.json() == {"kind": "Initialized", "metadata": {}, "spec": {"uuid": uuid},
                            "status": {"code": 0, "message": "Success"}}
    again = run_inprocess(addr, "init")
    assert again == Outcome(1, "", "Error running command: error dp-service already "
                                       f"initialized, uuid: {uuid}\n")
    assert run_inprocess(addr, "get", "init").out == f" UUID\n {uuid}\n"


def test_version(svc, cli):
    reply = svc.api.GetVersion(pb.GetVersionRequest(client_protocol="t", client_name="t",
                                                    client_version="t"), timeout=5)
    doc = cli("get", "version", "-o", "json").json()
    assert doc == {"kind": "Version",
                   "metadata": {"client_protocol": __version__, "client_name": "dplane-cli",
                                "client_version": __version__},
                   "spec": {"service_protocol": reply.service_protocol,
                            "service_version": reply.service_version},
                   "status": {"code": 0, "message": "Success"}}
    assert cli("get", "version", "-o", "name").out == f"version/dplane-cli-{__version__}\n"


def test_create_interface(svc, cli):
    outcome = cli("create", "interface", "--id=vm1", "--vni=100", "--ipv4=10.0.0.1",
                  "--ipv6=fd00::1", f"--device={VF0}", f"--underlay={UNDERLAY1}",
                  "--total-meter-rate=1000", "--public-meter-rate=100", "--hostname=web-1",
                  "-o", "json")
    assert outcome.status == 0, outcome
    doc = outcome.json()
    assert_matches(doc, grpc_interface(svc, "vm1"))
    assert doc["spec"]["virtual_function"] == {"name": "dtapvf_0"}
    assert doc["spec"]["metering"] == {"total_rate": 1000, "public_rate": 100}
    assert doc["status"] == {"code": 0, "message": "Success"}
    assert "pxe" not in doc["spec"]


def test_create_name_output_is_the_default(svc, cli):
    outcome = cli("add", "iface", "--id=vm2", "--vni=200", "--ipv4=10.0.0.2", f"--device={VF1}",
                  f"--underlay={UNDERLAY2}")
    assert outcome == Outcome(0, f"interface/vm2 created, underlay route: {UNDERLAY2}\n",
                                    "")


def test_get_and_list_match_grpc(svc, cli, make_interface):
    make_interface("vm2", vni=200, device=VF1, ipv4="10.0.0.2", ipv6="::")
    make_interface("vm1", vni=100, device=VF0)
    got = cli("get", "interface", "--id", "vm1", "-o", "json")
    assert got.status == 0
    assert_matches(got.json(), grpc_interface(svc, "vm1"))
    assert got.json()["spec"]["metering"] == {}  # both rates 0
    assert "hostname" not in got.json()["spec"]
    # as the Go CLI: an interface converted from the reply carries no Status of its own
    assert got.json()["status"] == {"code": 0, "message": ""}

    listed = cli("list", "interfaces", "-o", "json").json()
    assert listed["kind"] == "InterfaceList" and listed["metadata"] == {}
    assert listed["status"] == {"code": 0, "message": "Success"}
    assert [item["metadata"]["id"] for item in listed["items"]] == ["vm1", "vm2"]  # sorted
    ifaces = {i.id: i for i in svc.api.ListInterfaces(pb.ListInterfacesRequest(),
                                                      timeout=5).interfaces}
    for item in listed["items"]:
        assert_matches(item, ifaces[item["metadata"]["id"].encode()])
        assert item["status"] == {"code": 0, "message": ""}
    assert cli("get", "interface", "-o", "json").json() == listed  # get without --id lists


def test_table_and_name_output(svc, cli, make_interface):
    make_interface("vm2", vni=200, device=VF1, ipv4="10.0.0.2", ipv6="::", underlay=UNDERLAY2)
    make_interface("vm1", vni=100, device=VF0, underlay=UNDERLAY1)
    assert cli("list", "interfaces").out == (
        " ID   VNI  Device    IPv4      IPv6     UnderlayRoute     TotalMeterRate"
        "  PublicMeterRate\n"
        " vm1  100  net_tap2  10.0.0.1  fd00::1  fc00:1::8000:0:1               0"
        "                0\n"
        " vm2  200  net_tap3  10.0.0.2  ::       fc00:1::8000:0:2               0"
        "                0\n")
    assert cli("list", "interfaces", "-o", "name").out == "interface/vm1\ninterface/vm2\n"
    assert cli("get", "interface", "--id=vm2", "-o", "name").out == "interface/vm2\n"
    wide = cli("get", "interface", "--id=vm1", "-w")  # no NAT, no VIP: left empty
    assert wide.status == 0 and wide.out.splitlines()[0].endswith("Nat  VirtualIP")


def test_delete(svc, cli, make_interface):
    make_interface("vm1")
    assert cli("delete", "interface", "--id=vm1") == Outcome(
        0, "interface/vm1 deleted\n", "")
    assert not svc.api.ListInterfaces(pb.ListInterfacesRequest(), timeout=5).interfaces


def test_server_error(svc, cli):
    missing = cli("delete", "interface", "--id", "nope", "-o", "json")
    assert (missing.status, missing.err) == (2, "")
    assert missing.json() == {"kind": "Error", "spec": {"source": "server"},
                              "status": {"code": 201, "message": "NOT_FOUND"}}
    assert cli("get", "interface", "--id=nope") == Outcome(
        2, "interface/nope server error: 201, NOT_FOUND\n", "")


def test_server_error_on_duplicate(svc, cli, make_interface):
    make_interface("vm1")
    again = cli("create", "interface", "--id=vm1", "--vni=100", "--ipv4=10.0.0.9",
                f"--device={VF1}", "-o", "yaml")
    assert again.status == 2 and "source: server" in again.out
    assert "message: VM_HANDLE" in again.out


def test_grpc_validation_errors(svc, cli):
    empty_id = cli("create", "interface", "--id=", "--vni=100", "--ipv4=10.0.0.1",
                   f"--device={VF0}", "-o", "json")
    assert empty_id.status == 1
    assert empty_id.json() == {"kind": "Error", "spec": {"source": "grpc"},
                               "status": {"code": 3, "message": "Invalid interface_id"}}
    long_host = cli("create", "interface", "--id=vm1", "--vni=100", "--ipv4=10.0.0.1",
                    f"--device={VF0}", "--hostname=" + "h" * 64)
    assert long_host == Outcome(
        1, "", "Error running command: rpc error: code = InvalidArgument desc = Invalid "
               "hostname\n")


def test_client_error_sends_nothing(svc, cli):
    bad = cli("create", "interface", "--id=vm1", "--vni=100", "--ipv4=10.0.0.256",
              f"--device={VF0}", "-o", "json")
    assert bad.status == 1
    assert bad.json()["status"] == {
        "code": 1000, "message": 'invalid argument "10.0.0.256" for "--ipv4" flag: '
                                 'ParseAddr("10.0.0.256"): unable to parse IP'}
    assert not svc.api.ListInterfaces(pb.ListInterfacesRequest(), timeout=5).interfaces


def test_vni(svc, cli, make_interface):
    make_interface("vm1", vni=100)
    for vni, vni_type in ((100, 0), (100, 1), (4242, 0)):
        doc = cli("get", "vni", f"--vni={vni}", f"--vni-type={vni_type}", "-o", "json").json()
        in_use = svc.api.CheckVniInUse(pb.CheckVniInUseRequest(vni=vni, type=vni_type),
                                       timeout=5).in_use
        assert doc == {"kind": "Vni", "metadata": {"vni": vni, "vni_type": vni_type},
                       "spec": {"in_use": in_use}, "status": {"code": 0, "message": "Success"}}
    wrong = cli("get", "vni", "--vni=100", "--vni-type=2", "-o", "json")
    assert wrong.status == 2 and wrong.json()["status"] == {"code": 203,
                                                            "message": "WRONG_TYPE"}
    assert cli("reset", "vni", "--vni=100").out == "vni/100 reset\n"
    assert cli("reset", "vni", "--vni=100", "--vni-type=ipv4").status == 2


def test_capture_start_status_stop(svc, cli, make_interface):
    make_interface("vm1")
    flags = ("--sink-node-ip=fd00:99::1", "--udp-src-port=3000", "--udp-dst-port=3001")
    try:
        started = cli("capture", "start", *flags, "--vf=vm1", "--pf=0")
        assert started.status == 0
        assert started.out.splitlines()[1].split() == ["fd00:99::1", "3000", "3001", "0", "vm1"]
        status = cli("capture", "status", "-o", "json")
        assert status.status == 0
        spec = status.json()["spec"]
        assert spec["operation_status"] is True
        assert spec["capture_config"] == {"sink_node_ipv6": "fd00:99::1", "udp_src_port": 3000,
                                          "udp_dst_port": 3001}
        assert len(spec["interfaces"]) == 2
        again = cli("capture", "start", *flags, "--vf=vm1", "-o", "json")
        assert again.status == 2
        assert again.json()["status"] == {"code": 210, "message": "ALREADY_ACTIVE"}
    finally:
        stop = cli("capture", "stop")
    assert (stop.status, stop.out.split()) == (0, ["Stopped", "Interface", "2"])
    assert cli("capture", "status", "-o", "json").json()["spec"]["operation_status"] is False
    again = cli("capture", "stop", "-o", "json")
    assert again.status == 2 and again.json()["status"]["code"] == 211


def test_unreachable_service_is_a_grpc_error():
    started = time.monotonic()
    outcome = run_inprocess("127.0.0.1:1", "--connect-timeout=300ms", "get", "init", "-o",
                            "json")
    assert time.monotonic() - started < 3
    assert outcome.status == 1
    assert outcome.json() == {"kind": "Error", "spec": {"source": "grpc"}, "status": {
        "code": 4, "message": "error connecting to 127.0.0.1:1: context deadline exceeded"}}


def test_console_script(svc, console, make_interface):
    """The installed script: same documents and exit statuses, no traceback."""
    make_interface("vm1", underlay=UNDERLAY1)
    got = console("get", "interface", "--id=vm1", "-o", "json")
    assert got.status == 0
    assert_matches(got.json(), grpc_interface(svc, "vm1"))
    assert console("get", "interface", "--id=nope", "-o", "json").status == 2
    assert console("get", "interface", "--id=vm1", "--vni=1").status == 1
    refused = run_console(None, "--connect-timeout=200ms", "get", "init",
                          env={"DP_GRPC_PORT": "1"})  # the default address is localhost
    assert refused == Outcome(1, "", "Error running command: error connecting to localhost:1: "
                                     "context deadline exceeded\n")


def test_version_flag_matches_the_service():
    service = subprocess.run([sys.executable, "-m", "dplane", "--", "--version"],
                             capture_output=True, text=True, timeout=60)
    cli_version = run_console(None, "-v")
    assert service.stdout.startswith("DP Service version ")
    assert cli_version.out == "dplane-cli version " + service.stdout.split("version ", 1)[1]
    assert cli_version.status == 0
