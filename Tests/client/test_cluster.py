"""A real 3-node cluster (`strata cluster local`: etcd x3 and `strata serve` x3 on
loopback) seen through qdrant-client and raw HTTP: membership, the controller,
metadata keys, a node killed with SIGKILL, and nodes that must not join.
Runs once per suite (REST transport only: the endpoints are REST)."""
import os
import signal
import socket
import subprocess
import tempfile
import time

import httpx
import pytest
from qdrant_client import QdrantClient

from conftest import TRANSPORT, strata_binary

pytestmark = pytest.mark.rest_only

SECRET = "client-suite-secret"
LEASE_TTL = 3


def free_base(count: int) -> int:
    """A port p with p..p+count-1 free now."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count >= 65535:
            continue
        ok = True
        for port in range(base, base + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


class LocalCluster:
    def __init__(self, nodes: int = 3):
        self.dir = tempfile.mkdtemp(prefix="strata-cluster-test-")
        self.base = free_base(10 * nodes)
        self.etcd_base = free_base(6)
        self.nodes = nodes
        self.out = open(os.path.join(self.dir, "cluster-local.out"), "w")
        self.process = subprocess.Popen(
            [strata_binary(), "cluster", "local", "--nodes", str(nodes), "--etcd-members", "3", "--dir", self.dir,
             "--base-port", str(self.base), "--etcd-base-port", str(self.etcd_base), "--lease-ttl", str(LEASE_TTL)],
            stdout=self.out, stderr=subprocess.STDOUT, env={**os.environ, "STRATA_CLUSTER_SECRET": SECRET})
        deadline = time.time() + 120
        log = os.path.join(self.dir, "cluster-local.out")
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"strata cluster local exited with {self.process.returncode}: {open(log).read()}")
            if "ready" in open(log).read():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the cluster did not form in 120 s: {open(log).read()}")

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.base + 10 * index}"

    @property
    def etcd(self) -> str:
        return ",".join(f"http://127.0.0.1:{self.etcd_base + 2 * j}" for j in range(3))

    def node_pid(self, index: int) -> int:
        out = subprocess.run(["pgrep", "-f", "--", f"--data-dir {self.dir}/node-{index} "], capture_output=True, text=True)
        return int(out.stdout.split()[0])

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=60)
        self.out.close()
        return code


@pytest.fixture(scope="module")
def cluster():
    if TRANSPORT != "rest":
        pytest.skip("cluster endpoints are REST")
    c = LocalCluster()
    yield c
    assert c.stop() == 0, "strata cluster local must stop cleanly on Ctrl-C"


def status(url: str) -> dict:
    response = httpx.get(f"{url}/cluster", timeout=10)
    assert response.status_code == 200
    return response.json()["result"]


def test_every_node_reports_the_same_members_and_controller(cluster):
    statuses = [status(cluster.url(i)) for i in range(3)]
    peer_ids = {s["peer_id"] for s in statuses}
    assert len(peer_ids) == 3, "each node has its own peer id"
    for s in statuses:
        assert s["status"] == "enabled"
        assert set(map(int, s["peers"])) == peer_ids
        assert sorted(p["node_name"] for p in s["peers"].values()) == ["node-0", "node-1", "node-2"]
        assert all(p["state"] == "Active" for p in s["peers"].values())
        assert s["raft_info"]["leader"] in peer_ids
        assert s["consensus_thread_status"]["consensus_thread_status"] == "working"
    assert len({s["raft_info"]["leader"] for s in statuses}) == 1, "one controller, seen by all"
    assert sum(s["raft_info"]["role"] == "Leader" for s in statuses) == 1
    # Each node's peer uri is where its REST API answers.
    for s in statuses:
        me = s["peers"][str(s["peer_id"])]
        assert httpx.get(f"{me['uri']}/cluster", timeout=10).json()["result"]["peer_id"] == s["peer_id"]


def test_qdrant_client_reads_the_cluster_status(cluster):
    client = QdrantClient(url=cluster.url(1), timeout=30)
    info = client.http.distributed_api.cluster_status().result
    assert info.status == "enabled" and len(info.peers) == 3 and info.raft_info.leader is not None
    client.close()


def test_metadata_keys_written_on_one_node_are_read_on_the_others(cluster):
    value = {"region": "eu-west", "replicas": [1, 2, None], "ratio": 0.5}
    assert httpx.put(f"{cluster.url(0)}/cluster/metadata/keys/placement", json=value).json()["result"] is True
    for i in range(3):
        assert httpx.get(f"{cluster.url(i)}/cluster/metadata/keys/placement").json()["result"] == value
        assert "placement" in httpx.get(f"{cluster.url(i)}/cluster/metadata/keys").json()["result"]
    assert httpx.delete(f"{cluster.url(2)}/cluster/metadata/keys/placement").status_code == 200
    assert httpx.get(f"{cluster.url(1)}/cluster/metadata/keys/placement").json()["result"] is None
    bad = httpx.put(f"{cluster.url(0)}/cluster/metadata/keys/x", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert bad.status_code == 400


def test_nodes_that_must_not_join_are_refused_and_change_nothing(cluster):
    def serve(name: str, secret: str, etcd: str) -> subprocess.CompletedProcess:
        data = os.path.join(cluster.dir, f"refused-{name}-{secret}")
        port = free_base(2)
        result = subprocess.run(
            [strata_binary(), "serve", "--data-dir", data, "--port", str(port), "--grpc-port", str(port + 1),
             "--etcd", etcd, "--node-name", name],
            capture_output=True, text=True, timeout=60, env={**os.environ, "STRATA_CLUSTER_SECRET": secret})
        assert not os.path.exists(data), "a node that could not join leaves no data directory behind"
        return result

    taken = serve("node-1", SECRET, cluster.etcd)
    assert taken.returncode == 1 and 'the node name "node-1" is taken by a running node' in taken.stderr
    wrong = serve("node-9", "not-the-secret", cluster.etcd)
    assert wrong.returncode == 1 and "cluster secret does not match" in wrong.stderr
    unreachable = serve("node-9", SECRET, f"http://127.0.0.1:{free_base(1)}")
    assert unreachable.returncode == 1 and "etcd is unreachable" in unreachable.stderr
    assert len(status(cluster.url(0))["peers"]) == 3


def test_a_killed_node_turns_dead_within_its_lease_and_can_then_be_removed(cluster):
    victim = status(cluster.url(2))["peer_id"]
    refused = httpx.delete(f"{cluster.url(0)}/cluster/peer/{victim}")
    assert refused.status_code == 400 and "is running" in refused.json()["status"]["error"]

    os.kill(cluster.node_pid(2), signal.SIGKILL)
    killed_at = time.time()
    while status(cluster.url(0))["peers"][str(victim)]["state"] != "Dead":
        assert time.time() - killed_at < LEASE_TTL + 5, "a killed node must turn Dead within its lease TTL"
        time.sleep(0.1)
    assert httpx.delete(f"{cluster.url(1)}/cluster/peer/{victim}").json()["result"] is True
    for i in range(2):
        deadline = time.time() + 5
        while str(victim) in status(cluster.url(i))["peers"]:
            assert time.time() < deadline
            time.sleep(0.1)
    missing = httpx.delete(f"{cluster.url(1)}/cluster/peer/{victim}")
    assert missing.status_code == 404
