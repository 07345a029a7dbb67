# SPDX-License-Identifier: Apache-2.0
"""create|get|delete interface, list interfaces."""
from __future__ import annotations

from typing import Any

from dplane.proto import dpdk_pb2 as pb

from .client import Api, checked
from .documents import (
    Doc,
    interface_doc,
    listing,
    metering,
    nat_doc,
    obj,
    status_of,
    text,
    underlay_pb,
    vip_doc,
)
from .errors import CliError
from .sorting import sort_items
from .spec import Flag, Options, Result, command, sort_flag

ID = Flag("id", "id", "ID of the interface.")


def _create_request(opts: Options) -> pb.CreateInterfaceRequest:
    req = pb.CreateInterfaceRequest(
        interface_type=pb.VIRTUAL, interface_id=opts.id, vni=opts.vni,
        ipv4_config=pb.IpConfig(primary_address=str(opts.ipv4).encode()),
        ipv6_config=pb.IpConfig(primary_address=str(opts.ipv6).encode()),
        device_name=opts.device,
        metering_parameters=pb.MeteringParams(total_rate=opts.total_meter_rate,
                                              public_rate=opts.public_meter_rate),
        preferred_underlay_route=underlay_pb(opts.underlay), hostname=opts.hostname)
    if opts.pxe_server and opts.pxe_file_name:  # the Go CLI sends PXE only with both
        req.pxe_config.next_server = opts.pxe_server
        req.pxe_config.boot_filename = opts.pxe_file_name
    return req


@command("create", "interface", "Create an interface",
         Flag("id", "id", "ID of the interface.", required=True),
         Flag("vni", "u32", "VNI to add the interface to.", required=True),
         Flag("ipv4", "addr", "IPv4 address to assign to the interface (0.0.0.0: none).",
              required=True),
         Flag("ipv6", "addr", "IPv6 address to assign to the interface.", default="::"),
         Flag("device", "str", "Device to allocate (e.g. net_tap2 or a representor).",
              required=True),
         Flag("underlay", "addr", "Preferred IPv6 underlay address (default: generated)."),
         Flag("pxe-server", "str", "PXE next server.", default=""),
         Flag("pxe-file-name", "str", "PXE boot file name.", default=""),
         Flag("total-meter-rate", "u64", "Total meter rate (Mbit/s).", default="0"),
         Flag("public-meter-rate", "u64", "Public meter rate (Mbit/s).", default="0"),
         Flag("hostname", "str", "Hostname handed to the VM over DHCP.", default=""))
def create_interface(api: Api, opts: Options) -> Result:
    req = _create_request(opts)
    reply = checked(api.call("CreateInterface", req), "Interface", text(opts.id))
    spec: dict[str, Any] = {"vni": opts.vni, "device": opts.device,
                            "primary_ipv4": str(opts.ipv4), "primary_ipv6": str(opts.ipv6),
                            "underlay_route": text(reply.underlay_route),
                            "virtual_function": {"name": reply.vf.name}}
    if req.HasField("pxe_config"):
        spec["pxe"] = {"next_server": opts.pxe_server, "boot_filename": opts.pxe_file_name}
    spec["metering"] = metering(req.metering_parameters)
    if opts.hostname:
        spec["hostname"] = opts.hostname
    doc = obj("Interface", {"id": text(opts.id)}, spec, status_of(reply))
    return Result(doc, f"created, underlay route: {spec['underlay_route']}")


def _add_nat_and_vip(api: Api, doc: Doc, iface_id: bytes) -> None:
    """-w: the interface's NAT and virtual IP, where it has them (errors are ignored)."""
    try:
        nat = checked(api.call("GetNat", pb.GetNatRequest(interface_id=iface_id)), "Nat", None)
        doc["spec"]["nat"] = nat_doc(text(iface_id), text(nat.nat_ip.address), nat.min_port,
                                     nat.max_port, text(nat.underlay_route), status_of(nat))
    except CliError:
        pass
    try:
        vip = checked(api.call("GetVip", pb.GetVipRequest(interface_id=iface_id)), "Vip", None)
        doc["spec"]["vip"] = vip_doc(text(iface_id), text(vip.vip_ip.address),
                                     text(vip.underlay_route), status_of(vip))
    except CliError:
        pass


@command("list", "interface", "List all interfaces", sort_flag())
def list_interfaces(api: Api, opts: Options) -> Result:
    reply = checked(api.call("ListInterfaces", pb.ListInterfacesRequest()), "InterfaceList",
                    None)
    items = [interface_doc(iface) for iface in reply.interfaces]
    if opts.wide:
        for item, iface in zip(items, reply.interfaces, strict=True):
            _add_nat_and_vip(api, item, iface.id)
    items = sort_items("InterfaceList", items, opts.sort_by)
    return Result(listing("InterfaceList", {}, items, status_of(reply)))


@command("get", "interface", "Get an interface (all of them without --id)", ID, sort_flag())
def get_interface(api: Api, opts: Options) -> Result:
    if not opts.id:
        return list_interfaces(api, opts)
    reply = checked(api.call("GetInterface", pb.GetInterfaceRequest(interface_id=opts.id)),
                    "Interface", text(opts.id))
    doc = interface_doc(reply.interface)  # converted from the payload: no Status, as in Go
    if opts.wide:
        _add_nat_and_vip(api, doc, opts.id)
    return Result(doc)


@command("delete", "interface", "Delete an interface",
         Flag("id", "id", "ID of the interface to delete.", required=True))
def delete_interface(api: Api, opts: Options) -> Result:
    reply = checked(api.call("DeleteInterface", pb.DeleteInterfaceRequest(interface_id=opts.id)),
                    "Interface", text(opts.id))
    return Result(obj("Interface", {"id": text(opts.id)}, {"vni": 0}, status_of(reply)),
                  "deleted")
