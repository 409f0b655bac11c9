"""TLS as docs/install.md tells operators to run it: a certificate from the
site's own CA (chain order), the self-signed one made again for a new --host,
and a certificate renewed with SIGHUP while clients keep working."""
from __future__ import annotations

import datetime
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from extenddb_site.tls import ensure_self_signed

from . import testenv
from .reliability import harness
from .server import ROOT, Server, _healthy, free_port

pytestmark = pytest.mark.skipif(testenv.BACKEND != "sqlite",
                                reason="TLS does not depend on the backend: runs once, in the SQLite pass")


# --- a site CA: root -> intermediate -> server certificate ---------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _sign(subject_key, subject: str, issuer_key, issuer: str, *, ca: bool, san: list[str] | None = None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        import ipaddress

        names = [x509.IPAddress(ipaddress.ip_address(h)) if h[0].isdigit() else x509.DNSName(h) for h in san]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class SiteCA:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root_key, self.mid_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        self.root = _sign(self.root_key, "Site Root CA", self.root_key, "Site Root CA", ca=True)
        self.mid = _sign(self.mid_key, "Site Issuing CA", self.root_key, "Site Root CA", ca=True)
        self.root_pem = folder / "site-root.pem"
        self.root_pem.write_bytes(self.root.public_bytes(serialization.Encoding.PEM))

    def issue(self, chain: Path, key: Path, *, leaf_first: bool = True) -> x509.Certificate:
        """A server certificate for 127.0.0.1, written as the chain file and a 0600 key (atomically)."""
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = _sign(leaf_key, "extenddb.example.internal", self.mid_key, "Site Issuing CA", ca=False,
                     san=["127.0.0.1", "localhost"])
        pems = [c.public_bytes(serialization.Encoding.PEM) for c in (leaf, self.mid)]
        for path, data, mode in ((key, leaf_key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()), 0o600),
                                 (chain, b"".join(pems if leaf_first else pems[::-1]), 0o644)):
            tmp = path.with_suffix(".new")
            tmp.write_bytes(data)
            tmp.chmod(mode)
            os.replace(tmp, path)
        return leaf


def _served_serial(port: int, cafile: str, host: str = "127.0.0.1") -> int:
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((host, port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number


def _start(dep: harness.Deployment, ready, *extra: str, workers: int) -> Server:
    """dep.start for servers its health check cannot reach: `ready(port)` says when this one serves."""
    port, log_path = free_port(), dep.data_dir / f"server-{len(dep.servers)}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port),
                                    "--workers", str(workers), *extra], cwd=ROOT, env=dep.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, port, "", log_path)
    dep.servers.append(server)  # stopped by the deployment
    deadline = time.monotonic() + 60
    while not ready(port):
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.2)
    return server


def _signed_by(ca: Path):
    return lambda port: _healthy(port, str(ca))


@pytest.fixture
def site_ca(tmp_path):
    return SiteCA(tmp_path)


@contextmanager
def _served_with_site_ca(site_ca: SiteCA, tmp_path: Path, workers: int):
    """A deployment serving a certificate of the site CA: (chain, key, first leaf, server, access key)."""
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    leaf = site_ca.issue(chain, key)
    with harness.deployment() as dep:
        access = dep.create_key()
        server = _start(dep, _signed_by(site_ca.root_pem), "--cert", str(chain), "--key", str(key), workers=workers)
        server.ca_bundle = str(site_ca.root_pem)
        yield chain, key, leaf, server, access


def test_site_ca_chain_leaf_first(site_ca, tmp_path):
    """Clients that trust only the site's root CA accept the server: it sends the intermediate."""
    with _served_with_site_ca(site_ca, tmp_path, workers=1) as (_, _, leaf, server, access):
        assert "TableNames" in harness.client(server, access).list_tables()
        assert _served_serial(server.port, str(site_ca.root_pem)) == leaf.serial_number


def test_chain_in_the_wrong_order_is_refused_at_start(site_ca, tmp_path):
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    site_ca.issue(chain, key, leaf_first=False)
    out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(free_port()),
                          "--workers", "1", "--no-background", "--cert", str(chain), "--key", str(key)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "KEY_VALUES_MISMATCH" in out.stdout + out.stderr or "key values mismatch" in out.stdout + out.stderr


def test_a_new_host_gets_a_new_self_signed_certificate():
    """Today's bug: the localhost-only certificate of a first start was kept for --host."""
    with harness.deployment() as dep:
        ensure_self_signed(dep.data_dir, ["127.0.0.1"])  # what a first `bootstrap.py serve` left behind

        def verified_as_127_0_0_2(port: int) -> bool:  # the host name is checked: 127.0.0.2 must be in it
            try:
                _served_serial(port, str(dep.data_dir / "tls-cert.pem"), host="127.0.0.2")
                return True
            except (OSError, ssl.SSLError):
                return False

        server = _start(dep, verified_as_127_0_0_2, "--host", "127.0.0.2", "--no-background", workers=1)
        assert "does not cover 127.0.0.2" in server.log_path.read_text()


def test_sighup_renews_the_certificate_while_clients_keep_working(site_ca, tmp_path):
    with _served_with_site_ca(site_ca, tmp_path, workers=2) as (chain, key, first, server, access):
        # The SDKs' standard retry mode (3 attempts), as applications run them.
        client = harness.client(server, access, retries=3)
        client.create_table(TableName="renewal", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        stop, failures, done = threading.Event(), [], [0]

        def traffic() -> None:
            c = harness.client(server, access, retries=3)
            while not stop.is_set():
                try:
                    c.put_item(TableName="renewal", Item={"pk": {"S": f"k{done[0] % 50}"}})
                    c.get_item(TableName="renewal", Key={"pk": {"S": f"k{done[0] % 50}"}})
                    done[0] += 1
                except Exception as exc:  # any failure the application would see
                    failures.append(repr(exc))

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            second = site_ca.issue(chain, key)  # renewal: new files in place
            time.sleep(0.5)
            before = done[0]
            os.kill(server.process.pid, signal.SIGHUP)
            # Done when every new connection gets the new certificate: 16 handshakes in a row
            # (spread over the workers by the kernel) while an old worker would answer one in two.
            deadline = time.monotonic() + 120
            while {_served_serial(server.port, str(site_ca.root_pem)) for _ in range(16)} != {second.serial_number}:
                assert time.monotonic() < deadline, "the old certificate is still served"
                time.sleep(0.3)
            assert first.serial_number != second.serial_number
        finally:
            stop.set()
            worker.join(timeout=60)
        assert failures == []
        assert done[0] > before  # traffic went on through the swap
        assert server.process.poll() is None
