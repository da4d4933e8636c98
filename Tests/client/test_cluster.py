"""A real 3-node cluster (`strata cluster local`: etcd x3 and `strata serve` x3 on
loopback) seen through qdrant-client and raw HTTP: membership, the controller,
metadata keys, replicated collections (writes through any node, reads from
every replica, a replica killed with SIGKILL marked Partial and caught up after
its restart, replicas compared by checksum), a node killed for good and
removed, and nodes that must not join. Runs once per suite over REST."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import httpx
import pytest
from qdrant_client import QdrantClient, grpc as g, models

from conftest import TRANSPORT, strata_binary

pytestmark = pytest.mark.rest_only

SECRET = "client-suite-secret"
LEASE_TTL = 3


def free_base(count: int) -> int:
    """A port p with p..p+count-1 free now, below Linux's ephemeral range (32768 and up):
    the nodes' connections to each other take ephemeral ports at any time."""
    import random
    for _ in range(500):
        base = random.randint(10_000, 32_000 - count)
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
    """`strata cluster local`. `default_shards`: its --default-shard-number; this file's
    tests are about one shard's replication unless they ask for shards (None: Qdrant's
    default, the node count)."""

    def __init__(self, nodes: int = 3, extra: list[str] | None = None, lease_ttl: int = LEASE_TTL,
                 default_shards: int | None = 1):
        self.dir = tempfile.mkdtemp(prefix="strata-cluster-test-")
        # One range for the nodes and etcd: two ranges picked apart could overlap (both free
        # until something binds), and a node then found its port taken by an etcd member.
        self.base = free_base(10 * nodes + 6)
        self.etcd_base = self.base + 10 * nodes
        self.nodes = nodes
        self.restarted: list[subprocess.Popen] = []
        self.out = open(os.path.join(self.dir, "cluster-local.out"), "w")
        self.process = subprocess.Popen(
            [strata_binary(), "cluster", "local", "--nodes", str(nodes), "--etcd-members", "3", "--dir", self.dir,
             "--base-port", str(self.base), "--etcd-base-port", str(self.etcd_base), "--lease-ttl", str(lease_ttl),
             *([] if default_shards is None else ["--default-shard-number", str(default_shards)]), *(extra or [])],
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

    def kill(self, index: int) -> list[str]:
        """SIGKILL node `index`; returns its command line, to start it again."""
        pid = self.node_pid(index)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [part.decode() for part in f.read().split(b"\0") if part]
        os.kill(pid, signal.SIGKILL)
        while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
            time.sleep(0.05)
        return argv

    def restart(self, argv: list[str]) -> subprocess.Popen:
        """Starts a killed node again (outside `strata cluster local`, which no longer watches it)."""
        log = open(os.path.join(self.dir, "restarted.log"), "a")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "STRATA_CLUSTER_SECRET": SECRET})
        self.restarted.append(process)
        return process

    def p2p_state(self, index: int, collection: str) -> dict:
        response = httpx.get(f"http://127.0.0.1:{self.base + 10 * index + 2}/p2p/v1/collections/{collection}/state",
                             params={"checksum": "true"}, headers={"x-strata-cluster-secret": SECRET}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> int:
        for process in self.restarted:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
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


def replicas(url: str, collection: str) -> dict:
    """peer id -> replica state, from `GET /collections/{c}/cluster` of the node at `url`."""
    info = httpx.get(f"{url}/collections/{collection}/cluster", timeout=10).json()["result"]
    states = {shard["peer_id"]: shard["state"] for shard in info["remote_shards"]}
    for shard in info["local_shards"]:
        states[info["peer_id"]] = shard["state"]
    return states


def wait_until(condition, timeout: float, what: str):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def test_a_replicated_collection_takes_writes_and_reads_through_every_node(cluster):
    clients = [QdrantClient(url=cluster.url(i), timeout=30) for i in range(3)]
    assert clients[1].create_collection(
        "replicated", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
        replication_factor=3, write_consistency_factor=2)
    for c in clients:
        assert [x.name for x in c.get_collections().collections] == ["replicated"]
        assert c.collection_exists("replicated")
    # Writes through each node (two of them forward to the primary, node-1).
    for i, c in enumerate(clients):
        c.upsert("replicated", wait=True, points=[
            models.PointStruct(id=10 * i + k, vector=[float(i), float(k), 1.0, 0.5], payload={"node": i, "k": k})
            for k in range(5)])
    clients[0].set_payload("replicated", payload={"tag": "x"}, points=[0, 10, 20], wait=True)
    clients[2].delete("replicated", points_selector=models.PointIdsList(points=[4, 14]), wait=True)
    clients[2].create_payload_index("replicated", "node", models.PayloadSchemaType.INTEGER, wait=True)
    for c in clients:
        assert c.count("replicated").count == 13
        hits = c.query_points("replicated", query=[1.0, 1.0, 1.0, 1.0], limit=3,
                              query_filter=models.Filter(must=[models.FieldCondition(
                                  key="node", match=models.MatchValue(value=2))])).points
        assert [h.payload["node"] for h in hits] == [2, 2, 2]
        assert c.retrieve("replicated", ids=[10])[0].payload == {"node": 1, "k": 0, "tag": "x"}
        assert len(c.scroll("replicated", limit=100)[0]) == 13
    # Every replica holds the same points at the same op number.
    states = [cluster.p2p_state(i, "replicated") for i in range(3)]
    assert len({(s["last_operation"], s["checksum"]) for s in states}) == 1, states
    info = clients[0].http.distributed_api.collection_cluster_info("replicated").result
    assert info.shard_count == 1 and len(info.remote_shards) + len(info.local_shards) == 3
    # A collection with one replica is still seen, read and written through every node.
    clients[0].create_collection("single", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    for i, c in enumerate(clients):
        assert c.collection_exists("single")
        assert c.get_collection("single").config.params.vectors.size == 4
        c.upsert("single", wait=True, points=[models.PointStruct(id=i, vector=[1.0, 0.0, 0.0, float(i)])])
    assert [c.count("single").count for c in clients] == [3, 3, 3]
    assert sorted(os.listdir(os.path.join(cluster.dir, "node-0", "collections"))).count("single") == 1
    assert "single" not in os.listdir(os.path.join(cluster.dir, "node-1", "collections"))
    assert clients[2].delete_collection("single")
    assert not any(c.collection_exists("single") for c in clients)
    for c in clients:
        c.close()


def test_grpc_clients_work_through_every_node(cluster):
    """prefer_grpc=True through any node: collections are created and deleted
    over gRPC, and a call a node cannot serve (a write on a node that is not
    the primary, a read on a node without an Active replica) goes on to the
    primary's gRPC port with the caller's credentials."""
    grpc = [QdrantClient(url=cluster.url(i), grpc_port=cluster.base + 10 * i + 1, prefer_grpc=True, timeout=30)
            for i in range(3)]
    assert grpc[1].create_collection(
        "over_grpc", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
        replication_factor=2, write_consistency_factor=2)
    states = replicas(cluster.url(0), "over_grpc")
    peers = {int(k): v["node_name"] for k, v in status(cluster.url(0))["peers"].items()}
    holders = {int(peers[p].rsplit("-", 1)[1]) for p in states}
    assert len(holders) == 2, states
    outsider = ({0, 1, 2} - holders).pop()  # holds no replica: every call it gets is forwarded
    for c in grpc:
        assert c.collection_exists("over_grpc")
    for i, c in enumerate(grpc):
        c.upsert("over_grpc", wait=True, points=[
            models.PointStruct(id=10 * i + k, vector=[float(i), float(k), 1.0, 0.5], payload={"node": i, "k": k})
            for k in range(5)])
    grpc[outsider].set_payload("over_grpc", payload={"tag": "x"}, points=[0, 10, 20], wait=True)
    grpc[outsider].delete("over_grpc", points_selector=models.PointIdsList(points=[4, 14]), wait=True)
    grpc[outsider].create_payload_index("over_grpc", "node", models.PayloadSchemaType.INTEGER, wait=True)
    for c in grpc:
        assert c.count("over_grpc").count == 13
        assert c.get_collection("over_grpc").points_count == 13
        hits = c.query_points("over_grpc", query=[1.0, 1.0, 1.0, 1.0], limit=3,
                              query_filter=models.Filter(must=[models.FieldCondition(
                                  key="node", match=models.MatchValue(value=2))])).points
        assert [h.payload["node"] for h in hits] == [2, 2, 2]
        assert c.retrieve("over_grpc", ids=[10])[0].payload == {"node": 1, "k": 0, "tag": "x"}
        assert len(c.scroll("over_grpc", limit=100)[0]) == 13
    # Both replicas hold the same points at the same op number.
    held = [cluster.p2p_state(i, "over_grpc") for i in sorted(holders)]
    assert len({(s["last_operation"], s["checksum"]) for s in held}) == 1, held
    # Only a node of the cluster may say it forwards a call.
    forged = QdrantClient(url=cluster.url(outsider), grpc_port=cluster.base + 10 * outsider + 1, prefer_grpc=True,
                          timeout=30, headers={"x-strata-forwarded-by": "1"}, check_compatibility=False)
    with pytest.raises(Exception) as refused:
        forged.count("over_grpc")
    assert "internal to a Strata cluster" in str(refused.value)
    forged.close()
    assert grpc[outsider].delete_collection("over_grpc")
    assert not any(c.collection_exists("over_grpc") for c in grpc)
    for c in grpc:
        c.close()


def test_grpc_clients_work_on_a_collection_of_several_shards(cluster):
    """prefer_grpc=True on a collection of 3 shards: each node sends the call
    through its shard router, so writes land on the shard of each point and
    reads merge every shard; every answer equals REST's on the same node."""
    grpc = [QdrantClient(url=cluster.url(i), grpc_port=cluster.base + 10 * i + 1, prefer_grpc=True, timeout=30)
            for i in range(3)]
    rest = QdrantClient(url=cluster.url(0), timeout=30)
    assert grpc[2].create_collection(
        "sharded_grpc", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE),
        shard_number=3, replication_factor=2)
    assert rest.get_collection("sharded_grpc").config.params.shard_number == 3
    for i, c in enumerate(grpc):
        c.upsert("sharded_grpc", wait=True, points=[
            models.PointStruct(id=100 * i + k, vector=[1.0, float(k % 7), float(i), 0.5 + k],
                               payload={"node": i, "k": k, "even": k % 2 == 0}) for k in range(20)])
    grpc[1].create_payload_index("sharded_grpc", "node", models.PayloadSchemaType.INTEGER, wait=True)
    grpc[1].set_payload("sharded_grpc", payload={"tag": "x"}, points=[0, 100, 200, 5], wait=True)
    grpc[0].overwrite_payload("sharded_grpc", payload={"node": 2, "k": 19}, points=[219], wait=True)
    grpc[2].delete_payload("sharded_grpc", keys=["even"], points=[1, 101], wait=True)
    grpc[0].clear_payload("sharded_grpc", points_selector=models.PointIdsList(points=[2]), wait=True)
    grpc[1].delete("sharded_grpc", points_selector=models.FilterSelector(filter=models.Filter(must=[
        models.FieldCondition(key="k", match=models.MatchValue(value=18))])), wait=True)
    grpc[2].delete("sharded_grpc", points_selector=models.PointIdsList(points=[17]), wait=True)
    node2 = models.Filter(must=[models.FieldCondition(key="node", match=models.MatchValue(value=2))])
    query = [0.9, 3.0, 1.0, 2.0]
    want_count = rest.count("sharded_grpc").count
    assert want_count == 60 - 3 - 1
    want_hits = [(h.id, round(h.score, 5)) for h in rest.query_points("sharded_grpc", query=query, limit=7).points]
    want_filtered = [h.id for h in rest.query_points("sharded_grpc", query=query, limit=5, query_filter=node2,
                                                      offset=2).points]
    want_scroll = [p.id for p in rest.scroll("sharded_grpc", limit=100)[0]]
    assert len(want_scroll) == want_count
    # The router reads a query object's kind whatever the order of its members.
    answers = []
    for formula in ({"formula": {"sum": ["$score", "k"]}, "defaults": {"k": 0}},
                    {"defaults": {"k": 0}, "formula": {"sum": ["$score", "k"]}}):
        answered = httpx.post(f"{cluster.url(0)}/collections/sharded_grpc/points/query", timeout=30, json={
            "prefetch": {"query": query, "limit": 20}, "query": formula, "limit": 3})
        assert answered.status_code == 200, answered.text
        answers.append([p["id"] for p in answered.json()["result"]["points"]])
    assert answers[0] == answers[1] and len(answers[0]) == 3
    want_recommend = [h.id for h in rest.query_points(
        "sharded_grpc", query=models.RecommendQuery(recommend=models.RecommendInput(positive=[3, 103])), limit=4).points]
    for c in grpc:
        assert c.count("sharded_grpc").count == want_count
        assert c.count("sharded_grpc", count_filter=node2).count == rest.count("sharded_grpc", count_filter=node2).count
        assert [(h.id, round(h.score, 5)) for h in c.query_points("sharded_grpc", query=query, limit=7).points] == want_hits
        assert [h.id for h in c.query_points("sharded_grpc", query=query, limit=5, query_filter=node2,
                                             offset=2).points] == want_filtered
        # The legacy RPCs, which qdrant-client 1.20 reaches only through its raw stubs.
        legacy = c.grpc_points.Search(g.SearchPoints(collection_name="sharded_grpc", vector=query, limit=7)).result
        assert [(p.id.num, round(p.score, 5)) for p in legacy] == want_hits
        batch = c.grpc_points.SearchBatch(g.SearchBatchPoints(collection_name="sharded_grpc", search_points=[
            g.SearchPoints(collection_name="sharded_grpc", vector=query, limit=5, offset=2, filter=g.Filter(must=[
                g.Condition(field=g.FieldCondition(key="node", match=g.Match(integer=2)))]))])).result
        assert [p.id.num for p in batch[0].result] == want_filtered
        assert [h.id for h in c.query_points(
            "sharded_grpc", query=models.RecommendQuery(recommend=models.RecommendInput(positive=[3, 103])),
            limit=4).points] == want_recommend
        recommended = c.grpc_points.Recommend(g.RecommendPoints(
            collection_name="sharded_grpc", positive=[g.PointId(num=3), g.PointId(num=103)], limit=4)).result
        assert [p.id.num for p in recommended] == want_recommend
        batch = c.query_batch_points("sharded_grpc", requests=[
            models.QueryRequest(query=query, limit=3), models.QueryRequest(query=query, limit=5, filter=node2, offset=2)])
        assert [[h.id for h in r.points] for r in batch] == [[i for i, _ in want_hits[:3]], want_filtered]
        page, offset = c.scroll("sharded_grpc", limit=25)
        rest_page, rest_offset = rest.scroll("sharded_grpc", limit=25)
        assert [p.id for p in page] == [p.id for p in rest_page] and offset == rest_offset
        got = {r.id: r for r in c.retrieve("sharded_grpc", ids=[0, 1, 2, 5, 219, 17], with_vectors=True)}
        assert sorted(got) == [0, 1, 2, 5, 219]
        assert got[0].payload == {"node": 0, "k": 0, "even": True, "tag": "x"}
        assert got[1].payload == {"node": 0, "k": 1}
        assert got[2].payload == {}
        assert got[219].payload == {"node": 2, "k": 19}
        assert len(got[5].vector) == 4
        hits = c.facet("sharded_grpc", key="node", exact=True).hits
        assert sorted((h.value, h.count) for h in hits) == sorted(
            (h.value, h.count) for h in rest.facet("sharded_grpc", key="node", exact=True).hits)
        info = c.get_collection("sharded_grpc")
        rest_info = rest.get_collection("sharded_grpc")
        assert (info.points_count, info.config.params.shard_number, info.config.params.replication_factor) == (
            rest_info.points_count, 3, 2)
        assert info.payload_schema["node"].points == rest_info.payload_schema["node"].points
        groups = c.query_points_groups("sharded_grpc", query=query, group_by="node", limit=2, group_size=2).groups
        rest_groups = rest.query_points_groups("sharded_grpc", query=query, group_by="node", limit=2,
                                               group_size=2).groups
        assert [(gr.id, [h.id for h in gr.hits]) for gr in groups] == [
            (gr.id, [h.id for h in gr.hits]) for gr in rest_groups]
        searched = c.grpc_points.SearchGroups(g.SearchPointGroups(
            collection_name="sharded_grpc", vector=query, group_by="node", limit=2, group_size=2)).result.groups
        assert [[h.id.num for h in gr.hits] for gr in searched] == [[h.id for h in gr.hits] for gr in rest_groups]
    # The distance matrix over every shard (all of node 1's points sampled, so REST's is the same).
    node1 = models.Filter(must=[models.FieldCondition(key="node", match=models.MatchValue(value=1))])
    rest_pairs = rest.search_matrix_pairs("sharded_grpc", query_filter=node1, sample=100, limit=2).pairs
    assert len(rest_pairs) == 2 * 19
    for c in grpc:
        pairs = c.search_matrix_pairs("sharded_grpc", query_filter=node1, sample=100, limit=2).pairs
        assert [(p.a, p.b, round(p.score, 4)) for p in pairs] == [(p.a, p.b, round(p.score, 4)) for p in rest_pairs]
        offsets = c.search_matrix_offsets("sharded_grpc", query_filter=node1, sample=100, limit=2)
        assert len(offsets.ids) == 19 and len(offsets.scores) == 2 * 19
    # Vectors of points on different shards, updated and deleted through one node.
    grpc[0].update_vectors("sharded_grpc", points=[models.PointVectors(id=i, vector=[0.0, 0.0, 1.0, 0.0])
                                                  for i in (0, 100, 200)], wait=True)
    assert [h.id for h in grpc[1].query_points("sharded_grpc", query=[0.0, 0.0, 1.0, 0.0], limit=3).points] == [
        0, 100, 200]
    grpc[2].delete_vectors("sharded_grpc", vectors=[""], points=[0, 100], wait=True)
    assert [r.vector for r in rest.retrieve("sharded_grpc", ids=[0, 100, 200], with_vectors=True)][:2] == [{}, {}]
    # A batch of operations whose points sit on different shards.
    results = grpc[1].batch_update_points("sharded_grpc", update_operations=[
        models.UpsertOperation(upsert=models.PointsList(points=[
            models.PointStruct(id=500 + k, vector=[1.0, 2.0, 3.0, float(k)], payload={"batch": k}) for k in range(6)])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"tag": "b"}, points=[500, 501, 502])),
        models.DeleteOperation(delete=models.PointIdsList(points=[505])),
    ], wait=True)
    assert len(results) == 3
    assert rest.count("sharded_grpc", count_filter=models.Filter(must=[
        models.FieldCondition(key="batch", range=models.Range(gte=0))])).count == 5
    assert rest.count("sharded_grpc", count_filter=models.Filter(must=[
        models.FieldCondition(key="tag", match=models.MatchValue(value="b"))])).count == 3
    # Collection-level changes reach every shard.
    assert grpc[0].update_collection("sharded_grpc", hnsw_config=models.HnswConfigDiff(ef_construct=123))
    assert rest.get_collection("sharded_grpc").config.hnsw_config.ef_construct == 123
    assert grpc[1].get_collection("sharded_grpc").config.hnsw_config.ef_construct == 123
    # REST's errors come back as the gRPC status they map to, with REST's message.
    with pytest.raises(Exception) as refused:
        grpc[1].create_vector_name("sharded_grpc", "extra", vector_name_config=models.DenseVectorNameConfig(
            dense=models.DenseVectorConfig(size=2, distance=models.Distance.DOT)))
    assert "INVALID_ARGUMENT" in str(refused.value) and "not available on a cluster node yet" in str(refused.value)
    with pytest.raises(Exception) as refused:
        grpc[0].query_points("sharded_grpc", query=[1.0, 2.0], limit=3)
    assert "INVALID_ARGUMENT" in str(refused.value), refused.value
    grpc[2].delete_payload_index("sharded_grpc", "node", wait=True)
    assert "node" not in rest.get_collection("sharded_grpc").payload_schema
    assert grpc[1].delete_collection("sharded_grpc")
    for c in grpc:
        c.close()
    rest.close()


