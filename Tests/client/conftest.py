"""Fixtures that start a real `strata serve` for the qdrant-client suite.

The binary is $STRATA_BIN, or the first of .build*/debug/strata that exists
(scripts/test.sh sets STRATA_BIN to what `swift build` just built). Each server
runs on a free port with a fresh temporary data directory and is stopped with
SIGTERM at the end (its exit code is checked: graceful shutdown must work).

Transport: STRATA_TRANSPORT=grpc runs the suite with `prefer_grpc=True`, so
every client call goes over Qdrant's gRPC API (port `server.grpc_port`);
the default (`rest`) uses REST. Tests of REST itself (raw HTTP, headers,
status codes) are marked `rest_only` and skipped over gRPC.
"""
import os
import signal
import subprocess
import tempfile
import time
import uuid

import httpx
import pytest
from qdrant_client import QdrantClient

from processes import free_port, strata_binary  # noqa: F401 (test_cluster and test_grpc import them from here)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRANSPORT = os.environ.get("STRATA_TRANSPORT", "rest")
if TRANSPORT not in ("rest", "grpc"):
    raise SystemExit(f"STRATA_TRANSPORT must be rest or grpc, got {TRANSPORT!r}")


class StrataServer:
    def __init__(self, *extra_args: str, env: dict | None = None, scheme: str = "http", verify=True,
                 data_dir: str | None = None):
        # `data_dir`: reuse a stopped server's directory (a restart).
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="strata-client-test-")
        self.port = free_port()
        self.grpc_port = free_port(avoid={self.port})
        self.url = f"{scheme}://{'localhost' if scheme == 'https' else '127.0.0.1'}:{self.port}"
        self.log = open(os.path.join(self.data_dir, "..", f"strata-serve-{self.port}.log"), "w")
        self.process = subprocess.Popen(
            [strata_binary(), "serve", "--data-dir", os.path.join(self.data_dir, "data"), "--port", str(self.port),
             "--grpc-port", str(self.grpc_port), *extra_args],
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


class StrataCluster:
    """STRATA_TOPOLOGY=cluster: a 3-node `strata cluster local` (etcd ×3) whose nodes
    give every new collection replication_factor 2 (write_consistency_factor 2), in place
    of the single server. Clients talk to node 0. A collection has Qdrant's default
    shard_number, the node count (3; STRATA_SHARDS=N sets --default-shard-number N), each
    shard's primary on its own node and its other replica on another, so every write is
    shipped to a second node and acknowledged only once both have it durably."""

    def __init__(self):
        from test_cluster import LocalCluster
        shards = ["--default-shard-number", os.environ["STRATA_SHARDS"]] if "STRATA_SHARDS" in os.environ else []
        self.local = LocalCluster(nodes=3, default_shards=None, extra=["--default-replication-factor", "2",
                                                  "--default-write-consistency-factor", "2", *shards], lease_ttl=5)
        self.url = self.local.url(0)
        self.port = self.local.base
        self.grpc_port = self.local.base + 1
        self.data_dir = os.path.join(self.local.dir, "node-0")

    def stop(self) -> int:
        return self.local.stop()


TOPOLOGY = os.environ.get("STRATA_TOPOLOGY", "single")
if TOPOLOGY not in ("single", "cluster"):
    raise SystemExit(f"STRATA_TOPOLOGY must be single or cluster, got {TOPOLOGY!r}")


@pytest.fixture(scope="session")
def server():
    srv = StrataCluster() if TOPOLOGY == "cluster" else StrataServer()
    yield srv
    assert srv.stop() == 0, "strata serve must exit 0 after SIGTERM"


def connect(server: StrataServer, **options) -> QdrantClient:
    """A client of `server` over the suite's transport (STRATA_TRANSPORT)."""
    options.setdefault("timeout", 60)
    return QdrantClient(url=server.url, grpc_port=server.grpc_port, prefer_grpc=TRANSPORT == "grpc", **options)


def pytest_configure(config):
    config.addinivalue_line("markers", "rest_only: tests REST itself (raw HTTP); skipped over gRPC")
    config.addinivalue_line(
        "markers", "single_node(reason): needs what a cluster node does not do (yet); skipped on a cluster")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if TRANSPORT == "grpc" and "rest_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="tests REST itself (STRATA_TRANSPORT=grpc)"))
        marker = item.get_closest_marker("single_node")
        if TOPOLOGY == "cluster" and marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"on a cluster: {marker.args[0]} (docs/cluster.md)"))


@pytest.fixture(scope="session")
def client(server):
    c = connect(server)
    yield c
    c.close()


@pytest.fixture()
def name():
    """A fresh collection name per test."""
    return "c_" + uuid.uuid4().hex[:12]
