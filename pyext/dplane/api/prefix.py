# SPDX-License-Identifier: Apache-2.0
"""CreatePrefix, DeletePrefix, ListPrefixes."""
from __future__ import annotations

from ..control import ControlThread
from ..errors import InvalidArgument
from ..features.prefixes import Prefix, Prefixes
from ..proto import dpdk_pb2
from ..underlay import UnderlayGenerator
from . import api, rpc, validate

MAX_LENGTH = 255  # dpservice keeps the length in a byte; longer ones are refused later


def _request(req: dpdk_pb2.CreatePrefixRequest | dpdk_pb2.DeletePrefixRequest
             ) -> tuple[str, bytes, int]:
    """Validate in dpservice's order: the interface id, the address, the length."""
    iface_id = validate.interface_id(req.interface_id)
    prefix = validate.address(req.prefix.ip)
    if prefix is None:
        raise InvalidArgument("Invalid prefix.ip")
    if req.prefix.length > MAX_LENGTH:
        raise InvalidArgument("Invalid prefix.length")
    return iface_id, prefix, req.prefix.length


def to_message(pfx: Prefix) -> dpdk_pb2.Prefix:
    ipver = dpdk_pb2.IPV4 if len(pfx.prefix) == 4 else dpdk_pb2.IPV6
    return dpdk_pb2.Prefix(ip=dpdk_pb2.IpAddress(ipver=ipver, address=pfx.prefix_text.encode()),
                           length=pfx.length, underlay_route=pfx.underlay_text.encode())


@api
class PrefixApi:
    def __init__(self, control: ControlThread, prefixes: Prefixes,
                 underlays: UnderlayGenerator) -> None:
        self._control = control
        self._prefixes = prefixes
        self._underlays = underlays

    @rpc("CreatePrefix")
    def create_prefix(self, req: dpdk_pb2.CreatePrefixRequest):
        iface_id, prefix, length = _request(req)
        preferred = self._underlays.preferred(req.preferred_underlay_route)
        pfx = self._control.call(self._prefixes.create, iface_id, prefix, length, preferred)
        return dpdk_pb2.CreatePrefixResponse(underlay_route=pfx.underlay_text.encode())

    @rpc("DeletePrefix")
    def delete_prefix(self, req: dpdk_pb2.DeletePrefixRequest):
        iface_id, prefix, length = _request(req)
        self._control.call(self._prefixes.delete, iface_id, prefix, length)
        return dpdk_pb2.DeletePrefixResponse()

    @rpc("ListPrefixes")
    def list_prefixes(self, req: dpdk_pb2.ListPrefixesRequest):
        iface_id = validate.interface_id(req.interface_id)
        prefixes = self._control.call(self._prefixes.list, iface_id)
        return dpdk_pb2.ListPrefixesResponse(prefixes=[to_message(p) for p in prefixes])
