"""Where the `strata` binary is and which loopback ports are free: shared by the client
suite (conftest.py) and the dashboard's browser tests (Tests/dashboard/conftest.py)."""
import glob
import os
import random
import socket

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def strata_binary() -> str:
    explicit = os.environ.get("STRATA_BIN")
    if explicit:
        return explicit
    candidates = sorted(glob.glob(os.path.join(ROOT, ".build*", "debug", "strata")), key=os.path.getmtime, reverse=True)
    if not candidates:
        pytest.exit("no strata binary: run `swift build` first or set STRATA_BIN", returncode=2)
    return candidates[0]


def free_port(avoid: set[int] = frozenset()) -> int:
    """A free loopback port below Linux's ephemeral range (32768 and up), which outgoing
    connections take at any time: a port found free there may be taken before the server binds it.
    `avoid`: ports already chosen but not bound yet (a server's REST port when picking its gRPC one:
    the same number twice made `strata serve` refuse to start)."""
    for _ in range(500):
        port = random.randint(10_000, 32_000)
        if port in avoid:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")
