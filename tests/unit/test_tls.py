"""The self-signed certificate: made once, kept while it fits, made again (keeping
its old names) when --host names a host it does not cover or it nears expiry."""
from __future__ import annotations

import datetime
import ipaddress
import logging
import socket

from cryptography import x509

from extenddb_site import tls


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def _names(path) -> set[str]:
    san = _cert(path).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n.value) for n in san}


def test_made_once_and_kept_while_it_covers_the_host(tmp_path):
    cert, key = tls.ensure_self_signed(tmp_path, ["127.0.0.1"])
    assert _names(cert) == {"localhost", "127.0.0.1", "::1"}
    assert key.stat().st_mode & 0o777 == 0o600
    serial = _cert(cert).serial_number
    tls.ensure_self_signed(tmp_path, ["localhost"])
    assert _cert(cert).serial_number == serial


def test_a_host_it_does_not_cover_gets_a_new_one_that_keeps_the_old_names(tmp_path, caplog):
    cert, key = tls.ensure_self_signed(tmp_path, ["db1.example.internal"])
    old_key = key.read_bytes()
    with caplog.at_level(logging.WARNING, logger="extenddb.tls"):
        tls.ensure_self_signed(tmp_path, ["10.0.0.7"])
    assert _names(cert) == {"localhost", "127.0.0.1", "::1", "db1.example.internal", "10.0.0.7"}
    assert key.read_bytes() != old_key
    assert "does not cover 10.0.0.7" in caplog.text and str(cert) in caplog.text
    assert key.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".tls-*"))  # no temporary files left behind


def test_a_wildcard_address_is_covered_by_the_machines_names(tmp_path):
    cert, _ = tls.ensure_self_signed(tmp_path, ["0.0.0.0"])
    names = _names(cert)
    assert socket.gethostname().lower() in names and "0.0.0.0" not in names


def test_one_close_to_expiry_or_unreadable_is_replaced(tmp_path):
    cert, key = tmp_path / tls.CERT_FILE, tmp_path / tls.KEY_FILE
    now = datetime.datetime.now(datetime.timezone.utc)
    tls._make(tls.names_for(["127.0.0.1"]), cert, key, now - tls.LIFETIME + datetime.timedelta(days=10))
    tls.ensure_self_signed(tmp_path, ["127.0.0.1"])
    assert _cert(cert).not_valid_after_utc - now > tls.LIFETIME - datetime.timedelta(days=1)
    cert.write_text("not a certificate")
    tls.ensure_self_signed(tmp_path, ["127.0.0.1"])
    assert ipaddress.ip_address("127.0.0.1") in {
        n.value for n in _cert(cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value}