def served_queries(url: str) -> int:
    """`POST …/points/query` requests this node has answered (its /metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("rest_responses_total{") and 'endpoint="/collections/{collection_name}/points/query"' in line)


def test_read_consistency_asks_that_many_replicas_and_resolves_their_answers(cluster):
    """`consistency` (all, majority, quorum, N) on reads: the answer is the one a
    single replica gives (Active replicas agree), and each replica asked serves
    its part (the fan-out shows in every node's metrics)."""
    client = QdrantClient(url=cluster.url(0), timeout=30)
    client.create_collection("consistent", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             replication_factor=3, write_consistency_factor=3)
    client.upsert("consistent", wait=True, points=[
        models.PointStruct(id=k, vector=[1.0, float(k), 0.5, 0.0], payload={"g": k % 3}) for k in range(30)])
    want_hits = [(h.id, h.score) for h in client.query_points("consistent", query=[1, 1, 1, 1], limit=5).points]
    want_scroll = [p.id for p in client.scroll("consistent", limit=100)[0]]
    # Over REST and over gRPC (read_consistency; the replicas' parts are REST requests either way).
    for i, prefer_grpc in [(i, grpc) for i in range(3) for grpc in (False, True)]:
        c = QdrantClient(url=cluster.url(i), grpc_port=cluster.base + 10 * i + 1, prefer_grpc=prefer_grpc, timeout=30)
        for consistency in (models.ReadConsistencyType.ALL, models.ReadConsistencyType.MAJORITY,
                            models.ReadConsistencyType.QUORUM, 2):
            before = [served_queries(cluster.url(j)) for j in range(3)]
            hits = c.query_points("consistent", query=[1, 1, 1, 1], limit=5, consistency=consistency).points
            assert [(h.id, h.score) for h in hits] == want_hits, consistency
            after = [served_queries(cluster.url(j)) for j in range(3)]
            answered = sum(b > a for a, b in zip(before, after))
            # all and majority ask every replica; quorum and 2 ask two (the node's own and one more).
            assert answered == (3 if consistency in (models.ReadConsistencyType.ALL,
                                                     models.ReadConsistencyType.MAJORITY) else 2), (consistency, before, after)
            assert [p.id for p in c.scroll("consistent", limit=100, consistency=consistency)[0]] == want_scroll
            assert [r.id for r in c.retrieve("consistent", ids=[3, 4, 99], consistency=consistency)] == [3, 4]
        counted = httpx.post(f"{cluster.url(i)}/collections/consistent/points/count?consistency=all",
                             json={"filter": {"must": [{"key": "g", "match": {"value": 1}}]}}, timeout=30)
        assert counted.json()["result"]["count"] == 10, counted.text
        c.close()
    bad = httpx.post(f"{cluster.url(0)}/collections/consistent/points/query?consistency=most",
                     json={"query": [1, 1, 1, 1]}, timeout=30)
    assert bad.status_code == 400 and "consistency" in bad.json()["status"]["error"], bad.text
    grpc = QdrantClient(url=cluster.url(0), grpc_port=cluster.base + 1, prefer_grpc=True, timeout=30)
    with pytest.raises(Exception) as refused:
        grpc.grpc_points.Count(g.CountPoints(collection_name="consistent", read_consistency=g.ReadConsistency(factor=0)))
    assert "INVALID_ARGUMENT" in str(refused.value) and "read_consistency" in str(refused.value)
    grpc.close()
    assert client.delete_collection("consistent")
    client.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")
def test_a_cluster_with_tls_speaks_tls_on_every_port_between_its_nodes(tmp_path):
    """--tls-cert/--tls-key on every node: REST, gRPC and the internal port all serve TLS, and
    the nodes call each other over TLS trusting --tls-ca (forwarded writes, replication, gRPC
    forwarding); plain HTTP to the internal port gets no answer."""
    if TRANSPORT != "rest":
        pytest.skip("cluster endpoints are REST")
    import grpc
    from qdrant_client import grpc as g
    cert, key = tmp_path / "node.pem", tmp_path / "node.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    c = LocalCluster(extra=["--tls-cert", str(cert), "--tls-key", str(key), "--tls-ca", str(cert)])
    try:
        https = [f"https://127.0.0.1:{c.base + 10 * i}" for i in range(3)]
        verify = str(cert)
        peers = httpx.get(f"{https[0]}/cluster", verify=verify, timeout=10).json()["result"]["peers"]
        assert sorted(p["uri"] for p in peers.values()) == https, peers
        created = httpx.put(f"{https[1]}/collections/secure", verify=verify, timeout=60,
                            json={"vectors": {"size": 2, "distance": "Dot"}, "replication_factor": 2,
                                  "write_consistency_factor": 2})
        assert created.status_code == 200, created.text
        holders = replicas_over(https[0], "secure", verify)
        names = {int(k): v["node_name"] for k, v in peers.items()}
        on = sorted(int(names[p].rsplit("-", 1)[1]) for p in holders)
        outsider = ({0, 1, 2} - set(on)).pop()
        # Written through the node without a replica: forwarded to the primary, replicated, over TLS.
        for k in range(10):
            r = httpx.put(f"{https[outsider]}/collections/secure/points?wait=true", verify=verify, timeout=30,
                          json={"points": [{"id": k, "vector": [1.0, float(k)]}]})
            assert r.status_code == 200, r.text
        for url in https:
            r = httpx.post(f"{url}/collections/secure/points/count", json={}, verify=verify, timeout=30)
            assert r.json()["result"]["count"] == 10, r.text
        states = []
        for i in on:
            r = httpx.get(f"https://127.0.0.1:{c.base + 10 * i + 2}/p2p/v1/collections/secure/state",
                          params={"checksum": "true"}, headers={"x-strata-cluster-secret": SECRET}, verify=verify,
                          timeout=30)
            assert r.status_code == 200, r.text
            states.append((r.json()["last_operation"], r.json()["checksum"]))
        assert len(set(states)) == 1, states
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{c.base + 2}/p2p/v1/collections/secure/state",
                      headers={"x-strata-cluster-secret": SECRET}, timeout=5)
        # gRPC over TLS on the node without a replica: forwarded to the primary's gRPC port over TLS.
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"127.0.0.1:{c.base + 10 * outsider + 1}", credentials) as channel:
            count = channel.unary_unary("/qdrant.Points/Count", request_serializer=lambda m: m.SerializeToString(),
                                        response_deserializer=g.CountResponse.FromString)
            assert count(g.CountPoints(collection_name="secure", exact=True), timeout=30).result.count == 10
    finally:
        assert c.stop() == 0


