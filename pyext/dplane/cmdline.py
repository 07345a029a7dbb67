# SPDX-License-Identifier: Apache-2.0
"""The dpservice-compatible command line: `dplane [EAL options] -- [service options]`.

Sources, later ones winning: the board profile's [service] table, the config file (`$DP_CONF`,
default /run/dpservice/dpservice.conf), then the command line. One table, OPTIONS, describes
every option: the parser, the validation and --help all come from it. A feature that brings
an option of its own declares it in its module with feature_option(); its value is in
Config.features.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import ConfigError

DEFAULT_CONF = "/run/dpservice/dpservice.conf"
PROG = "dplane"


# ---------------------------------------------------------------------------------------
# Value parsers: take the text, return the value or raise ValueError.

def _text(max_len: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) >= max_len:
            raise ValueError(f"longer than {max_len - 1} characters")
        return value
    return parse


def _int_range(lo: int, hi: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value, 10)
        if not lo <= number <= hi:
            raise ValueError(f"not in {lo}..{hi}")
        return number
    return parse


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return value
    return parse


def _ipv4(value: str) -> str:
    return str(ipaddress.IPv4Address(value))


def _ipv6(value: str) -> str:
    return str(ipaddress.IPv6Address(value))


def _ip_address(value: str) -> str:
    return str(ipaddress.ip_address(value))


@dataclasses.dataclass(frozen=True)
class VirtualService:
    proto: str  # "tcp" or "udp"
    virtual_ip: str
    virtual_port: int
    service_ip: str
    service_port: int


def _virtsvc(proto: str) -> Callable[[str], VirtualService]:
    def parse(value: str) -> VirtualService:
        parts = value.split(",")
        if len(parts) != 4:
            raise ValueError("expected IPv4,port,IPv6,port")
        port = _int_range(1, 65535)
        return VirtualService(proto, _ipv4(parts[0]), port(parts[1]), _ipv6(parts[2]),
                              port(parts[3]))
    return parse


# ---------------------------------------------------------------------------------------
# The option table.

@dataclasses.dataclass(frozen=True)
class Option:
    name: str                    # long name without "--"; also the config file key
    metavar: str | None       # None: a flag without argument
    help: str
    parse: Callable[[str], Any] | None = None
    default: Any = None
    repeat: int = 0              # > 0: may be given up to this many times, collected in a list
    short: str | None = None  # one letter

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("help", None, "display this help and exit", short="h"),
    Option("version", None, "display version and exit", short="v"),
    Option("pf0", "IFNAME", "first physical interface (kernel name)", _text(16), ""),
    Option("pf1", "IFNAME", "second physical interface (kernel name)", _text(16), ""),
    Option("ipv6", "ADDR6", "IPv6 underlay address (its /64 prefixes generated underlays)",
           _ipv6, "::"),
    Option("vf-pattern", "PATTERN", "virtual interface name pattern (e.g. 'eth1vf')",
           _text(16), ""),
    Option("dhcp-mtu", "SIZE", "set the MTU field in DHCP responses (68 - 1500)",
           _int_range(68, 1500), 1500),
    Option("dhcp-dns", "IPv4", "set the domain name server field in DHCP responses "
           "(can be used multiple times)", _ipv4, repeat=63),
    Option("dhcpv6-dns", "ADDR6", "set the domain name server field in DHCPv6 responses "
           "(can be used multiple times)", _ipv6, repeat=15),
    Option("udp-virtsvc", "IPv4,port,IPv6,port", "map a VM-accessible IPv4 endpoint to an "
           "outside IPv6 UDP service", _virtsvc("udp"), repeat=256),
    Option("tcp-virtsvc", "IPv4,port,IPv6,port", "map a VM-accessible IPv4 endpoint to an "
           "outside IPv6 TCP service", _virtsvc("tcp"), repeat=256),
    Option("wcmp", "PERCENTAGE", "weighted-cost-multipath percentage for pf0 (0 - 100)",
           _int_range(0, 100), 100),
    Option("nic-type", "NICTYPE", "NIC type to use: 'mellanox' (default), 'tap' or "
           "'bluefield2'", _choice("mellanox", "tap", "bluefield2"), "mellanox"),
    Option("no-stats", None, "do not print periodic statistics to stdout"),
    Option("enable-ipv6-overlay", None, "enable IPv6 overlay addresses (ND/RA responder)"),
    Option("no-offload", None, "disable traffic offloading"),
    Option("graphtrace-loglevel", "LEVEL", "verbosity level of packet traversing the graph "
           "framework (0 - 2)", _int_range(0, 2), 0),
    Option("color", "MODE", "output colorization mode: 'never' (default), 'always' or "
           "'auto'", _choice("never", "always", "auto"), "never"),
    Option("log-format", "FORMAT", "set the format of individual log lines: 'text' "
           "(default) or 'json'", _choice("text", "json"), "text"),
    Option("grpc-port", "PORT", "listen for gRPC clients on this port (1024 - 65535)",
           _int_range(1024, 65535), 1337),
    Option("flow-timeout", "SECONDS", "inactive flow timeout (except TCP established "
           "flows) (1 - 300)", _int_range(1, 300), 30),
    Option("multiport-eswitch", None, "enable multiport e-switch support"),
    Option("active-lockfile", "PATH", "file to be locked before starting packet processing",
           _text(256), ""),
    Option("sync-tap", "IFNAME", "TAP interface for HA state synchronization", _text(16), ""),
    Option("debug-coredumps", None, "enable core dumps of hugepage memory"),
    # dplane's own
    Option("board", "FILE", "board profile (TOML) giving ports, EAL arguments and options; "
           "default: the sim board when no ports are given", _text(4096), ""),
    Option("print-eal-args", None, "print the EAL arguments and service options that the "
           "board, the config file and the command line add up to, then exit (EAL is not "
           "started)"),
    Option("flow-table-size", "KEYS", "connection tracking table size in keys, two per flow "
           "(16 - 16777216; dpservice's fixed size is the default)",
           _int_range(16, 1 << 24), 850000),
    Option("route-table-size", "ROUTES", "routes each VNI holds per family, a VNI's "
           "interfaces and prefixes included (1 - 16777216; memory follows the routes held)",
           _int_range(1, 1 << 24), 100000),
    Option("vnf-table-size", "ENTRIES", "underlay addresses the host answers for: "
           "interfaces, prefixes, virtual IPs, NAT, load balancers (1 - 16777216)",
           _int_range(1, 1 << 24), 131072),
    Option("grpc-listen", "ADDRESS", "listen for gRPC clients on this address only "
           "(default: all of the host's, as dpservice; a loopback address or TLS is "
           "recommended)", _ip_address, ""),
    Option("grpc-tls-cert", "FILE", "serve gRPC over TLS with this certificate (PEM)",
           _text(4096), ""),
    Option("grpc-tls-key", "FILE", "... and this private key (PEM)", _text(4096), ""),
    Option("grpc-tls-client-ca", "FILE", "require client certificates signed by this CA "
           "(PEM)", _text(4096), ""),
    Option("grpc-allow", "FILE", "client identities (certificate common name or a "
           "subject alternative name) and their roles, one 'IDENTITY = ROLE' (admin or "
           "read-only) per line; others are denied", _text(4096), ""),
    Option("grpc-max-connections", "N", "gRPC connections served at once; more are closed "
           "as they come (1 - 65535)", _int_range(1, 65535), 128),
    Option("grpc-idle-timeout", "SECONDS", "close a gRPC connection without a call for "
           "this long; clients reconnect on their next call (1 - 86400)",
           _int_range(1, 86400), 300),
    Option("grpc-handshake-timeout", "SECONDS", "close a gRPC connection that has not "
           "completed its HTTP/2 (and TLS) handshake within this (1 - 300)",
           _int_range(1, 300), 10),
    Option("idle", "MODE", "how the worker waits while its ports are idle: 'interrupt' "
           "(default: asleep until a packet comes; short pauses while a port cannot "
           "interrupt), 'pause' (short pauses) or 'busy' (polls, a whole core, as dpservice)",
           _choice("interrupt", "pause", "busy"), "interrupt"),
    Option("prefixes-per-interface", "N", "alias prefixes one interface may hold, so that "
           "one tenant cannot fill the VNF table (0 - 16777216)", _int_range(0, 1 << 24),
           1024),
)

# dplane's options that features declare (feature_option), in the order they were declared
_FEATURE_OPTIONS: list[Option] = []


def feature_option(opt: Option) -> Option:
    """Declare a feature's own option (not one of dpservice's): parsed, validated and listed
    by --help like the others, its value (or default) in Config.features[opt.dest]."""
    if _by_name(opt.name) is not None or (opt.short and opt.short in _BY_SHORT):
        raise ValueError(f"option --{opt.name} exists")
    if opt.metavar is None and opt.default is None:
        opt = dataclasses.replace(opt, default=False)
    _FEATURE_OPTIONS.append(opt)
    return opt


def all_options() -> tuple[Option, ...]:
    return OPTIONS + tuple(_FEATURE_OPTIONS)


_BY_SHORT = {opt.short: opt for opt in OPTIONS if opt.short}


def _by_name(name: str) -> Option | None:
    return next((opt for opt in all_options() if opt.name == name), None)


def option(name: str) -> Option:
    opt = _by_name(name)
    if opt is None:
        raise KeyError(name)
    return opt


def usage() -> str:
    lines = [f"Usage: {PROG} [EAL options] -- [service options]", ""]
    for opt in all_options():
        names = (f"-{opt.short}, " if opt.short else "    ") + f"--{opt.name}"
        if opt.metavar:
            names += f"={opt.metavar}"
        lines.append(f"  {names:<40} {opt.help}")
    lines += ["", "The config file $DP_CONF (default " + DEFAULT_CONF + ") holds the same "
              "options, one 'key value' per line."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Parsing.

class OptionValues:
    """Option values gathered from all sources, in order; later sources override."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.action: str | None = None  # "help" or "version" when asked for

    def set(self, opt: Option, raw: str | None, where: str) -> None:
        if opt.metavar is None:
            if raw is not None:
                raise ConfigError(f"Option '--{opt.name}' doesn't allow an argument{where}")
            if opt.name in ("help", "version"):
                self.action = self.action or opt.name
            else:
                self.values[opt.dest] = True
            return
        if raw is None:
            raise ConfigError(f"Option '--{opt.name}' requires an argument{where}")
        try:
            value = opt.parse(raw) if opt.parse else raw
        except ValueError:
            raise ConfigError(f"Invalid argument for '--{opt.name}'{where}") from None
        if opt.repeat:
            items = self.values.setdefault(opt.dest, [])
            if len(items) >= opt.repeat:
                raise ConfigError(f"Too many '--{opt.name}' options (at most {opt.repeat})")
            items.append(value)
        else:
            self.values[opt.dest] = value


