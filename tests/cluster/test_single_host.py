"""SQLite is single-host, and says so: a second host pointed at the same database
file is refused at start (it would see neither this host's cache invalidation
nor its locks), with a message that names the host and the way out."""
from __future__ import annotations

import socket

import pytest

from .. import testenv
from ..reliability.harness import deployment
from ..server import free_port

pytestmark = pytest.mark.skipif(testenv.BACKEND != "sqlite", reason="the embedded SQLite default")


def test_a_second_host_is_refused():
    with deployment() as dep:
        database = dep.database_url.removeprefix("sqlite:///")
        server = dep.start(workers=1)  # this host takes the database
        assert open(database + ".host").read().strip() == socket.gethostname()
        server.stop()
        with open(database + ".host", "w") as owner:
            owner.write("ward-7-server\n")  # as another machine mounting the same file would find it
        out = dep.manage("serve", "--port", str(free_port()), "--workers", "1", check=False, timeout=60)
        assert out.returncode != 0
        message = out.stdout + out.stderr
        assert "ward-7-server" in message and "single-host" in message and "PostgreSQL" in message, message