def replicas_over(url: str, collection: str, verify: str) -> dict:
    info = httpx.get(f"{url}/collections/{collection}/cluster", verify=verify, timeout=10).json()["result"]
    states = {shard["peer_id"]: shard["state"] for shard in info["remote_shards"]}
    for shard in info["local_shards"]:
        states[info["peer_id"]] = shard["state"]
    return states


def test_verify_reads_every_replica_of_every_shard_and_names_a_damaged_one(cluster):
    import glob

    import numpy as np
    url = cluster.url(0)
    assert httpx.put(f"{url}/collections/checked", json={
        "vectors": {"size": 64, "distance": "Dot"}, "shard_number": 2, "replication_factor": 2}, timeout=30).status_code == 200
    vectors = np.random.default_rng(5).normal(size=(400, 64)).astype(np.float32)
    points = [{"id": i, "vector": vectors[i].tolist()} for i in range(400)]
    assert httpx.put(f"{url}/collections/checked/points?wait=true", json={"points": points}, timeout=30).status_code == 200
    # Every replica's interval flush (5 s) writes its segment: 2 shards x 2 replicas.
    def segment_files():
        return sorted(glob.glob(os.path.join(cluster.dir, "node-*", "collections", "checked*", "segments", "*.seg")))
    deadline = time.time() + 60
    while len(segment_files()) < 4 and time.time() < deadline:
        time.sleep(0.5)
    assert len(segment_files()) == 4, segment_files()

    clean = httpx.post(f"{cluster.url(1)}/collections/checked/verify", timeout=60).json()["result"]
    assert clean["ok"] is True and clean["problems"] == [] and clean["segments"] == 4, clean
    # The storage view of a sharded collection: each shard's layout, as one of its replicas holds it.
    storage = httpx.get(f"{cluster.url(2)}/collections/checked/storage", timeout=30).json()["result"]
    assert [s["shard_id"] for s in storage["shards"]] == [0, 1], storage
    peers = {str(status(cluster.url(i))["peer_id"]) for i in range(3)}
    assert all(str(s["peer_id"]) in peers for s in storage["shards"])
    assert sum(seg["points"] for s in storage["shards"] for seg in s["storage"]["segments"]) == 400

    # Damage the vectors of one replica's segment on node 2: the check run from node 0 names it.
    damaged = next(f for f in segment_files() if f"{os.sep}node-2{os.sep}" in f)
    shard = damaged.split(os.sep)[-3].partition("~")[2] or "0"
    with open(damaged, "r+b") as f:
        f.seek(4096)
        original = f.read(64)
        f.seek(4096)
        f.write(bytes(b ^ 0xFF for b in original))
    peer = status(cluster.url(2))["peer_id"]
    result = httpx.post(f"{url}/collections/checked/verify", timeout=60).json()["result"]
    assert result["ok"] is False and result["segments"] == 4, result
    assert result["problems"], result
    assert all(p.startswith(f"shard {shard}, replica on peer {peer} (Active): ") for p in result["problems"]), result
    assert all(str(cluster.dir) not in p for p in result["problems"]), "paths are relative to the data directory"
    assert httpx.delete(f"{url}/collections/checked", timeout=30).status_code == 200


