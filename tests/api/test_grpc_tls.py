# SPDX-License-Identifier: Apache-2.0
"""The authenticated API (auth.py): TLS with client certificates and an allow list of
roles, against a real TLS stack with certificates made here: a CA, the service's, an admin
and a read-only client, one not in the allow list, an expired one and one of another CA.
Also --grpc-listen, the clients' --tls-* flags, and the telemetry socket's mode."""
from __future__ import annotations

import datetime
import ipaddress
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import harness
from dplane.proto import dpdk_pb2, dpdk_pb2_grpc, dplane_pb2, dplane_pb2_grpc
from dplane.telemetry_client import socket_path

VERSION = dpdk_pb2.GetVersionRequest(client_protocol="1", client_name="tls",
                                     client_version="1")
NOW = datetime.datetime.now(datetime.UTC)


# ---------------------------------------------------------------------------------------
# Certificates

@dataclass
class Pem:
    cert: bytes
    key: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(name: str) -> tuple[Pem, ec.EllipticCurvePrivateKey, x509.Name]:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)), key, subject


def issue(ca: tuple[Pem, ec.EllipticCurvePrivateKey, x509.Name], name: str,
          sans: list[x509.GeneralName] = (), expired: bool = False) -> Pem:
    _, ca_key, ca_name = ca
    key = _key()
    start = NOW - datetime.timedelta(days=10 if expired else 1)
    end = NOW - datetime.timedelta(days=1) if expired else NOW + datetime.timedelta(days=30)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)),
                                        critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


@dataclass
class Pki:
    dir: Path
    issuer: tuple  # make_ca()'s: to issue the services' certificates, which name their address
    server: Pem
    clients: dict[str, Pem]

    @property
    def ca(self) -> Pem:
        return self.issuer[0]

    def write(self, name: str, pem: Pem) -> tuple[str, str]:
        cert, key = self.dir / f"{name}.crt", self.dir / f"{name}.key"
        cert.write_bytes(pem.cert)
        key.write_bytes(pem.key)
        return str(cert), str(key)


# ---------------------------------------------------------------------------------------
# The service

@dataclass
class TlsService:
    svc: harness.Service
    pki: Pki

    @property
    def address(self) -> str:
        return f"{self.svc.netns.ns_ip}:{harness.GRPC_PORT}"

    def channel(self, client: str | None, ca: Pem | None = None) -> grpc.Channel:
        pem = self.pki.clients[client] if client else None
        creds = grpc.ssl_channel_credentials(
            root_certificates=(ca or self.pki.ca).cert,
            private_key=pem.key if pem else None, certificate_chain=pem.cert if pem else None)
        return grpc.secure_channel(self.address, creds)

    def api(self, client: str | None, ca: Pem | None = None) -> dpdk_pb2_grpc.DPDKironcoreStub:
        return dpdk_pb2_grpc.DPDKironcoreStub(self.channel(client, ca))


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca("dplane test CA")
    other_ca = make_ca("another CA")
    pki = Pki(root, ca, issue(ca, "dplane-host"), {
        "admin": issue(ca, "operator", [x509.DNSName("admin.example")]),
        "reader": issue(ca, "exporter"),
        "stranger": issue(ca, "stranger"),
        "expired": issue(ca, "operator", expired=True),
        "foreign": issue(other_ca, "operator"),
    })
    (root / "ca.crt").write_bytes(ca[0].cert)
    return pki


def start_tls_service(pki: Pki, extra: list[str] = (), allow: str | None = None
                      ) -> tuple[harness.Netns, harness.Service]:
    """A service whose certificate names its management address; the harness's own health
    check is in the clear, so the start is awaited on the log instead."""
    ns = harness.Netns()
    server = issue(pki.issuer, "dplane-host", [x509.IPAddress(ipaddress.ip_address(ns.ns_ip))])
    cert, key = pki.write(f"server-{ns.id}", server)
    allow_file = pki.dir / f"allow-{ns.id}"
    allow_file.write_text(allow if allow is not None else
                          "# identity = role\nadmin.example = admin\nexporter = read-only\n")
    opts = [*harness.SERVICE_OPTS, "--grpc-tls-cert", cert, "--grpc-tls-key", key,
            "--grpc-tls-client-ca", str(pki.dir / "ca.crt"), "--grpc-allow", str(allow_file),
            *extra]
    return ns, _start(ns, opts)


def _start(ns: harness.Netns, opts: list[str]) -> harness.Service:
    prefix = f"dpt{ns.id}"
    cmd = ["ip", "netns", "exec", ns.name,
           *harness.dplane_cmd(*harness.tap_eal_args(2, prefix, telemetry=True), "--", *opts)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc.stderr = harness._Drained(proc.stderr)
    channel = grpc.insecure_channel(f"{ns.ns_ip}:{harness.GRPC_PORT}")
    svc = harness.Service(ns, proc, prefix, channel, dpdk_pb2_grpc.DPDKironcoreStub(channel),
                          None, dplane_pb2_grpc.DiagnosticsStub(channel))
    deadline = time.monotonic() + 30
    while not _listening(ns):
        if proc.poll() is not None:
            raise harness.ServiceFailed(proc.stderr.read())
        assert time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.1)
    return svc


