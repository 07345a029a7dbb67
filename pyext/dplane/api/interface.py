# SPDX-License-Identifier: Apache-2.0
"""CreateInterface, DeleteInterface, GetInterface, ListInterfaces."""
from __future__ import annotations

import ipaddress

from .. import _firmware
from ..control import ControlThread
from ..errors import InvalidArgument
from ..interfaces import NO_IPV4, NO_IPV6, Interface, Interfaces, InterfaceSpec
from ..proto import dpdk_pb2
from ..underlay import UnderlayGenerator
from . import api, rpc, validate


def create_spec(underlays: UnderlayGenerator,
                req: dpdk_pb2.CreateInterfaceRequest) -> InterfaceSpec:
    """Validate in dpservice's order: the first problem found is the one reported."""
    if not validate.IFACE_ID_RE.match(req.interface_id):
        raise InvalidArgument("Invalid interface_id")
    vni = validate.vni(req.vni)
    ipv4 = validate.ipv4(req.ipv4_config.primary_address)
    if ipv4 is None:
        raise InvalidArgument("Invalid ipv4_config.primary_address")
    ipv6 = validate.ipv6(req.ipv6_config.primary_address)
    if ipv6 is None:
        raise InvalidArgument("Invalid ipv6_config.primary_address")
    if ipv4 == NO_IPV4 and ipv6 == NO_IPV6:
        raise InvalidArgument("Invalid ipv4_config.primary_address and "
                              "ipv6_config.primary_address combination")
    # beyond dpservice, which takes these (a VM cannot use them; traffic to them would go to
    # every VM or none): same texts, the reason after a colon
    for field, addr, none in (("ipv4_config", ipv4, NO_IPV4), ("ipv6_config", ipv6, NO_IPV6)):
        reason = None if addr == none else validate.unusable(addr)
        if reason:
            raise InvalidArgument(f"Invalid {field}.primary_address: "
                                  f"{ipaddress.ip_address(addr)} is {reason}")
    spec = InterfaceSpec(id="", vni=vni, ipv4=ipv4, ipv6=ipv6, device="")
    pxe = req.pxe_config
    if pxe.next_server:
        if ipv6 == NO_IPV6:
            spec.pxe_family, server = _firmware.PXE_IPV4, validate.ipv4(pxe.next_server)
        else:
            spec.pxe_family, server = _firmware.PXE_IPV6, validate.ipv6(pxe.next_server)
        if server is None:
            raise InvalidArgument("Invalid pxe_config.next_server")
        if not validate.text_fits(pxe.boot_filename, _firmware.BOOT_FILE_LEN):
            raise InvalidArgument("Invalid pxe_config.boot_filename")
        spec.pxe_server, spec.boot_file = server, pxe.boot_filename
    if not validate.text_fits(req.device_name):
        raise InvalidArgument("Invalid device_name")
    spec.device = req.device_name
    spec.id = validate.interface_id(req.interface_id)
    if len(req.hostname.encode()) >= _firmware.HOSTNAME_LEN or "\0" in req.hostname:
        raise InvalidArgument("Invalid hostname")
    spec.hostname = req.hostname
    spec.preferred_underlay = underlays.preferred(req.preferred_underlay_route)
    spec.total_rate = req.metering_parameters.total_rate
    spec.public_rate = req.metering_parameters.public_rate
    return spec


def to_message(iface: Interface) -> dpdk_pb2.Interface:
    msg = dpdk_pb2.Interface(
        id=iface.id.encode(),
        vni=iface.vni,
        primary_ipv4=iface.ipv4_text.encode(),
        primary_ipv6=iface.ipv6_text.encode(),
        underlay_route=iface.underlay_text.encode(),
        pci_name=iface.port.dev.name,
        hostname=iface.spec.hostname,
    )
    # always sent, even with both rates 0: the Go client dereferences it
    msg.meteringParams.total_rate = iface.spec.total_rate
    msg.meteringParams.public_rate = iface.spec.public_rate
    msg.meteringParams.SetInParent()
    return msg


@api
class InterfaceApi:
    def __init__(self, control: ControlThread, interfaces: Interfaces,
                 underlays: UnderlayGenerator) -> None:
        self._control = control
        self._interfaces = interfaces
        self._underlays = underlays

    @rpc("CreateInterface")
    def create_interface(self, req: dpdk_pb2.CreateInterfaceRequest):
        spec = create_spec(self._underlays, req)
        iface = self._control.call(self._interfaces.create, spec)
        response = dpdk_pb2.CreateInterfaceResponse(underlay_route=iface.underlay_text.encode())
        response.vf.name = iface.port.name
        return response

    @rpc("DeleteInterface")
    def delete_interface(self, req: dpdk_pb2.DeleteInterfaceRequest):
        iface_id = validate.interface_id(req.interface_id)
        self._control.call(self._interfaces.delete, iface_id)
        return dpdk_pb2.DeleteInterfaceResponse()

    @rpc("GetInterface")
    def get_interface(self, req: dpdk_pb2.GetInterfaceRequest):
        iface_id = validate.interface_id(req.interface_id)
        iface = self._control.call(self._interfaces.get, iface_id)
        return dpdk_pb2.GetInterfaceResponse(interface=to_message(iface))

    @rpc("ListInterfaces")
    def list_interfaces(self, req: dpdk_pb2.ListInterfacesRequest):
        interfaces = self._control.call(lambda: list(self._interfaces))
        return dpdk_pb2.ListInterfacesResponse(interfaces=[to_message(i) for i in interfaces])