def test_a_client_cannot_pose_as_a_forwarding_node(cluster):
    url = cluster.url(1)
    assert httpx.put(f"{url}/collections/posed", json={"vectors": {"size": 2, "distance": "Dot"}},
                     timeout=30).status_code == 200
    assert httpx.put(f"{url}/collections/posed/points?wait=true", timeout=30,
                     json={"points": [{"id": 1, "vector": [1, 0]}]}).status_code == 200
    # Without the cluster secret the header is refused, whichever node gets it and whatever it asks.
    for headers in ({"x-strata-forwarded-by": "1"},
                    {"x-strata-forwarded-by": "1", "x-strata-cluster-secret": "not-the-secret"}):
        for i in range(3):
            r = httpx.get(f"{cluster.url(i)}/collections/posed", headers=headers, timeout=10)
            assert r.status_code == 403, r.text
            assert "internal to a Strata cluster" in r.json()["status"]["error"]
        r = httpx.post(f"{url}/collections/posed/points/query", headers=headers, timeout=10,
                       json={"query": [1, 0], "prefetch_results": [[{"id": 7, "score": 99.0}]]})
        assert r.status_code == 403, r.text
    # The same requests without it are routed as usual, on every node.
    for i in range(3):
        assert httpx.get(f"{cluster.url(i)}/collections/posed", timeout=10).status_code == 200
        assert httpx.post(f"{cluster.url(i)}/collections/posed/points/count", json={}, timeout=10).json()["result"]["count"] == 1
    assert httpx.delete(f"{url}/collections/posed", timeout=30).status_code == 200