def _listening(ns: harness.Netns) -> bool:
    out = harness.run("ss", "-Hltn", f"sport = :{harness.GRPC_PORT}", netns=ns.name,
                      check=False).stdout
    return bool(out.strip())


@pytest.fixture(scope="module")
def tls(pki) -> Iterator[TlsService]:
    ns, svc = start_tls_service(pki)
    try:
        yield TlsService(svc, pki)
    finally:
        svc.terminate()
        ns.delete()


# ---------------------------------------------------------------------------------------
# Who is let in, and to what

def test_admin_may_do_everything(tls):
    api = tls.api("admin")
    assert api.Initialize(dpdk_pb2.InitializeRequest(), timeout=5).uuid
    reply = api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
        interface_id=b"tls0", vni=100, device_name="dtapvf_0",
        ipv4_config=dpdk_pb2.IpConfig(primary_address=b"10.0.0.1"),
        ipv6_config=dpdk_pb2.IpConfig(primary_address=b"2001:db8::1")), timeout=5)
    assert reply.status.code == 0
    assert [i.id for i in api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(),
                                             timeout=5).interfaces] == [b"tls0"]


def test_read_only_reads_but_cannot_change(tls):
    tls.api("admin").Initialize(dpdk_pb2.InitializeRequest(), timeout=5)
    api = tls.api("reader")
    assert api.GetVersion(VERSION, timeout=5).service_version
    api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(), timeout=5)
    api.CheckVniInUse(dpdk_pb2.CheckVniInUseRequest(vni=100), timeout=5)
    diag = dplane_pb2_grpc.DiagnosticsStub(tls.channel("reader"))
    assert diag.GetStats(dplane_pb2.GetStatsRequest(), timeout=5).options
    for call, request in ((api.CreateInterface, dpdk_pb2.CreateInterfaceRequest(
                              interface_id=b"x", vni=1, device_name="dtapvf_1")),
                          (api.Initialize, dpdk_pb2.InitializeRequest()),
                          (api.ResetVni, dpdk_pb2.ResetVniRequest(vni=100)),
                          (diag.StopTrace, dplane_pb2.StopTraceRequest())):
        with pytest.raises(grpc.RpcError) as err:
            call(request, timeout=5)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "exporter: read-only" in err.value.details()


def test_identity_not_in_the_allow_list_is_denied(tls):
    with pytest.raises(grpc.RpcError) as err:
        tls.api("stranger").GetVersion(VERSION, timeout=5)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "not in the allow list" in err.value.details()


