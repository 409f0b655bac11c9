"""Is the server alive? GET https://127.0.0.1:$EXTENDDB_PORT/health, exit 0 if it
answers 200 with {"status": "ok"}, else 1. The container's HEALTHCHECK, and a
probe for any supervisor on the server's own host.

The certificate is not verified: this asks whether the process on this host
answers, not whether it is who it says (its certificate may name only the
public host name, and an operator's CA need not be installed in the image).
"""
from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.request


def healthy(port: int, timeout: float = 4.0) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/health", context=context, timeout=timeout) as resp:
            return resp.status == 200 and json.load(resp).get("status") == "ok"
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(0 if healthy(int(os.environ.get("EXTENDDB_PORT", "8000"))) else 1)
