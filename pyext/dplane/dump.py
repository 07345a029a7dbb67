# SPDX-License-Identifier: Apache-2.0
"""dplane-dump: packets as they pass the graph, live, as dpservice-dump shows them.

    dplane-dump [--drops] [--nodes REGEX] [--filter FILTER] [--pcap FILE] [-c N]
                [--stop] [--address HOST:PORT] [--file-prefix PREFIX]

Without options it shows every packet a port received (`PORT p >> cls`) and every packet
handed to a port (`tx-p >> PORT p`); --drops adds dropped packets with their reason (the drop
node, `<node>_<reason>`), --nodes adds the traversal of the nodes whose names REGEX finds
("" for all). --filter keeps the packets a pcap-syntax filter accepts (compiled with libpcap,
applied here to the first 256 bytes the service sends). --pcap writes the packets to a pcap
file instead of printing them. -c stops after N packets; --stop only makes sure no trace
session is left running in the service.

Unlike dpservice-dump (a DPDK secondary process attached through --file-prefix) it talks to
the service over gRPC (dplane.v1.Diagnostics/Trace), so it also works from another host.
`--file-prefix` (and $DP_FILE_PREFIX) is accepted for compatibility and has no effect.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import re
import signal
import struct
import sys
from collections.abc import Sequence
from typing import BinaryIO, TextIO

import grpc

from . import tls_client
from ._version import __version__
from .pktfmt import format_line
from .proto import dplane_pb2, dplane_pb2_grpc

PROG = "dplane-dump"
SNAPLEN = 256            # what the service keeps of each packet
LINKTYPE_ETHERNET = 1
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF


class DumpError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# pcap: filters (libpcap through ctypes) and files (written directly: the format is tiny).

class _BpfInsn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]


class _BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(_BpfInsn))]


class _PcapPkthdr(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long),
                ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]


def _libpcap() -> ctypes.CDLL:
    name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise DumpError(f"--filter needs libpcap ({exc})") from None
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(_BpfProgram), ctypes.c_char_p,
                                 ctypes.c_int, ctypes.c_uint32]
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = [ctypes.c_void_p]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    lib.pcap_offline_filter.argtypes = [ctypes.POINTER(_BpfProgram),
                                        ctypes.POINTER(_PcapPkthdr), ctypes.c_char_p]
    lib.pcap_freecode.argtypes = [ctypes.POINTER(_BpfProgram)]
    return lib


class PacketFilter:
    """A pcap-syntax filter for Ethernet frames."""

    def __init__(self, expression: str) -> None:
        self._lib = _libpcap()
        self._prog = _BpfProgram()
        handle = self._lib.pcap_open_dead(LINKTYPE_ETHERNET, 65535)
        if not handle:
            raise DumpError("cannot open libpcap")
        try:
            if self._lib.pcap_compile(handle, ctypes.byref(self._prog), expression.encode(), 1,
                                      PCAP_NETMASK_UNKNOWN) != 0:
                msg = self._lib.pcap_geterr(handle).decode(errors="replace")
                raise DumpError(f"invalid filter string: {msg}")
        finally:
            self._lib.pcap_close(handle)

    def __call__(self, data: bytes, length: int) -> bool:
        hdr = _PcapPkthdr(0, 0, len(data), length)
        return self._lib.pcap_offline_filter(ctypes.byref(self._prog), ctypes.byref(hdr),
                                             data) != 0

    def close(self) -> None:
        self._lib.pcap_freecode(ctypes.byref(self._prog))


class PcapWriter:
    """Classic pcap (microsecond stamps, Ethernet): what Wireshark and tcpdump read."""

    def __init__(self, stream: BinaryIO) -> None:
        self._out = stream
        self._out.write(struct.pack("=IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN,
                                    LINKTYPE_ETHERNET))

    def write(self, ts_ns: int, data: bytes, length: int) -> None:
        sec, ns = divmod(ts_ns, 1_000_000_000)
        self._out.write(struct.pack("=IIII", sec, ns // 1000, len(data), length))
        self._out.write(data)

    def flush(self) -> None:
        self._out.flush()


# ---------------------------------------------------------------------------------------
# Command line.

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Show packets passing the graph of a running dplane, live.")
    parser.add_argument("--drops", action="store_true", help="show dropped packets")
    parser.add_argument("--nodes", metavar="REGEX", default=None,
                        help="show graph node traversal, limit to REGEX-matched nodes "
                        "(empty string for all)")
    parser.add_argument("--filter", metavar="FILTER", default=None,
                        help="show only packets matching a pcap-style FILTER")
    parser.add_argument("--pcap", metavar="FILE", default=None,
                        help="write packets into a PCAP file")
    parser.add_argument("-c", "--maxcount", type=int, default=0,
                        help="stop after this many packets (default: until interrupted)")
    parser.add_argument("--stop", action="store_true",
                        help="do nothing, only make sure tracing is disabled in the service")
    parser.add_argument("--address", default=None, help="the service's gRPC address "
                        "(default localhost:$DP_GRPC_PORT, or localhost:1337)")
    tls_client.add_arguments(parser)
    parser.add_argument("--file-prefix", default=os.environ.get("DP_FILE_PREFIX"),
                        help="accepted for dpservice-dump compatibility; no effect")
    parser.add_argument("-v", "--version", action="store_true",
                        help="display version and exit")
    return parser


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _what(args: argparse.Namespace) -> list[str]:
    what = ["ports"]
    if args.drops:
        what.append("drops")
    if args.nodes is not None:
        what.append(f"nodes /{args.nodes}/" if args.nodes else "all nodes")
    if args.filter:
        what.append(f"filter '{args.filter}'")
    return what


def dump(stub: dplane_pb2_grpc.DiagnosticsStub, args: argparse.Namespace, out: TextIO,
         err: TextIO) -> int:
    pfilter = PacketFilter(args.filter) if args.filter else None
    pcap_file = open(args.pcap, "wb") if args.pcap else None  # closed below
    writer = PcapWriter(pcap_file) if pcap_file else None
    request = dplane_pb2.TraceRequest(drops=args.drops, nodes=args.nodes is not None,
                                      node_regex=args.nodes or "")
    call = stub.Trace(request)
    shown = traced = lost = 0
    started = False
    try:
        for events in call:
            if not started:  # the service's first message: the session runs
                started = True
                err.write(f"{PROG}: tracing ({', '.join(_what(args))}); Ctrl-C stops\n")
                err.flush()
            traced, lost = events.traced, events.lost
            for pkt in events.packets:
                if pfilter and not pfilter(pkt.data, pkt.length):
                    continue
                if writer:
                    writer.write(pkt.timestamp_ns, pkt.data, pkt.length)
                else:
                    out.write(format_line(pkt) + "\n")
                shown += 1
                if args.maxcount and shown >= args.maxcount:
                    break
            if writer:
                writer.flush()
            else:
                out.flush()
            if args.maxcount and shown >= args.maxcount:
                break
    except KeyboardInterrupt:
        pass
    finally:
        call.cancel()  # the service ends the session when the stream goes
        if pcap_file:
            pcap_file.close()
        if pfilter:
            pfilter.close()
    err.write(f"{shown} packets shown; the service traced {traced}, lost {lost} "
              "(trace ring full)\n" if lost else
              f"{shown} packets shown; the service traced {traced}\n")
    return 0


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        out.write(f"DP Service version {__version__}\n")
        return 0
    if args.nodes is not None and args.nodes.startswith("-"):
        err.write(f"{PROG}: node filter regular expression starts with ambiguous '-'\n")
        return 1
    if args.nodes:
        try:
            re.compile(args.nodes)
        except re.error as exc:
            err.write(f"{PROG}: invalid node filter regular expression: {exc}\n")
            return 1
    address = args.address or f"localhost:{os.environ.get('DP_GRPC_PORT') or 1337}"
    tls = tls_client.ClientTls.from_args(args)
    try:
        with tls_client.open_channel(address, tls) as channel:
            stub = dplane_pb2_grpc.DiagnosticsStub(channel)
            if args.stop:
                was = stub.StopTrace(dplane_pb2.StopTraceRequest(), timeout=10).was_active
                err.write("trace session stopped\n" if was else "no trace session was running\n")
                return 0
            return dump(stub, args, out, err)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.CANCELLED:
            return 0
        err.write(f"{PROG}: {address}: {exc.code().name}: {exc.details()}\n")
        return 1
    except (DumpError, tls_client.TlsError, OSError) as exc:
        err.write(f"{PROG}: {exc}\n")
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    return run(sys.argv[1:] if argv is None else list(argv), sys.stdout, sys.stderr)