@pytest.mark.parametrize("client", [None, "expired", "foreign"])
def test_refused_at_the_handshake(tls, client):
    """No certificate, an expired one, one of another CA: no call gets through."""
    with pytest.raises(grpc.RpcError) as err:
        tls.api(client).GetVersion(VERSION, timeout=3)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_in_the_clear_is_refused(tls):
    with grpc.insecure_channel(tls.address) as channel, pytest.raises(grpc.RpcError) as err:
        dpdk_pb2_grpc.DPDKironcoreStub(channel).GetVersion(VERSION, timeout=3)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_server_of_another_ca_is_not_trusted(tls):
    other = make_ca("impostor CA")[0]
    with pytest.raises(grpc.RpcError) as err:
        tls.api("admin", ca=other).GetVersion(VERSION, timeout=3)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_clients_take_tls_flags(tls):
    """dplane-cli, dplane-inspect and dplane-dump with --tls-ca/--tls-cert/--tls-key."""
    tls.api("admin").Initialize(dpdk_pb2.InitializeRequest(), timeout=5)
    cert, key = tls.pki.write("admin", tls.pki.clients["admin"])
    flags = ["--address", tls.address, "--tls-ca", str(tls.pki.dir / "ca.crt"),
             "--tls-cert", cert, "--tls-key", key]
    cli_cmd = [sys.executable, "-c", "import sys; from dplane.cli import main; "
               "sys.exit(main())"]
    cli = subprocess.run([*cli_cmd, "list", "interfaces", *flags, "-o", "json"],
                         capture_output=True, text=True, timeout=30)
    assert cli.returncode == 0, cli.stderr
    inspect = subprocess.run([sys.executable, "-m", "dplane.inspect_cli", "-t", "iface",
                              *flags], capture_output=True, text=True, timeout=30)
    assert inspect.returncode == 0, inspect.stderr
    dump = subprocess.run([sys.executable, "-m", "dplane.dump", "--stop", *flags],
                          capture_output=True, text=True, timeout=30)
    assert dump.returncode == 0, dump.stderr
    # without the flags, the CLI cannot get in
    clear = subprocess.run([*cli_cmd, "list", "interfaces",
                            "--address", tls.address, "--connect-timeout", "2s"],
                           capture_output=True, text=True, timeout=30)
    assert clear.returncode != 0
    bad = subprocess.run([*cli_cmd, "list", "interfaces",
                          "--address", tls.address, "--tls-cert", cert],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "--tls-ca" in bad.stdout + bad.stderr


def test_telemetry_socket_is_root_only(tls):
    mode = os.stat(socket_path(tls.svc.prefix)).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


# ---------------------------------------------------------------------------------------
# Options

def test_listen_address(pki):
    """--grpc-listen 127.0.0.1: the management address no longer answers."""
    ns = harness.Netns()
    try:
        svc = _start_clear(ns, ["--grpc-listen", "127.0.0.1"])
        with grpc.insecure_channel(f"{ns.ns_ip}:{harness.GRPC_PORT}") as channel:
            with pytest.raises(grpc.RpcError) as err:
                dpdk_pb2_grpc.DPDKironcoreStub(channel).GetVersion(VERSION, timeout=2)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        out = harness.run("ss", "-Hltn", f"sport = :{harness.GRPC_PORT}", netns=ns.name)
        assert "127.0.0.1:1337" in out.stdout
        svc.terminate()
    finally:
        ns.delete()


def _start_clear(ns: harness.Netns, opts: list[str]) -> harness.Service:
    return _start(ns, [*harness.SERVICE_OPTS, *opts])


@pytest.mark.parametrize("opts, text", [
    (["--grpc-tls-cert", "/nonexistent.crt"], "--grpc-tls-cert and --grpc-tls-key go together"),
    (["--grpc-tls-cert", "/nonexistent.crt", "--grpc-tls-key", "/nonexistent.key"],
     "Cannot read --grpc-tls-cert '/nonexistent.crt'"),
    (["--grpc-allow", "/dev/null"], "--grpc-allow needs --grpc-tls-client-ca"),
    (["--grpc-listen", "not-an-address"], "'--grpc-listen'"),
])
def test_bad_tls_options_are_refused(opts, text):
    proc = harness.dplane_options(*opts)
    assert proc.returncode == 1 and text in proc.stderr, proc.stderr


@pytest.mark.parametrize("content, text", [
    ("admin", "expected 'IDENTITY = ROLE'"),
    ("x = superuser", "unknown role 'superuser'"),
    ("x = admin\nx = read-only", "'x' has two roles"),
])
def test_bad_allow_list_is_refused(pki, tmp_path, content, text):
    allow = tmp_path / "allow"
    allow.write_text(content)
    cert, key = pki.write("server-bad", pki.server)
    proc = harness.dplane_options("--grpc-tls-cert", cert, "--grpc-tls-key", key,
                                  "--grpc-tls-client-ca", str(pki.dir / "ca.crt"),
                                  "--grpc-allow", str(allow))
    assert proc.returncode == 1 and text in proc.stderr, proc.stderr


def test_read_only_calls():
    """What a read-only client may call, by name, over every service the port serves."""
    from dplane.auth import is_read

    methods = {m.name for m in dpdk_pb2.DESCRIPTOR.services_by_name["DPDKironcore"].methods}
    reads = {m for m in methods if is_read(f"/dpdkironcore.v1.DPDKironcore/{m}")}
    assert reads == {m for m in methods if m.startswith(("Check", "Get", "List"))} | {
        "CaptureStatus"}
    assert "GetVersion" in reads and "CreateInterface" not in reads
    diag = {m.name for m in dplane_pb2.DESCRIPTOR.services_by_name["Diagnostics"].methods}
    assert {m for m in diag if not is_read(f"/dplane.v1.Diagnostics/{m}")} == {
        "Trace", "StopTrace"}
    assert is_read("/grpc.health.v1.Health/Check") and is_read("/grpc.health.v1.Health/Watch")
    assert is_read("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")


def test_exporter_checks_the_service_over_tls(tls):
    """dplane-exporter with --tls-*: the service counts as up when its health service
    answers over TLS to the exporter's certificate (read-only is enough); a certificate the
    allow list does not know keeps it down."""
    for client, up in (("reader", 1.0), ("stranger", 0.0)):
        cert, key = tls.pki.write(client, tls.pki.clients[client])
        cmd = ["ip", "netns", "exec", tls.svc.netns.name, sys.executable, "-m",
               "dplane.exporter", "-file-prefix", tls.svc.prefix, "--poll-interval=0.2",
               "-port", "9064", "--grpc-address", tls.svc.netns.ns_ip,
               "--tls-ca", str(tls.pki.dir / "ca.crt"), "--tls-cert", cert, "--tls-key", key]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        try:
            assert _exporter_up(f"http://{tls.svc.netns.ns_ip}:9064/metrics", up), \
                proc.stderr.read() if proc.poll() is not None else client
        finally:
            proc.terminate()
            proc.wait(10)


def _exporter_up(url: str, want: float) -> bool:
    """Whether dplane_telemetry_up settles at `want` (read over 2 s of 0.2 s polls)."""
    import urllib.request

    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                text = reply.read().decode()
        except OSError:
            time.sleep(0.2)
            continue
        line = next((x for x in text.splitlines() if x.startswith("dplane_telemetry_up ")),
                    "")
        seen.append(float(line.split()[1]) if line else -1.0)
        if len(seen) >= 10:
            return all(v == want for v in seen[-5:])
        time.sleep(0.2)
    return False
