#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Inspect and check the built firmware extension (an ELF shared object) before shipping it.

dplane links DPDK statically into its Cython extension, so the built ``_firmware*.so`` must:

* need no ``librte_*`` shared library at run time (DT_NEEDED),
* be built for the target machine (x86_64 or aarch64),
* embed every DPDK poll-mode driver (PMD) the service relies on,
* embed the DPDK dplane is made for: the 22.11 LTS series, built to hold dpservice's ports
  (RTE_MAX_ETHPORTS >= 128: two PFs and 126 VFs; Debian's own DPDK holds 32, tools/mkdpdk
  builds one with 132),
* export nothing but ``PyInit_*`` (in particular no ``rte_*`` symbol: DPDK stays private),
* (with ``--sysroot``) need only allowed system libraries (``SYSTEM_LIBRARIES``), and leave no
  symbol undefined that those libraries or the Python interpreter do not provide.

Embedded PMDs are found through the string DPDK places in .rodata for every registered driver,
``PMD_INFO_STRING= {"name": "net_tap", ...}`` (JSON after the ``=``). The section data is
scanned rather than the symbol table, because the extension is linked with
``-Wl,--exclude-libs,ALL`` (DPDK symbols become local) and may be stripped.

Driver names: ``--pmd`` accepts a meson driver name (as in the ``dpdk_drivers`` option) or a
PMD name. A ``net_*`` driver is checked by the PMD name it registers, which is usually its own
name; the exceptions are listed in ``DRIVER_PMD_NAMES`` (``net_mlx5`` registers ``mlx5_eth``).
One driver may register several names (``net_tap`` also registers ``net_tun``); any one of
them counts. Buses and mempools (``bus_*``, ``mempool_*``) register no PMD_INFO_STRING, so they
cannot be verified this way and are skipped (see ``unverifiable()``).

The DPDK's version and port limit are read the same way from the string dplane's firmware
compiles in from DPDK's own rte_config.h (firmware/core/eal.c),
``DPLANE_DPDK_INFO= {"version": "22.11.11", "max_ethports": 132, "fp_ops_size": 128}``. That
tells the headers; the archives linked are counted too where the symbol table is kept: the
size of ethdev's ``rte_eth_fp_ops[RTE_MAX_ETHPORTS]`` divided by ``fp_ops_size`` (reported as
``linked_ethports``). Headers of one DPDK with the archives of another would corrupt memory.

The functions return plain data so that other tools (the firmware image builder,
tools/mkimage) can reuse them; ``inspect_bytes()`` reads an ELF file held in memory (e.g. a
member of a wheel). ``main()`` is the command line::

    python tools/elfcheck.py PATH [--arch x86_64|aarch64] [--pmd NAME ...] [--sysroot DIR]
                                  [--dpdk-version V] [--min-ethports N]

It exits 0 when the file passes, 1 when there are problems or the file cannot be read.
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import platform
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.construct.core import ConstructError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

# Architecture names accepted by check() / --arch, and the ELF e_machine each one means.
ARCH_MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}
ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

# PMDs the service needs by default (meson driver names; see DRIVER_PMD_NAMES).
DEFAULT_PMDS = ("net_tap", "net_pcap", "net_null", "net_ring", "net_mlx5")
# The DPDK the firmware is written for (an LTS series; "22.11.11" asks for one release) and
# the ports it must hold: dpservice's 2 PFs + 126 VFs.
DPDK_SERIES = "22.11"
MIN_ETHPORTS = 128

# Meson driver name -> PMD names it registers, where they differ from the driver name
# (DPDK 22.11). Any one of the listed names being present satisfies the requirement.
DRIVER_PMD_NAMES: dict[str, tuple[str, ...]] = {
    "net_mlx5": ("mlx5_eth",),
    "common_mlx5": ("mlx5_common_pci", "mlx5_common_driver"),
    "net_e1000": ("net_e1000_em", "net_e1000_igb", "net_e1000_igb_vf"),
}

# Drivers that register no PMD_INFO_STRING and therefore cannot be checked.
UNVERIFIABLE_PREFIXES = ("bus_", "mempool_")

# Only these may be exported by the extension.
ALLOWED_EXPORT_PREFIXES = ("PyInit_",)