def test_replication_factors_that_cannot_be_met_are_refused_and_change_nothing(cluster):
    body = {"vectors": {"size": 4, "distance": "Dot"}}
    too_many = httpx.put(f"{cluster.url(0)}/collections/nope", json={**body, "replication_factor": 4})
    assert too_many.status_code == 400 and "larger than the number of running nodes" in too_many.text
    inconsistent = httpx.put(f"{cluster.url(0)}/collections/nope",
                             json={**body, "replication_factor": 2, "write_consistency_factor": 3})
    assert inconsistent.status_code == 400 and "write_consistency_factor" in inconsistent.text
    sharded = httpx.put(f"{cluster.url(0)}/collections/nope", json={**body, "shard_number": 2000})
    assert sharded.status_code == 400 and "shard_number must be 1…1024" in sharded.text
    method = httpx.put(f"{cluster.url(0)}/collections/nope", json={**body, "sharding_method": "range"})
    assert method.status_code == 400 and "sharding_method" in method.text
    reserved = httpx.put(f"{cluster.url(0)}/collections/no~pe", json=body)
    assert reserved.status_code == 400 and "names the shards" in reserved.text
    for i in range(3):
        assert httpx.get(f"{cluster.url(i)}/collections/nope/exists").json()["result"]["exists"] is False
    taken = httpx.put(f"{cluster.url(2)}/collections/replicated", json=body)
    assert taken.status_code == 409


def test_a_killed_replica_turns_partial_and_catches_up_after_its_restart(cluster):
    primary_url = cluster.url(1)
    client = QdrantClient(url=cluster.url(0), timeout=30)
    client.create_collection("strict", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             replication_factor=3, write_consistency_factor=3)
    node2 = status(cluster.url(2))["peer_id"]
    argv = cluster.kill(2)
    # r=3, w=2: writes go on without the dead replica, which is marked Partial first.
    for k in range(20):
        client.upsert("replicated", wait=True, points=[
            models.PointStruct(id=1000 + k, vector=[1.0, 0.0, float(k), 0.0], payload={"late": k})])
    assert replicas(primary_url, "replicated")[node2] == "Partial"
    # Read consistency: `all` needs every replica and one is down (503, never a partial
    # answer); a quorum (2 of 3) is answered by the two Active ones.
    refused_read = httpx.post(f"{cluster.url(0)}/collections/replicated/points/count?consistency=all", json={},
                              timeout=30)
    assert refused_read.status_code == 503 and "consistency" in refused_read.json()["status"]["error"], refused_read.text
    quorum = httpx.post(f"{cluster.url(0)}/collections/replicated/points/count?consistency=quorum", json={},
                        timeout=30)
    assert quorum.status_code == 200 and quorum.json()["result"]["count"] == client.count("replicated").count
    # r=3, w=3 with a replica down: not acknowledged (503). The first such write was in
    # flight (it is on the replicas that took it); once the replica is Partial, later
    # writes are refused before anything is written.
    for attempt in range(2):
        with pytest.raises(Exception) as refused:
            client.upsert("strict", wait=True, points=[models.PointStruct(id=attempt, vector=[1, 0, 0, 0])])
        assert "write_consistency_factor" in str(refused.value), refused.value
    assert client.retrieve("strict", ids=[1]) == []

    cluster.restart(argv)
    wait_until(lambda: replicas(primary_url, "replicated").get(node2) == "Active", 30,
               "the restarted replica is Active again")
    states = [cluster.p2p_state(i, "replicated") for i in range(3)]
    assert len({(s["last_operation"], s["checksum"]) for s in states}) == 1, states
    assert QdrantClient(url=cluster.url(2), timeout=30).count("replicated").count == 33
    client.close()


def test_a_killed_primary_is_replaced_within_its_lease_and_returns_as_a_replica(cluster):
    client = QdrantClient(url=cluster.url(0), timeout=30)
    before = client.count("replicated").count
    primary = status(cluster.url(1))["peer_id"]  # node-1 created "replicated"
    assert httpx.get(f"{cluster.url(0)}/collections/replicated/cluster").json()["result"]["remote_shards"]
    argv = cluster.kill(1)
    killed_at = time.time()
    while True:
        try:
            client.upsert("replicated", wait=True, points=[models.PointStruct(id=5000, vector=[1.0, 2.0, 3.0, 4.0])])
            break
        except Exception:
            assert time.time() - killed_at < LEASE_TTL + 10, "no new primary took writes"
            time.sleep(0.1)
    failover = time.time() - killed_at
    assert failover < LEASE_TTL + 5, f"failover took {failover:.1f} s"
    states = replicas(cluster.url(0), "replicated")
    assert states[primary] == "Partial"
    assert client.count("replicated").count == before + 1

    cluster.restart(argv)
    wait_until(lambda: replicas(cluster.url(0), "replicated").get(primary) == "Active", 30,
               "the former primary is an Active replica again")
    positions = [cluster.p2p_state(i, "replicated") for i in range(3)]
    assert len({(p["last_operation"], p["checksum"]) for p in positions}) == 1, positions
    client.close()


def cluster_op(url: str, collection: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}/collections/{collection}/cluster", json=body, timeout=30)


def transfers(url: str, collection: str) -> list:
    return httpx.get(f"{url}/collections/{collection}/cluster", timeout=10).json()["result"]["shard_transfers"]