def parse_service_args(args: Sequence[str], into: OptionValues) -> None:
    """getopt_long-style: --name=value, --name value, -h, -v. Stops at --help/--version."""
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("--") and len(arg) > 2:
            name, eq, raw = arg[2:].partition("=")
            opt = _by_name(name)
            if opt is None:
                raise ConfigError(f"Unknown option '{arg}'")
            value: str | None = raw if eq else None
            if opt.metavar is not None and not eq:
                if i >= len(args):
                    raise ConfigError(f"Option '--{opt.name}' requires an argument")
                value = args[i]
                i += 1
        elif arg.startswith("-") and len(arg) == 2 and arg[1] in _BY_SHORT:
            opt, value = _BY_SHORT[arg[1]], None
        else:
            raise ConfigError(f"Unknown option '{arg}'")
        into.set(opt, value, "")
        if into.action:
            return


def read_conf_file(environ: Mapping[str, str]) -> tuple[list[tuple[str, str | None]], str]:
    """(key, value) lines of the config file and its path ('' when there is none)."""
    explicit = "DP_CONF" in environ
    path = environ.get("DP_CONF", DEFAULT_CONF)
    if path == "":
        return [], ""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"Config file '{path}' not found") from None
        return [], ""
    except OSError as exc:
        raise ConfigError(f"Cannot read config file '{path}': {exc.strerror}") from None
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        value = value.strip()
        entries.append((key, value if value else None))
    return entries, path


