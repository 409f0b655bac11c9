"""The endpoint's TLS certificate: a self-signed one made on first start, and
made again when it no longer fits (a --host it does not name, close to expiry).

Operators with their own CA pass --cert/--key instead (docs/install.md).
"""
from __future__ import annotations

import datetime
import fcntl
import ipaddress
import logging
import os
import socket
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger("extenddb.tls")

CERT_FILE, KEY_FILE = "tls-cert.pem", "tls-key.pem"
LIFETIME = datetime.timedelta(days=825)
# Made again this long before it expires, so a restart never serves an expired one.
RENEW_BEFORE = datetime.timedelta(days=30)
_ALWAYS = ("localhost", "127.0.0.1", "::1")

GeneralName = x509.DNSName | x509.IPAddress


def _general_name(host: str) -> GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host.lower().rstrip("."))


def names_for(hostnames: list[str]) -> list[GeneralName]:
    """What the certificate must name: loopback, and each host served on. A
    wildcard address (0.0.0.0, ::) names no host: the machine's names stand in."""
    hosts: list[str] = []
    for host in hostnames:
        try:
            wildcard = ipaddress.ip_address(host).is_unspecified
        except ValueError:
            wildcard = False
        hosts += [socket.gethostname(), socket.getfqdn()] if wildcard else [host]
    return list(dict.fromkeys(_general_name(h) for h in (*_ALWAYS, *hosts) if h))


def _existing(cert_path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return None


def _san(cert: x509.Certificate) -> list[GeneralName]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [n for n in ext if isinstance(n, (x509.DNSName, x509.IPAddress))]


def _why_replace(cert: x509.Certificate | None, wanted: list[GeneralName],
                 now: datetime.datetime) -> str | None:
    if cert is None:
        return "could not be read"
    missing = [str(n.value) for n in wanted if n not in _san(cert)]
    if missing:
        return f"does not cover {', '.join(missing)}"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return f"expires on {cert.not_valid_after_utc:%Y-%m-%d}"
    return None


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _make(names: list[GeneralName], cert_path: Path, key_path: Path, now: datetime.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ExtendDB local endpoint")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + LIFETIME)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_atomically(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()), 0o600)
    _write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def ensure_self_signed(directory: Path, hostnames: list[str]) -> tuple[Path, Path]:
    """Return (cert, key) paths in `directory`, creating or replacing them as needed.

    The certificate is its own CA (basicConstraints CA:true), so handing its
    path to AWS_CA_BUNDLE or NODE_EXTRA_CA_CERTS makes clients trust it. A
    replacement keeps every name the old one had, so clients reaching the
    server by an older name keep working once they trust the new file.
    """
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    wanted = names_for(hostnames)
    # One writer at a time: two servers starting on one data directory must not pair one's key with the other's cert.
    with open(directory / ".tls.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = _existing(cert_path) if key_path.exists() else None
        if cert_path.exists() and key_path.exists():
            reason = _why_replace(cert, wanted, now)
            if reason is None:
                return cert_path, key_path
            wanted = list(dict.fromkeys([*_san(cert), *wanted])) if cert else wanted
            log.warning("TLS: made a new self-signed certificate, as the old one %s; clients must trust the "
                        "new %s (AWS_CA_BUNDLE)", reason, cert_path)
        _make(wanted, cert_path, key_path, now)
    return cert_path, key_path


def reload_context(config: Any) -> bool:
    """On SIGHUP, before new workers are forked: a fresh TLS context from the
    certificate files as they are now, in `config` (a loaded uvicorn Config) for
    the workers forked next; running workers keep theirs. A pair that does not
    load leaves the old context in place and returns False."""
    if config.ssl is None:
        return True
    from uvicorn.config import create_ssl_context

    try:
        context = create_ssl_context(
            certfile=config.ssl_certfile, keyfile=config.ssl_keyfile, password=config.ssl_keyfile_password,
            ssl_version=config.ssl_version, cert_reqs=config.ssl_cert_reqs, ca_certs=config.ssl_ca_certs,
            ciphers=config.ssl_ciphers,
            alpn_protocols=getattr(config.http_protocol_class, "alpn_protocols", None))
    except (OSError, ssl.SSLError) as exc:
        log.error("TLS: %s and %s do not load as a certificate chain and its key (%s); the workers keep the "
                  "old certificate", config.ssl_certfile, config.ssl_keyfile, exc)
        return False
    config.ssl = context
    return True