_PMD_INFO_RE = re.compile(rb"PMD_INFO_STRING=\s*([^\x00]*)")
_DPDK_INFO_RE = re.compile(rb"DPLANE_DPDK_INFO=\s*([^\x00]*)")
_PMD_NAME_RE = re.compile(rb'"name"\s*:\s*"([^"]+)"')
_DPDK_LIB_RE = re.compile(r"^librte_")
# Shared libraries a firmware image may need at run time: glibc, the compiler's runtime and
# the system libraries DPDK's drivers use, as Debian (and a BlueField's OS) ships them.
SYSTEM_LIBRARIES = re.compile(
    r"^(ld-linux(-aarch64|-x86-64)?\.so\.\d|libc\.so\.6|libm\.so\.6|libdl\.so\.2|"
    r"libpthread\.so\.0|librt\.so\.1|libutil\.so\.1|libresolv\.so\.2|libgcc_s\.so\.1|"
    r"libstdc\+\+\.so\.6|libatomic\.so\.1|libz\.so\.1|libnuma\.so\.1|libbsd\.so\.0|"
    r"libmd\.so\.0|libibverbs\.so\.1|libmlx5\.so\.1|libmlx4\.so\.1|libpcap\.so\.0\.8|"
    r"libelf\.so\.1|libjansson\.so\.4|libsystemd\.so\.0|libcrypto\.so\.3|libssl\.so\.3|"
    r"libnl-3\.so\.200|libnl-route-3\.so\.200|libfdt\.so\.1|libexpat\.so\.1)$")
# Undefined symbols an extension module leaves to the interpreter that loads it.
_PYTHON_API_RE = re.compile(r"^_?Py[A-Z_]|^_Py")
# Defined symbols with these bindings are visible to the dynamic linker (STB_LOOS is
# STB_GNU_UNIQUE on Linux).
_EXPORT_BINDINGS = ("STB_GLOBAL", "STB_WEAK", "STB_LOOS")


class ElfCheckError(Exception):
    """The file is missing, unreadable or not a valid ELF file."""


@dataclasses.dataclass
class Report:
    """What inspect() found in one ELF file."""

    path: str
    size: int  # bytes
    machine: str  # e_machine, e.g. 'EM_X86_64', 'EM_AARCH64'
    needed: list[str]  # DT_NEEDED entries, in order
    exported: list[str]  # defined GLOBAL/WEAK dynamic symbols, sorted
    pmds: list[str]  # names from the embedded PMD_INFO_STRINGs, sorted
    # undefined non-weak dynamic symbols, sorted, as 'name' or 'name@VERSION'
    undefined: list[str] = dataclasses.field(default_factory=list)
    # DT_RUNPATH and DT_RPATH directories, in order ($ORIGIN not expanded)
    runpath: list[str] = dataclasses.field(default_factory=list)
    rpath: list[str] = dataclasses.field(default_factory=list)
    interp: str = ""  # PT_INTERP (the program interpreter), "" when there is none
    # the embedded DPLANE_DPDK_INFO ({"version": "22.11.11", "max_ethports": 132, ...}) and,
    # when the symbol table tells, "linked_ethports": the linked ethdev's; {} if none
    dpdk: dict = dataclasses.field(default_factory=dict)