def test_replicas_are_added_moved_and_dropped_by_shard_operations(cluster):
    peers = [status(cluster.url(i))["peer_id"] for i in range(3)]
    client = QdrantClient(url=cluster.url(0), timeout=30)
    client.create_collection("moved", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE))
    client.create_payload_index("moved", "k", models.PayloadSchemaType.INTEGER, wait=True)
    for start in range(0, 600, 100):
        client.upsert("moved", wait=True, points=[
            models.PointStruct(id=k, vector=[1.0, float(k % 7), float(k % 5), 0.5], payload={"k": k})
            for k in range(start, start + 100)])
    assert replicas(cluster.url(0), "moved") == {peers[0]: "Active"}

    # Requests that cannot be carried out change nothing.
    bad = [
        ({"replicate_shard": {"shard_id": 1, "from_peer_id": peers[0], "to_peer_id": peers[1]}}, "Shard 1"),
        ({"replicate_shard": {"shard_id": 0, "from_peer_id": peers[1], "to_peer_id": peers[2]}}, "no Active replica"),
        ({"replicate_shard": {"shard_id": 0, "from_peer_id": peers[0], "to_peer_id": peers[0]}}, "already holds"),
        ({"replicate_shard": {"shard_id": 0, "from_peer_id": peers[0], "to_peer_id": peers[1], "method": "magic"}},
         "unknown transfer method"),
        ({"drop_replica": {"shard_id": 0, "peer_id": peers[0]}}, "primary"),
        ({"abort_transfer": {"shard_id": 0, "from_peer_id": peers[0], "to_peer_id": peers[1]}}, "no transfer"),
        ({"drop_replica": {"shard_id": 0, "peer_id": peers[1]},
          "replicate_shard": {"shard_id": 0, "from_peer_id": peers[0], "to_peer_id": peers[1]}}, "exactly one"),
    ]
    for body, message in bad:
        refused = cluster_op(cluster.url(1), "moved", body)
        assert refused.status_code == 400 and message in refused.text, (body, refused.text)
    assert replicas(cluster.url(0), "moved") == {peers[0]: "Active"}

    # A new replica on node-1, filled from a snapshot of the primary (HNSW and codes included).
    assert cluster_op(cluster.url(2), "moved", {"replicate_shard": {
        "shard_id": 0, "from_peer_id": peers[0], "to_peer_id": peers[1], "method": "snapshot"}}).json()["result"]
    wait_until(lambda: replicas(cluster.url(0), "moved").get(peers[1]) == "Active", 60,
               "the snapshot-filled replica is Active")
    assert transfers(cluster.url(0), "moved") == []
    client.upsert("moved", wait=True, points=[models.PointStruct(id=1000, vector=[0.0, 1.0, 0.0, 0.0])])
    positions = [cluster.p2p_state(i, "moved") for i in (0, 1)]
    assert len({(p["last_operation"], p["checksum"]) for p in positions}) == 1, positions
    assert QdrantClient(url=cluster.url(1), timeout=30).count("moved").count == 601

    # Moving the primary's replica to node-2 hands the primary over, then removes node-0's copy.
    assert cluster_op(cluster.url(1), "moved", {"move_shard": {
        "shard_id": 0, "from_peer_id": peers[0], "to_peer_id": peers[2]}}).json()["result"]
    wait_until(lambda: replicas(cluster.url(1), "moved") == {peers[1]: "Active", peers[2]: "Active"}, 60,
               "the move finished")
    wait_until(lambda: "moved" not in os.listdir(os.path.join(cluster.dir, "node-0", "collections")), 30,
               "the moved replica's copy left node-0")
    client.upsert("moved", wait=True, points=[models.PointStruct(id=1001, vector=[0.0, 0.0, 1.0, 0.0])])
    for i in range(3):
        assert QdrantClient(url=cluster.url(i), timeout=30).count("moved").count == 602
    hits = client.query_points("moved", query=[1.0, 3.0, 2.0, 0.5], limit=5,
                               query_filter=models.Filter(must=[models.FieldCondition(
                                   key="k", range=models.Range(gte=100, lt=200))])).points
    assert len(hits) == 5 and all(100 <= h.payload["k"] < 200 for h in hits)
    positions = [cluster.p2p_state(i, "moved") for i in (1, 2)]
    assert len({(p["last_operation"], p["checksum"]) for p in positions}) == 1, positions

    # Dropping a replica removes it and its copy; the last Active one cannot go.
    assert cluster_op(cluster.url(0), "moved", {"drop_replica": {"shard_id": 0, "peer_id": peers[1]}}).json()["result"]
    assert set(replicas(cluster.url(2), "moved")) == {peers[2]}
    wait_until(lambda: "moved" not in os.listdir(os.path.join(cluster.dir, "node-1", "collections")), 30,
               "the dropped replica's copy left node-1")
    last = cluster_op(cluster.url(0), "moved", {"drop_replica": {"shard_id": 0, "peer_id": peers[2]}})
    assert last.status_code == 400
    assert client.count("moved").count == 602
    client.close()


def test_a_configuration_change_reaches_every_replica_and_a_returning_one(cluster):
    client = QdrantClient(url=cluster.url(1), timeout=30)
    client.create_collection("patched", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             replication_factor=3, write_consistency_factor=2)
    client.upsert("patched", wait=True, points=[models.PointStruct(id=k, vector=[1.0, float(k), 0.0, 0.0])
                                                for k in range(20)])
    # Through node-0 (forwarded to the primary, node-1): every replica enforces it.
    assert QdrantClient(url=cluster.url(0), timeout=30).update_collection(
        "patched", strict_mode_config=models.StrictModeConfig(enabled=True, max_query_limit=5))
    for i in range(3):
        info = httpx.get(f"{cluster.url(i)}/collections/patched", timeout=10).json()["result"]
        assert info["config"]["strict_mode_config"]["max_query_limit"] == 5, i
        assert info["config"]["params"]["replication_factor"] == 3
        refused = httpx.post(f"{cluster.url(i)}/collections/patched/points/query", json={"query": [1, 0, 0, 0],
                                                                                          "limit": 10})
        assert refused.status_code == 400 and "Limit exceeded" in refused.text, (i, refused.text)
    # A replica that is down misses the change; it gets it before it is Active again.
    argv = cluster.kill(2)
    assert client.update_collection("patched", strict_mode_config=models.StrictModeConfig(max_query_limit=7))
    cluster.restart(argv)
    wait_until(lambda: all(state == "Active" for state in replicas(cluster.url(1), "patched").values()), 60,
               "every replica is Active again")
    info = httpx.get(f"{cluster.url(2)}/collections/patched", timeout=10).json()["result"]
    assert info["config"]["strict_mode_config"]["max_query_limit"] == 7
    # The factors are the cluster's: changing them by PATCH is refused and changes nothing.
    refused = httpx.patch(f"{cluster.url(0)}/collections/patched", json={"params": {"replication_factor": 2}})
    assert refused.status_code == 400 and "replicate_shard" in refused.text
    client.close()


def shard_map(url: str, collection: str) -> dict:
    """shard id -> {peer id: state}, from `GET /collections/{c}/cluster` of the node at `url`."""
    info = httpx.get(f"{url}/collections/{collection}/cluster", timeout=10).json()["result"]
    shards: dict = {}
    for shard in info["local_shards"]:
        shards.setdefault(shard["shard_id"], {})[info["peer_id"]] = shard["state"]
    for shard in info["remote_shards"]:
        shards.setdefault(shard["shard_id"], {})[shard["peer_id"]] = shard["state"]
    return shards