def apply_conf_file(entries: Sequence[tuple[str, str | None]], path: str,
                    into: OptionValues) -> list[str]:
    """Apply config file entries; returns the EAL arguments it adds (a-pf0/a-pf1)."""
    eal: list[str] = []
    for key, value in entries:
        if key in ("a-pf0", "a-pf1"):
            if not value:
                raise ConfigError(f"Invalid argument for '{key}' in {path}")
            eal += ["-a", value]
            continue
        opt = _by_name(key)
        if opt is None or opt.name in ("help", "version"):
            raise ConfigError(f"Unknown option '{key}' in {path}")
        into.set(opt, value, f" in {path}")
    return eal


@dataclasses.dataclass
class Config:
    """Everything the service was told, validated."""

    eal_args: list[str]
    board: Any | None  # dplane.board.Board when one was used
    pf0: str = ""
    pf1: str = ""
    ipv6: str = "::"
    vf_pattern: str = ""
    dhcp_mtu: int = 1500
    dhcp_dns: list[str] = dataclasses.field(default_factory=list)
    dhcpv6_dns: list[str] = dataclasses.field(default_factory=list)
    udp_virtsvc: list[VirtualService] = dataclasses.field(default_factory=list)
    tcp_virtsvc: list[VirtualService] = dataclasses.field(default_factory=list)
    wcmp: int = 100
    nic_type: str = "mellanox"
    no_stats: bool = False
    enable_ipv6_overlay: bool = False
    no_offload: bool = False
    graphtrace_loglevel: int = 0
    color: str = "never"
    log_format: str = "text"
    grpc_port: int = 1337
    flow_timeout: int = 30
    multiport_eswitch: bool = False
    active_lockfile: str = ""
    sync_tap: str = ""
    debug_coredumps: bool = False
    flow_table_size: int = 850000
    grpc_listen: str = ""
    grpc_tls_cert: str = ""
    grpc_tls_key: str = ""
    grpc_tls_client_ca: str = ""
    grpc_allow: str = ""
    grpc_max_connections: int = 128
    grpc_idle_timeout: int = 300
    grpc_handshake_timeout: int = 10
    idle: str = "interrupt"
    route_table_size: int = 100000
    vnf_table_size: int = 131072
    prefixes_per_interface: int = 1024
    # the values of the features' own options (feature_option), by Option.dest
    features: dict[str, Any] = dataclasses.field(default_factory=dict)