def inspect(path: str | os.PathLike[str]) -> Report:
    """Read the ELF file at ``path``; raise ElfCheckError if it cannot be read as ELF."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as stream:
            return _inspect_stream(path, stream)
    except ElfCheckError as e:
        raise ElfCheckError(f"{path}: corrupt ELF file ({e})") from None
    except OSError as e:
        raise ElfCheckError(f"{path}: {e.strerror or e}") from e
    except ELFError as e:
        raise ElfCheckError(f"{path}: not a valid ELF file ({e})") from e
    except (ConstructError, ValueError, OverflowError) as e:
        raise ElfCheckError(f"{path}: truncated or corrupt ELF file ({e})") from e


def inspect_bytes(name: str, data: bytes) -> Report:
    """inspect() for an ELF file held in memory; ``name`` is only used in messages."""
    try:
        return _inspect_stream(name, io.BytesIO(data))
    except ElfCheckError as e:
        raise ElfCheckError(f"{name}: corrupt ELF file ({e})") from None
    except ELFError as e:
        raise ElfCheckError(f"{name}: not a valid ELF file ({e})") from e
    except (ConstructError, ValueError, OverflowError) as e:
        raise ElfCheckError(f"{name}: truncated or corrupt ELF file ({e})") from e


def _inspect_stream(path: str, stream: BinaryIO) -> Report:
    elf = ELFFile(stream)
    size = stream.seek(0, os.SEEK_END)
    pmds, dpdk = _embedded(elf, size)
    linked = _symbol_size(elf, "rte_eth_fp_ops")
    if linked and isinstance(dpdk.get("fp_ops_size"), int) and dpdk["fp_ops_size"] > 0:
        dpdk["linked_ethports"] = linked // dpdk["fp_ops_size"]
    return Report(
        path=path,
        size=size,
        machine=elf["e_machine"],
        needed=_needed(elf),
        exported=_exported(elf),
        pmds=pmds,
        dpdk=dpdk,
        undefined=_undefined(elf),
        runpath=_dynamic_paths(elf, "DT_RUNPATH"),
        rpath=_dynamic_paths(elf, "DT_RPATH"),
        interp=_interp(elf),
    )


def _needed(elf: ELFFile) -> list[str]:
    needed: list[str] = []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            needed.extend(tag.needed for tag in section.iter_tags("DT_NEEDED"))
    return needed


def _dynamic_paths(elf: ELFFile, tag: str) -> list[str]:
    out: list[str] = []
    attr = "runpath" if tag == "DT_RUNPATH" else "rpath"
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for entry in section.iter_tags(tag):
                out += [d for d in getattr(entry, attr).split(":") if d]
    return out


def _interp(elf: ELFFile) -> str:
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_INTERP":
            return segment.get_interp_name()
    return ""


def _exported(elf: ELFFile) -> list[str]:
    # Version definitions (e.g. DPDK_23 in librte_*.so) show up as ABS symbols; they are
    # not code or data, so they are left out.
    version_nodes = set()
    for section in elf.iter_sections():
        if isinstance(section, GNUVerDefSection):
            for _, auxiliaries in section.iter_versions():
                version_nodes.update(aux.name for aux in auxiliaries)

    exported = set()
    for section in elf.iter_sections():
        if not (isinstance(section, SymbolTableSection) and section["sh_type"] == "SHT_DYNSYM"):
            continue
        for sym in section.iter_symbols():
            if (sym.name and sym["st_shndx"] != "SHN_UNDEF"
                    and sym["st_info"]["bind"] in _EXPORT_BINDINGS
                    and sym.name not in version_nodes):
                exported.add(sym.name)
    return sorted(exported)


def _undefined(elf: ELFFile) -> list[str]:
    """Undefined, non-weak dynamic symbols with the version they ask for (if any)."""
    versions: dict[int, str] = {}
    versym = None
    for section in elf.iter_sections():
        if isinstance(section, GNUVerNeedSection):
            for _, auxiliaries in section.iter_versions():
                versions.update((aux["vna_other"], aux.name) for aux in auxiliaries)
        elif isinstance(section, GNUVerSymSection):
            versym = section
    out = set()
    for section in elf.iter_sections():
        if not (isinstance(section, SymbolTableSection) and section["sh_type"] == "SHT_DYNSYM"):
            continue
        for i, sym in enumerate(section.iter_symbols()):
            if (not sym.name or sym["st_shndx"] != "SHN_UNDEF"
                    or sym["st_info"]["bind"] != "STB_GLOBAL"):
                continue
            ndx = versym.get_symbol(i)["ndx"] if versym is not None else None
            version = versions.get(ndx) if isinstance(ndx, int) else None
            out.add(f"{sym.name}@{version}" if version else sym.name)
    return sorted(out)


def _symbol_size(elf: ELFFile, name: str) -> int | None:
    """st_size of a data symbol in .symtab (None if stripped or absent)."""
    symtab = elf.get_section_by_name(".symtab")
    if not isinstance(symtab, SymbolTableSection):
        return None
    for sym in symtab.get_symbol_by_name(name) or ():
        if sym["st_info"]["type"] == "STT_OBJECT":
            return sym["st_size"]
    return None


def _embedded(elf: ELFFile, file_size: int) -> tuple[list[str], dict]:
    """Names of all PMD_INFO_STRINGs in the loaded, non-code sections (.rodata), and the
    DPLANE_DPDK_INFO found there ({} if none, or if it is not a JSON object)."""
    names = set()
    dpdk: dict = {}
    for section in elf.iter_sections():
        flags = section["sh_flags"]
        if (section["sh_type"] != "SHT_PROGBITS" or not flags & 0x2  # SHF_ALLOC
                or flags & 0x4):  # SHF_EXECINSTR
            continue
        if section["sh_offset"] + section["sh_size"] > file_size:
            raise ElfCheckError(f"section {section.name!r} extends past the end of the file")
        data = section.data()
        for match in _PMD_INFO_RE.finditer(data):
            name = _pmd_name(match.group(1))
            if name:
                names.add(name)
        for match in _DPDK_INFO_RE.finditer(data):
            try:
                info = json.loads(match.group(1).decode("utf-8", "replace"))
            except ValueError:
                continue
            if isinstance(info, dict):
                dpdk = info
    return sorted(names), dpdk


def _pmd_name(info: bytes) -> str | None:
    try:
        name = json.loads(info.decode("utf-8", "replace")).get("name")
        return name if isinstance(name, str) else None
    except (ValueError, AttributeError):
        match = _PMD_NAME_RE.search(info)  # not valid JSON: still try to get the name
        return match.group(1).decode("utf-8", "replace") if match else None


def normalize_arch(arch: str) -> str:
    """'x86_64'/'amd64' -> 'x86_64', 'aarch64'/'arm64' -> 'aarch64'; ValueError otherwise."""
    name = ARCH_ALIASES.get(arch.lower(), arch.lower())
    if name not in ARCH_MACHINES:
        raise ValueError(f"unsupported architecture {arch!r} (expected one of "
                         f"{', '.join(ARCH_MACHINES)})")
    return name


def pmd_names(driver: str) -> tuple[str, ...]:
    """PMD names that show ``driver`` is linked in; () if it cannot be checked."""
    if driver.startswith(UNVERIFIABLE_PREFIXES):
        return ()
    return DRIVER_PMD_NAMES.get(driver, (driver,))


def unverifiable(drivers: Iterable[str]) -> list[str]:
    """The drivers among ``drivers`` that register no PMD_INFO_STRING (buses, mempools)."""
    return [d for d in drivers if not pmd_names(d)]


def check(report: Report, arch: str, required_pmds: Iterable[str],
          dpdk_version: str | None = DPDK_SERIES, min_ethports: int = MIN_ETHPORTS) -> list[str]:
    """Problems with ``report`` as a firmware extension for ``arch``; [] when it passes.
    The embedded DPDK must be ``dpdk_version`` ("22.11" is any 22.11 release) and hold at
    least ``min_ethports`` ports; None: not checked (an ELF file that is not dplane's
    firmware, e.g. another package's extension)."""
    problems = []

    expected = ARCH_MACHINES[normalize_arch(arch)]
    if report.machine != expected:
        problems.append(f"machine is {report.machine}, expected {expected} for {arch}")

    dpdk_libs = [lib for lib in report.needed if _DPDK_LIB_RE.match(lib)]
    if dpdk_libs:
        problems.append(f"needs DPDK shared libraries (DPDK must be linked statically): "
                        f"{_listing(dpdk_libs)}")

    for driver in required_pmds:
        names = pmd_names(driver)
        if names and not set(names) & set(report.pmds):
            also = f" (PMD name {' or '.join(names)})" if names != (driver,) else ""
            problems.append(f"PMD {driver}{also} is not linked in")

    if dpdk_version is not None:
        problems += check_dpdk(report.dpdk, dpdk_version, min_ethports)

    rte = [s for s in report.exported if s.startswith("rte_")]
    if rte:
        problems.append(f"exports DPDK symbols: {_listing(rte)}")
    other = [s for s in report.exported
             if not s.startswith(("rte_",) + ALLOWED_EXPORT_PREFIXES)]
    if other:
        problems.append(f"exports unexpected symbols (only PyInit_* expected): {_listing(other)}")

    return problems


def check_dpdk(info: dict, version: str = DPDK_SERIES,
               min_ethports: int = MIN_ETHPORTS) -> list[str]:
    """Problems with an embedded DPLANE_DPDK_INFO (Report.dpdk)."""
    if not info:
        return ["no DPLANE_DPDK_INFO: not dplane's firmware, or built from other sources"]
    problems = []
    found = str(info.get("version", "?"))
    if found != version and not found.startswith(version + "."):
        problems.append(f"built with DPDK {found}, expected {version}")
    ports = info.get("max_ethports")
    if not isinstance(ports, int) or ports < min_ethports:
        problems.append(f"its DPDK holds {ports} ports (RTE_MAX_ETHPORTS), dplane needs "
                        f"{min_ethports}: Debian's own DPDK? (tools/mkdpdk builds the right "
                        f"one)")
    linked = info.get("linked_ethports")
    if linked is not None and linked != ports:
        problems.append(f"compiled with DPDK headers for {ports} ports but linked with an "
                        f"ethdev archive for {linked}: two DPDKs mixed")
    return problems


def library_path(sysroot: str | os.PathLike[str], name: str) -> str | None:
    """Where the dynamic linker of an (aarch64 or x86_64) Debian system in ``sysroot``
    finds the shared library ``name``; None if it is not there."""
    for libdir in ("lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu", "lib/x86_64-linux-gnu",
                   "usr/lib/x86_64-linux-gnu", "lib", "usr/lib", "lib64"):
        path = os.path.join(sysroot, libdir, name)
        if os.path.lexists(path):
            # symlinks in a sysroot are relative (tools/mksysroot), so realpath stays inside
            real = os.path.realpath(path)
            if os.path.isfile(real):
                return real
    return None


def providers(report: Report, sysroot: str | os.PathLike[str],
              interpreter: str | os.PathLike[str] | None = None,
              cache: dict[str, Report] | None = None) -> dict[str, set[str]]:
    """The symbols each allowed library in ``report``'s DT_NEEDED closure exports, looked up
    in ``sysroot`` ('?name' maps to an empty set when the library is not there), and those
    of ``interpreter`` (key 'interpreter'), which provides the Python C API."""
    cache = {} if cache is None else cache

    def load(path: str) -> Report:
        if path not in cache:
            cache[path] = inspect(path)
        return cache[path]

    def find(lib: str) -> Report | None:
        path = library_path(sysroot, lib)
        return None if path is None else load(path)

    return providers_found(report, find,
                           None if interpreter is None else load(os.fspath(interpreter)))


def providers_found(report: Report, find: Callable[[str], Report | None],
                    interpreter: Report | None = None) -> dict[str, set[str]]:
    """providers() with the libraries looked up by ``find`` (name -> its Report, or None
    when it is not there), e.g. in a root file system held in memory."""
    out: dict[str, set[str]] = {}
    todo = [lib for lib in report.needed if SYSTEM_LIBRARIES.match(lib)]
    while todo:
        lib = todo.pop()
        if lib in out or f"?{lib}" in out:
            continue
        found = find(lib)
        if found is None:
            out[f"?{lib}"] = set()
            continue
        out[lib] = set(found.exported)
        todo += [n for n in found.needed if SYSTEM_LIBRARIES.match(n)]
    if interpreter is not None:
        out["interpreter"] = set(interpreter.exported)
    return out


def check_imports(report: Report, provided: dict[str, set[str]] | None = None) -> list[str]:
    """Problems with what ``report`` needs at run time: shared libraries other than
    SYSTEM_LIBRARIES, and (given ``provided``, see providers()) undefined symbols that no
    allowed library, nor the interpreter, defines. Without ``provided`` only the Python C
    API is assumed to come from the interpreter and other symbols are not resolved."""
    problems = []
    foreign = [lib for lib in report.needed if not SYSTEM_LIBRARIES.match(lib)]
    if foreign:
        problems.append(f"needs libraries outside the allowed system libraries: "
                        f"{_listing(foreign)}")
    if provided is None:
        return problems
    absent = sorted(k[1:] for k in provided if k.startswith("?"))
    if absent:
        problems.append(f"needed libraries not found in the sysroot: {_listing(absent)}")
    known: set[str] = set().union(*provided.values()) if provided else set()
    # without the interpreter's own symbol table, trust the C API's names
    known_api = None if "interpreter" in provided else _PYTHON_API_RE
    unresolved = []
    for sym in report.undefined:
        name = sym.split("@", 1)[0]
        if name in known or (known_api is not None and known_api.match(name)):
            continue
        unresolved.append(sym)
    if unresolved:
        problems.append(f"undefined symbols no allowed system library provides: "
                        f"{_listing(unresolved)}")
    return problems


def _listing(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return f"{shown}, ... ({len(items)} in all)" if len(items) > limit else shown


def format_report(report: Report) -> str:
    """A short human-readable summary of ``report``."""
    return "\n".join([
        f"{report.path}",
        f"  size:     {report.size / 1e6:.2f} MB ({report.size} bytes)",
        f"  machine:  {report.machine}",
        f"  needed:   {', '.join(report.needed) or '-'}",
        f"  exported: {_listing(report.exported) or '-'}",
        f"  PMDs:     {', '.join(report.pmds) or '-'}",
        "  DPDK:     " + (f"{report.dpdk.get('version')}, max_ethports "
                           f"{report.dpdk.get('max_ethports')} (linked: "
                           f"{report.dpdk.get('linked_ethports', 'not known, stripped')})"
                           if report.dpdk else "-"),
        f"  imports:  {len(report.undefined)} undefined symbols",
    ])


def _interpreter(sysroot: str) -> str | None:
    """The Python interpreter of a root (usr/bin/python3.N, the newest), or None."""
    names = sorted((n for n in os.listdir(os.path.join(sysroot, "usr", "bin"))
                    if re.fullmatch(r"python3\.\d+", n)),
                   key=lambda n: int(n.split(".")[1])) if os.path.isdir(
                       os.path.join(sysroot, "usr", "bin")) else []
    return os.path.join(sysroot, "usr", "bin", names[-1]) if names else None


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Check a built dplane firmware extension: no librte_* needed, right "
                    "machine, required DPDK PMDs embedded, the DPDK's version and port "
                    "limit, only PyInit_* exported.")
    ap.add_argument("path", help="the ELF file (e.g. _firmware.cpython-*.so)")
    ap.add_argument("--arch", choices=sorted(ARCH_MACHINES),
                    help="target architecture (default: this host's)")
    ap.add_argument("--pmd", nargs="+", action="extend", metavar="NAME",
                    help="required drivers, meson or PMD names; may be repeated "
                         f"(default: {' '.join(DEFAULT_PMDS)})")
    ap.add_argument("--sysroot", metavar="DIR",
                    help="also resolve the undefined symbols against the allowed system "
                         "libraries (and usr/bin/python3*) of this root, e.g. / or the arm64 "
                         "sysroot of tools/mksysroot")
    ap.add_argument("--dpdk-version", default=DPDK_SERIES, metavar="V",
                    help=f"the DPDK release or series expected (default: {DPDK_SERIES})")
    ap.add_argument("--min-ethports", type=int, default=MIN_ETHPORTS, metavar="N",
                    help=f"fewest ports its DPDK may hold (default: {MIN_ETHPORTS})")
    args = ap.parse_args(argv)

    try:
        arch = args.arch or normalize_arch(platform.machine())
        report = inspect(args.path)
    except (ValueError, ElfCheckError) as e:
        print(f"elfcheck: error: {e}", file=sys.stderr)
        return 1

    required = args.pmd or list(DEFAULT_PMDS)
    print(format_report(report))
    skipped = unverifiable(required)
    if skipped:
        print(f"  not checked (no PMD_INFO_STRING): {', '.join(skipped)}")
    problems = check(report, arch, required, args.dpdk_version, args.min_ethports)
    if args.sysroot:
        try:
            interpreter = _interpreter(args.sysroot)
            problems += check_imports(report, providers(report, args.sysroot, interpreter))
        except ElfCheckError as e:
            print(f"elfcheck: error: {e}", file=sys.stderr)
            return 1
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"{len(problems)} problem(s)" if problems else f"OK for {arch}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