def test_a_collection_of_three_shards_answers_as_one_and_survives_a_primary(cluster):
    import numpy as np
    clients = [QdrantClient(url=cluster.url(i), timeout=30) for i in range(3)]
    assert clients[0].create_collection(
        "sharded", vectors_config=models.VectorParams(size=8, distance=models.Distance.EUCLID),
        shard_number=3, replication_factor=2, write_consistency_factor=1)
    info = clients[1].http.distributed_api.collection_cluster_info("sharded").result
    assert info.shard_count == 3
    shards = shard_map(cluster.url(1), "sharded")
    assert sorted(shards) == [0, 1, 2] and all(len(peers) == 2 for peers in shards.values())
    assert clients[2].get_collection("sharded").config.params.shard_number == 3
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    clients[1].upsert("sharded", wait=True, points=[
        models.PointStruct(id=i, vector=vectors[i].tolist(), payload={"g": i % 4}) for i in range(300)])
    for c in clients:
        assert c.count("sharded").count == 300
    # Each shard holds a part, each of its replicas the same part.
    local_counts = {}
    for i in range(3):
        result = httpx.get(f"{cluster.url(i)}/collections/sharded/cluster").json()["result"]
        for shard in result["local_shards"]:
            local_counts.setdefault(shard["shard_id"], set()).add(shard["points_count"])
    assert all(len(counts) == 1 for counts in local_counts.values()), local_counts
    assert sum(next(iter(counts)) for counts in local_counts.values()) == 300
    assert all(next(iter(counts)) > 50 for counts in local_counts.values()), local_counts
    # Exact answers over the union: nearest (distances ascending), a filter, paging.
    q = rng.normal(size=8).astype(np.float32)
    distances = np.linalg.norm(vectors - q, axis=1)
    want = [int(i) for i in np.argsort(distances, kind="stable")[:10]]
    hits = clients[2].query_points("sharded", query=q.tolist(), limit=10,
                                   search_params=models.SearchParams(exact=True)).points
    assert [h.id for h in hits] == want
    page = clients[0].query_points("sharded", query=q.tolist(), limit=4, offset=3,
                                   search_params=models.SearchParams(exact=True)).points
    assert [h.id for h in page] == want[3:7]
    ids, offset = [], None
    while True:
        points, offset = clients[2].scroll("sharded", limit=7, offset=offset)
        ids += [p.id for p in points]
        if offset is None:
            break
    assert ids == list(range(300))
    assert clients[0].count("sharded", count_filter=models.Filter(must=[models.FieldCondition(
        key="g", match=models.MatchValue(value=1))])).count == 75
    # gRPC goes through the same router: the count of every shard, never one shard's.
    grpc = QdrantClient(url=cluster.url(0), grpc_port=cluster.base + 1, prefer_grpc=True, timeout=30)
    assert grpc.count("sharded").count == 300
    grpc.close()
    # Kill the node holding shard 1's primary: that shard fails over, the others go on.
    root = httpx.get(f"{cluster.url(0)}/cluster").json()["result"]
    names = {int(k): v["node_name"] for k, v in root["peers"].items()}
    node = None
    for i in range(3):
        local = httpx.get(f"{cluster.url(i)}/collections/sharded/cluster").json()["result"]
        if any(s["shard_id"] == 1 for s in local["local_shards"]) and names[local["peer_id"]] != "node-0":
            node = int(names[local["peer_id"]].split("-")[1])
            break
    assert node is not None
    argv = cluster.kill(node)
    survivor = clients[0] if node != 0 else clients[1]
    # write_consistency_factor 1: each shard takes writes on its remaining replica once it is primary.
    deadline = time.time() + LEASE_TTL + 15
    written = set()
    while len(written) < 30:
        batch = [i for i in range(300, 330) if i not in written]
        try:
            survivor.upsert("sharded", wait=True, points=[
                models.PointStruct(id=i, vector=[1.0] * 8, payload={"g": 9}) for i in batch])
            written.update(batch)
        except Exception:
            assert time.time() < deadline, "the sharded collection never took writes again"
            time.sleep(0.2)
    assert survivor.count("sharded").count == 330
    cluster.restart(argv)
    wait_until(lambda: all(state == "Active" for peers in shard_map(cluster.url(0), "sharded").values()
                           for state in peers.values()) and
               len([p for peers in shard_map(cluster.url(0), "sharded").values() for p in peers]) == 6,
               60, "every replica of every shard is Active again")
    assert clients[node].count("sharded").count == 330
    # Snapshots are per shard: the whole collection's is refused, not shard 0's in its place.
    whole = httpx.post(f"{cluster.url(1)}/collections/sharded/snapshots", timeout=30)
    assert whole.status_code == 400 and "several shards" in whole.text
    shard_snapshot = httpx.get(f"{cluster.url(1)}/collections/sharded/shards/2/snapshot", timeout=120)
    assert shard_snapshot.status_code == 200 and len(shard_snapshot.content) > 1024
    assert httpx.get(f"{cluster.url(1)}/collections/sharded/shards/9/snapshot", timeout=30).status_code == 404
    assert clients[2].delete_collection("sharded")
    for i in range(3):
        assert not any(n.startswith("sharded") for n in os.listdir(os.path.join(cluster.dir, f"node-{i}", "collections")))
    for c in clients:
        c.close()


def test_custom_sharding_routes_points_by_shard_key(cluster):
    client = QdrantClient(url=cluster.url(2), timeout=30)
    assert client.create_collection(
        "tenants", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
        sharding_method=models.ShardingMethod.CUSTOM, replication_factor=2)
    assert client.create_shard_key("tenants", "acme", shards_number=2)
    assert client.create_shard_key("tenants", 7)
    keys = httpx.get(f"{cluster.url(0)}/collections/tenants/shards").json()["result"]["shard_keys"]
    assert sorted(str(k["key"]) for k in keys) == ["7", "acme"]
    again = httpx.put(f"{cluster.url(0)}/collections/tenants/shards", json={"shard_key": "acme"})
    assert again.status_code == 400 and "already exists" in again.text
    client.upsert("tenants", wait=True, shard_key_selector="acme", points=[
        models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(10)])
    client.upsert("tenants", wait=True, shard_key_selector=7, points=[
        models.PointStruct(id=100 + i, vector=[float(i), 1.0]) for i in range(5)])
    for body, words in [({"points": [{"id": 1, "vector": [1, 1]}]}, "Shard key not specified"),
                        ({"points": [{"id": 1, "vector": [1, 1]}], "shard_key": "nope"}, "not found")]:
        response = httpx.put(f"{cluster.url(1)}/collections/tenants/points", json=body)
        assert response.status_code == 400 and words in response.text, response.text
    assert client.count("tenants").count == 15
    assert client.count("tenants", shard_key_selector="acme").count == 10
    assert client.count("tenants", shard_key_selector=[7]).count == 5
    hits = client.query_points("tenants", query=[1.0, 1.0], limit=20, shard_key_selector="acme").points
    assert sorted(h.id for h in hits) == list(range(10))
    # The same id under two keys is two points, one per key.
    client.upsert("tenants", wait=True, shard_key_selector=7, points=[models.PointStruct(id=3, vector=[0.0, 1.0])])
    assert client.count("tenants").count == 16
    shards = httpx.get(f"{cluster.url(0)}/collections/tenants/cluster").json()["result"]
    keyed = {s["shard_id"]: s.get("shard_key") for s in shards["local_shards"] + shards["remote_shards"]}
    assert sorted(str(k) for k in set(keyed.values()) if k is not None) == ["7", "acme"]
    assert client.delete_shard_key("tenants", 7)
    assert client.count("tenants").count == 10
    assert [str(k["key"]) for k in httpx.get(f"{cluster.url(1)}/collections/tenants/shards").json()["result"]["shard_keys"]] == ["acme"]
    assert client.delete_collection("tenants")
    client.close()