def _check_consistency(cfg: Config) -> None:
    if cfg.multiport_eswitch and not cfg.no_offload:
        raise ConfigError("'--multiport-eswitch' cannot be used with offloading "
                          "(add '--no-offload')")
    services = cfg.udp_virtsvc + cfg.tcp_virtsvc
    if len(services) > 256:
        raise ConfigError("Too many virtual services (at most 256)")
    seen = set()
    for svc in services:
        key = (svc.proto, svc.virtual_ip, svc.virtual_port)
        if key in seen:
            raise ConfigError(f"Invalid argument for '--{svc.proto}-virtsvc': duplicate "
                              f"virtual service {svc.virtual_ip}:{svc.virtual_port}")
        seen.add(key)


def _split_eal(argv: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """EAL part, service part, and a --board taken out of the EAL part (a
    --print-eal-args there moves to the service part)."""
    args = list(argv)
    if "--" in args:
        cut = args.index("--")
        eal, svc = args[:cut], args[cut + 1:]
    else:
        eal, svc = args, []
    board = None
    kept: list[str] = []
    i = 0
    while i < len(eal):
        arg = eal[i]
        if arg == "--board":
            if i + 1 >= len(eal):
                raise ConfigError("Option '--board' requires an argument")
            board = eal[i + 1]
            i += 2
            continue
        if arg.startswith("--board="):
            board = arg[len("--board="):]
        elif arg == "--print-eal-args":
            svc.append(arg)
        else:
            kept.append(arg)
        i += 1
    return kept, svc, board


def format_args(eal_args: Sequence[str], values: OptionValues) -> str:
    """One shell-quoted line `EAL args -- service options`, the service options in the
    order of the option table, as --name=value (flags bare, repeated options once per
    value)."""
    svc: list[str] = []
    for opt in all_options():
        if opt.name in ("board", "print-eal-args") or opt.dest not in values.values:
            continue
        value = values.values[opt.dest]
        if opt.metavar is None:
            svc.append(f"--{opt.name}")
            continue
        for item in value if opt.repeat else [value]:
            if isinstance(item, VirtualService):
                item = (f"{item.virtual_ip},{item.virtual_port},{item.service_ip},"
                        f"{item.service_port}")
            svc.append(f"--{opt.name}={item}")
    return shlex.join([*eal_args, "--", *svc]) + "\n"


def has_devices(eal_args: Sequence[str]) -> bool:
    """Whether the EAL arguments name any port (--vdev, -a/--allow, -w)."""
    for arg in eal_args:
        if arg in ("--vdev", "-a", "--allow", "-w", "--pci-whitelist"):
            return True
        if arg.startswith(("--vdev=", "--allow=", "--pci-whitelist=")):
            return True
        if len(arg) > 2 and arg[:2] in ("-a", "-w"):
            return True
    return False


def parse(argv: Sequence[str], environ: Mapping[str, str],
          load_board: Callable[[str], Any], default_board: Callable[[], Any]) -> Config | str:
    """The service configuration, or the text to print for --help / --version /
    --print-eal-args.

    argv excludes the program name. Raises ConfigError on any bad input.
    """
    eal, svc, board_path = _split_eal(argv)

    cmdline = OptionValues()
    parse_service_args(svc, cmdline)
    if cmdline.action == "help":
        return usage()
    if cmdline.action == "version":
        from ._version import __version__
        return f"DP Service version {__version__}\n"

    entries, conf_path = read_conf_file(environ)
    values = OptionValues()
    # the board comes first; --board may also sit in the config file or the service options
    board_path = cmdline.values.get("board") or board_path
    if not board_path:
        for key, value in entries:
            if key == "board" and value:
                board_path = value
    conf_eal: list[str] = []

    board = None
    if board_path:
        board = load_board(board_path)
    elif not has_devices(eal) and not any(k in ("a-pf0", "a-pf1") for k, _ in entries):
        board = default_board()
    if board is not None:
        for key, value in board.service_options():
            opt = _by_name(key)
            if opt is None or opt.name in ("help", "version", "board"):
                raise ConfigError(f"{board.path}: [service] has an unknown option '{key}'")
            values.set(opt, value, f" in {board.path}")

    conf_eal = apply_conf_file(entries, conf_path, values)
    parse_service_args(svc, values)

    eal_args = (board.eal_args() if board is not None else []) + conf_eal + eal
    fields = {f.name for f in dataclasses.fields(Config)} - {"eal_args", "board", "features"}
    kwargs = {k: v for k, v in values.values.items() if k in fields}
    features = {opt.dest: values.values.get(opt.dest, [] if opt.repeat else opt.default)
                for opt in _FEATURE_OPTIONS}
    cfg = Config(eal_args=eal_args, board=board, features=features, **kwargs)
    _check_consistency(cfg)
    if cmdline.values.get("print_eal_args"):
        return format_args(eal_args, values)
    return cfg
