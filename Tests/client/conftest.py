"""Fixtures that start a real `strata serve` for the qdrant-client suite.

The binary is $STRATA_BIN, or the first of .build*/debug/strata that exists
(scripts/test.sh sets STRATA_BIN to what `swift build` just built). Each server
runs on a free port with a fresh temporary data directory and is stopped with
SIGTERM at the end (its exit code is checked: graceful shutdown must work).
"""
import glob
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import httpx
import pytest
from qdrant_client import QdrantClient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def strata_binary() -> str:
    explicit = os.environ.get("STRATA_BIN")
    if explicit:
        return explicit
    candidates = sorted(glob.glob(os.path.join(ROOT, ".build*", "debug", "strata")), key=os.path.getmtime, reverse=True)
    if not candidates:
        pytest.exit("no strata binary: run `swift build` first or set STRATA_BIN", returncode=2)
    return candidates[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StrataServer:
    def __init__(self, *extra_args: str, env: dict | None = None, scheme: str = "http", verify=True,
                 data_dir: str | None = None):
        # `data_dir`: reuse a stopped server's directory (a restart).
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="strata-client-test-")
        self.port = free_port()
        self.url = f"{scheme}://{'localhost' if scheme == 'https' else '127.0.0.1'}:{self.port}"
        self.log = open(os.path.join(self.data_dir, "..", f"strata-serve-{self.port}.log"), "w")
        self.process = subprocess.Popen(
            [strata_binary(), "serve", "--data-dir", os.path.join(self.data_dir, "data"), "--port", str(self.port), *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"strata serve exited with {self.process.returncode}; log: {self.log.name}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1, verify=verify).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("strata serve did not become ready in 30 s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code


@pytest.fixture(scope="session")
def server():
    srv = StrataServer()
    yield srv
    assert srv.stop() == 0, "strata serve must exit 0 after SIGTERM"


@pytest.fixture(scope="session")
def client(server):
    c = QdrantClient(url=server.url, timeout=60)
    yield c
    c.close()


@pytest.fixture()
def name():
    """A fresh collection name per test."""
    return "c_" + uuid.uuid4().hex[:12]