def test_a_killed_node_turns_dead_within_its_lease_and_can_then_be_removed(cluster):
    victim = status(cluster.url(2))["peer_id"]
    refused = httpx.delete(f"{cluster.url(0)}/cluster/peer/{victim}")
    assert refused.status_code == 400 and "is running" in refused.json()["status"]["error"]

    cluster.kill(2)
    killed_at = time.time()
    while status(cluster.url(0))["peers"][str(victim)]["state"] != "Dead":
        assert time.time() - killed_at < LEASE_TTL + 5, "a killed node must turn Dead within its lease TTL"
        time.sleep(0.1)
    # Its replica stops being Active: by failover if it was the primary, else at the next
    # write it cannot confirm.
    writer = QdrantClient(url=cluster.url(0), timeout=30)

    def replica_left_active():
        try:
            writer.upsert("replicated", wait=True, points=[models.PointStruct(id=6000, vector=[1.0, 1.0, 1.0, 1.0])])
        except Exception:
            pass  # during a failover
        return replicas(cluster.url(1), "replicated").get(victim) != "Active"

    wait_until(replica_left_active, 30, "the killed node's replica is no longer Active")
    writer.close()
    holding = httpx.delete(f"{cluster.url(1)}/cluster/peer/{victim}")
    assert holding.status_code == 400 and "there are shards on it" in holding.text
    assert httpx.delete(f"{cluster.url(1)}/cluster/peer/{victim}?force=true").json()["result"] is True
    assert victim not in replicas(cluster.url(1), "replicated")
    for i in range(2):
        deadline = time.time() + 5
        while str(victim) in status(cluster.url(i))["peers"]:
            assert time.time() < deadline
            time.sleep(0.1)
    missing = httpx.delete(f"{cluster.url(1)}/cluster/peer/{victim}")
    assert missing.status_code == 404


def test_a_replica_whose_data_directory_was_wiped_is_replaced_from_a_snapshot(cluster):
    """Runs after node-2 left for good: node-0 and node-1 remain. Node-1 loses its data
    directory; it returns as a new peer under its old name, and an operator replaces the
    lost replica (drop_replica, replicate_shard) as in Qdrant."""
    import shutil
    client = QdrantClient(url=cluster.url(0), timeout=30)
    client.create_collection("wiped", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             replication_factor=2, write_consistency_factor=2)
    client.upsert("wiped", wait=True, points=[
        models.PointStruct(id=k, vector=[1.0, float(k), 0.0, 1.0], payload={"k": k}) for k in range(200)])
    old = status(cluster.url(1))["peer_id"]
    primary = status(cluster.url(0))["peer_id"]
    argv = cluster.kill(1)
    shutil.rmtree(os.path.join(cluster.dir, "node-1"))
    # The name is free again once the old lease expired, i.e. the old peer reads Dead.
    wait_until(lambda: status(cluster.url(0))["peers"][str(old)]["state"] == "Dead", LEASE_TTL + 10,
               "the wiped node's old peer is Dead")
    cluster.restart(argv)
    wait_until(lambda: httpx.get(f"{cluster.url(1)}/readyz", timeout=2).status_code == 200
               if _reachable(cluster.url(1)) else False, 60, "node-1 is back")
    new = status(cluster.url(1))["peer_id"]
    assert new != old, "a node that lost its data directory is a new peer"
    # Write consistency 2 cannot be met while the lost replica is listed.
    with pytest.raises(Exception):
        client.upsert("wiped", wait=True, points=[models.PointStruct(id=500, vector=[1, 1, 1, 1])])
    assert cluster_op(cluster.url(0), "wiped", {"drop_replica": {"shard_id": 0, "peer_id": old}}).json()["result"]
    assert cluster_op(cluster.url(0), "wiped", {"replicate_shard": {
        "shard_id": 0, "from_peer_id": primary, "to_peer_id": new}}).json()["result"]
    wait_until(lambda: replicas(cluster.url(0), "wiped").get(new) == "Active", 60, "the new replica is Active")
    client.upsert("wiped", wait=True, points=[models.PointStruct(id=501, vector=[1, 1, 1, 1])])
    positions = [cluster.p2p_state(i, "wiped") for i in (0, 1)]
    assert len({(p["last_operation"], p["checksum"]) for p in positions}) == 1, positions
    assert positions[0]["points"] in (201, 202)  # 500 was in flight when refused: it may have landed
    assert QdrantClient(url=cluster.url(1), timeout=30).retrieve("wiped", ids=[7])[0].payload == {"k": 7}
    client.close()


def _reachable(url: str) -> bool:
    try:
        httpx.get(f"{url}/readyz", timeout=2)
        return True
    except httpx.HTTPError:
        return False


def test_a_replica_whose_fdatasync_fails_never_lets_a_write_be_acknowledged():
    """One replica runs on the fault-injecting file system (STRATA_TEST_FAULTS): its WAL's
    fdatasync fails after the first. With replication_factor 2 and write_consistency_factor 2,
    no write may be acknowledged then: a missing fsync must not hide."""
    if TRANSPORT != "rest":
        pytest.skip("cluster endpoints are REST")
    two = LocalCluster(nodes=2)
    try:
        argv = two.kill(1)
        log = open(os.path.join(two.dir, "faulty.log"), "a")
        faulty = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={
            **os.environ, "STRATA_CLUSTER_SECRET": SECRET, "STRATA_TEST_FAULTS": "wal-fdatasync-fails-after=1"})
        two.restarted.append(faulty)
        wait_until(lambda: all(p["state"] == "Active" for p in status(two.url(0))["peers"].values()), 30,
                   "the faulty node is back")
        client = QdrantClient(url=two.url(0), timeout=30)
        client.create_collection("fsync", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                                 replication_factor=2, write_consistency_factor=2)
        with pytest.raises(Exception) as refused:
            client.upsert("fsync", wait=True, points=[models.PointStruct(id=1, vector=[1.0, 0.0, 0.0, 0.0])])
        assert "not acknowledged" in str(refused.value), refused.value
        faulty_peer = status(two.url(1))["peer_id"]
        assert replicas(two.url(0), "fsync")[faulty_peer] == "Partial"
        with pytest.raises(Exception) as again:
            client.upsert("fsync", wait=True, points=[models.PointStruct(id=2, vector=[1.0, 0.0, 0.0, 0.0])])
        assert "write_consistency_factor" in str(again.value), again.value
        assert "TEST FAULTS" in open(os.path.join(two.dir, "faulty.log")).read()

        # A collection with one replica lives on through its node's restart: no other replica
        # can be promoted, so the returning node becomes its primary again.
        client.create_collection("solo", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
        client.upsert("solo", wait=True, points=[models.PointStruct(id=1, vector=[1.0, 0.0, 0.0, 0.0])])
        client.close()
        argv0 = two.kill(0)
        time.sleep(LEASE_TTL + 2)  # its lease expires: the controller fences the collection
        two.restart(argv0)
        client = QdrantClient(url=two.url(0), timeout=30, check_compatibility=False)
        deadline = time.time() + 30
        while True:
            try:
                client.upsert("solo", wait=True, points=[models.PointStruct(id=2, vector=[0.0, 1.0, 0.0, 0.0])])
                break
            except Exception:
                assert time.time() < deadline, "the single-replica collection never took writes again"
                time.sleep(0.2)
        assert client.count("solo").count == 2
        client.close()
    finally:
        assert two.stop() == 0


def test_clustertest_is_clean_for_a_few_cycles(tmp_path):
    """`strata clustertest` at small scale: the fault harness itself, in the default test run
    (the 20-cycle and 200-cycle runs are commands: docs/cluster.md)."""
    if TRANSPORT != "rest":
        pytest.skip("runs once per suite")
    result = subprocess.run(
        [strata_binary(), "clustertest", "--dir", str(tmp_path / "ct"), "--nodes", "3", "--cycles", "3",
         "--seed", "11"], capture_output=True, text=True, timeout=600)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary.startswith("clustertest: cycles=3 ") and " lost=0 diverged=0 stale_acks=0" in summary, summary
