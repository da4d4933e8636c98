"""Snapshots through the official client: create, list, download, recover from a
file:// or http:// location (with and without checksum), delete; full-storage snapshots; streaming a
shard snapshot made on the fly."""
import hashlib
import io
import os
import tarfile
import tempfile

import httpx
import pytest
from qdrant_client import models
from qdrant_client.http.exceptions import UnexpectedResponse

from helpers import expect_status


def fill(client, name, n=60):
    # One shard: a collection snapshot is of one shard (on a cluster, a collection of several
    # shards is snapshotted per shard, and its whole-collection snapshots are refused: test_cluster.py).
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             shard_number=1)
    client.create_payload_index(name, field_name="group", field_schema=models.PayloadSchemaType.KEYWORD)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[i, 1, 0, 0.5], payload={"i": i, "group": f"g{i % 3}"})
                                for i in range(n)])


def state(client, name):
    points, _ = client.scroll(name, limit=1000, with_vectors=True)
    return [(p.id, p.payload, p.vector) for p in points]


@pytest.mark.single_node("recovering a collection from a snapshot is not replicated yet")
def test_collection_snapshot_roundtrip(server, client, name):
    fill(client, name)
    before = state(client, name)
    snapshot = client.create_snapshot(name)
    assert snapshot.name.endswith(".snapshot") and snapshot.size > 0 and len(snapshot.checksum) == 64
    assert [s.name for s in client.list_snapshots(name)] == [snapshot.name]

    # Download: the bytes hash to the checksum, and standard tar reads them.
    response = httpx.get(f"{server.url}/collections/{name}/snapshots/{snapshot.name}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/octet-stream"
    data = response.content
    assert hashlib.sha256(data).hexdigest() == snapshot.checksum and len(data) == snapshot.size
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert archive.getnames()[0] == "snapshot.json"
    # Recovery reads only files inside the server's snapshots directory: put the
    # downloaded copy there (as an operator would), and check a path outside is refused.
    # (qdrant-client recovers over REST even with prefer_grpc: Qdrant has no gRPC for it.)
    snapshots_dir = os.path.join(server.data_dir, "data", "snapshots")
    outside = os.path.join(tempfile.mkdtemp(prefix="strata-snap-"), snapshot.name)
    with open(outside, "wb") as f:
        f.write(data)
    with pytest.raises(UnexpectedResponse) as error:
        client.recover_snapshot(name, location=f"file://{outside}")
    assert error.value.status_code == 403
    with pytest.raises(UnexpectedResponse) as error:
        client.recover_snapshot(name, location=f"file://{snapshots_dir}/../../{os.path.basename(outside)}")
    assert error.value.status_code == 403
    path = os.path.join(snapshots_dir, "uploaded-" + snapshot.name)
    with open(path, "wb") as f:
        f.write(data)

    # Change the collection, then recover it from the downloaded file.
    client.upsert(name, points=[models.PointStruct(id=1000, vector=[1, 1, 1, 1])])
    client.delete(name, points_selector=models.PointIdsList(points=[1, 2, 3]))
    client.set_payload(name, payload={"changed": True}, points=[4])
    assert state(client, name) != before
    assert client.recover_snapshot(name, location=f"file://{path}", checksum=snapshot.checksum)
    assert state(client, name) == before
    assert client.count(name, count_filter=models.Filter(must=[
        models.FieldCondition(key="group", match=models.MatchValue(value="g1"))])).count == 20
    assert "group" in client.get_collection(name).payload_schema

    # Recover into a new collection name.
    other = name + "_copy"
    assert client.recover_snapshot(other, location=f"file://{path}")
    assert state(client, other) == before

    # A wrong checksum is refused and changes nothing.
    client.upsert(name, points=[models.PointStruct(id=2000, vector=[0, 0, 0, 1])])
    with pytest.raises(UnexpectedResponse) as error:
        client.recover_snapshot(name, location=f"file://{path}", checksum="0" * 64)
    assert error.value.status_code == 400 and b"fails its checksum" in error.value.content
    assert client.count(name).count == len(before) + 1

    # A damaged file is refused too.
    damaged = path + ".damaged"
    with open(damaged, "wb") as f:
        f.write(data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[len(data) // 2 + 1:])
    with pytest.raises(UnexpectedResponse) as error:
        client.recover_snapshot(name, location=f"file://{damaged}")
    assert error.value.status_code == 400 and b"Bad request: invalid snapshot: " in error.value.content
    assert client.count(name).count == len(before) + 1

    assert client.delete_snapshot(name, snapshot_name=snapshot.name)
    assert client.list_snapshots(name) == []
    message = expect_status(lambda: client.delete_snapshot(name, snapshot_name=snapshot.name), 404)
    assert message == f"Not found: Snapshot {snapshot.name} of collection `{name}` does not exist"


def test_snapshot_names_cannot_escape(server, client, name):
    fill(client, name, n=5)
    for bad in ["..%2F..%2Fconfig.json", "x.snapshot", "%2Fetc%2Fpasswd"]:
        response = httpx.get(f"{server.url}/collections/{name}/snapshots/{bad}")
        assert response.status_code == 404, response.text
    response = httpx.put(f"{server.url}/collections/{name}/snapshots/recover", json={"location": "ftp://example.com/x.snapshot"})
    assert response.status_code == 400


class ServeFiles:
    """A tiny HTTP server on loopback serving `files` (path -> bytes), recording request headers."""

    def __init__(self, files):
        import http.server
        import threading

        seen = self.headers = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(dict(self.headers))
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", self.path[len("/redirect"):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.mark.single_node("recovering a collection from a snapshot is not replicated yet")
def test_recover_from_an_http_location(server, client, name):
    fill(client, name)
    before = state(client, name)
    snapshot = client.create_snapshot(name)
    data = httpx.get(f"{server.url}/collections/{name}/snapshots/{snapshot.name}").content
    middle = len(data) // 2
    files = {"/s.snapshot": data, "/damaged.snapshot": data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64])
             + data[middle + 64:]}
    web = ServeFiles(files)
    try:
        client.upsert(name, points=[models.PointStruct(id=1000, vector=[1, 1, 1, 1])])
        client.delete(name, points_selector=models.PointIdsList(points=[1, 2, 3]))
        # Bad checksum, missing file, damaged archive, unreachable server: 400, nothing changes.
        changed = state(client, name)
        for location, checksum in [(f"{web.url}/s.snapshot", "0" * 64), (f"{web.url}/missing.snapshot", None),
                                   (f"{web.url}/damaged.snapshot", None), ("http://127.0.0.1:1/x.snapshot", None)]:
            with pytest.raises(UnexpectedResponse) as error:
                client.recover_snapshot(name, location=location, checksum=checksum)
            assert error.value.status_code == 400, (location, error.value.content)
            assert state(client, name) == changed
        assert client.recover_snapshot(name, location=f"{web.url}/s.snapshot", checksum=snapshot.checksum,
                                       api_key="secret-of-the-other-server")
        assert state(client, name) == before
        assert web.headers[-1].get("api-key") == "secret-of-the-other-server"
        # Redirects are followed, except with an api_key (which a redirect must not carry elsewhere).
        assert client.recover_snapshot(name, location=f"{web.url}/redirect/s.snapshot")
        with pytest.raises(UnexpectedResponse) as error:
            client.recover_snapshot(name, location=f"{web.url}/redirect/s.snapshot", api_key="k")
        assert error.value.status_code == 400 and "redirect" in str(error.value.content)
        # Into a new collection; the download leaves no file behind.
        other = name + "_http"
        assert client.recover_snapshot(other, location=f"{web.url}/s.snapshot")
        assert state(client, other) == before
        listed = os.listdir(os.path.join(server.data_dir, "data", "snapshots"))
        assert not [f for f in listed if f.startswith(".download-")]
    finally:
        web.close()


@pytest.mark.single_node("recovering a collection from a snapshot is not replicated yet")
def test_full_storage_snapshots(server, client, name):
    fill(client, name, n=10)
    client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=name + "_a"))])
    full = client.create_full_snapshot()
    assert full.name.startswith("full-") and full.size > 0
    assert full.name in [s.name for s in client.list_full_snapshots()]
    response = httpx.get(f"{server.url}/snapshots/{full.name}")
    assert hashlib.sha256(response.content).hexdigest() == full.checksum
    with tarfile.open(fileobj=io.BytesIO(response.content)) as archive:
        names = archive.getnames()
    assert names[0] == "snapshot.json" and "aliases.json" in names and any(n.startswith(f"collections/{name}/") or n.startswith(f"{name}/") for n in names)
    assert client.delete_full_snapshot(full.name)
    assert client.list_full_snapshots() == []


@pytest.mark.single_node("recovering a collection from a snapshot is not replicated yet")
def test_snapshot_upload(server, client, name):
    fill(client, name, n=30)
    before = state(client, name)
    snapshot = client.create_snapshot(name)
    data = httpx.get(f"{server.url}/collections/{name}/snapshots/{snapshot.name}").content
    client.delete(name, points_selector=models.PointIdsList(points=list(range(10))))
    # multipart/form-data with a `snapshot` file field, as `curl -F snapshot=@file` sends it.
    response = httpx.post(f"{server.url}/collections/{name}/snapshots/upload",
                          params={"priority": "snapshot", "checksum": snapshot.checksum},
                          files={"snapshot": (snapshot.name, data, "application/octet-stream")}, timeout=60)
    assert response.status_code == 200, response.text
    assert state(client, name) == before
    # Into a new collection; a damaged upload or a wrong checksum is refused and changes nothing.
    response = httpx.post(f"{server.url}/collections/{name}_up/snapshots/upload",
                          files={"snapshot": (snapshot.name, data, "application/octet-stream")})
    assert response.status_code == 200 and state(client, name + "_up") == before
    client.delete(name, points_selector=models.PointIdsList(points=[0]))
    damaged = data[:100] + bytes([data[100] ^ 1]) + data[101:]
    response = httpx.post(f"{server.url}/collections/{name}/snapshots/upload",
                          files={"snapshot": (snapshot.name, damaged, "application/octet-stream")})
    assert response.status_code == 400, response.text
    assert response.json()["status"]["error"].startswith("Bad request: invalid snapshot: the uploaded snapshot")
    assert ".upload-" not in response.text, "the server's own path is not shown"
    response = httpx.post(f"{server.url}/collections/{name}/snapshots/upload", params={"checksum": "0" * 64},
                          files={"snapshot": (snapshot.name, data, "application/octet-stream")})
    assert response.status_code == 400 and "fails its checksum" in response.text
    # Not an archive at all, truncated, empty, and a hostile member path: all 400, never 5xx.
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        member = tarfile.TarInfo("../../escape.txt")
        member.size = 3
        archive.addfile(member, io.BytesIO(b"bad"))
    for body in [b"not a snapshot" * 100, data[: len(data) // 3], b"", hostile.getvalue()]:
        response = httpx.post(f"{server.url}/collections/{name}/snapshots/upload",
                              files={"snapshot": (snapshot.name, body, "application/octet-stream")})
        assert response.status_code == 400, response.text
    assert client.count(name).count == len(before) - 1
    response = httpx.post(f"{server.url}/collections/{name}/snapshots/upload", content=data)
    assert response.status_code == 400 and "multipart" in response.json()["status"]["error"]
    assert [s.name for s in client.list_snapshots(name)] == [snapshot.name], "uploads are never listed"


@pytest.mark.single_node("recovering a collection from a snapshot is not replicated yet")
def test_shard_snapshots_are_the_collection_snapshots_of_shard_0(server, client, name):
    fill(client, name, n=12)
    before = state(client, name)
    snapshot = client.create_shard_snapshot(name, shard_id=0)
    assert [s.name for s in client.list_shard_snapshots(name, shard_id=0)] == [snapshot.name]
    assert [s.name for s in client.list_snapshots(name)] == [snapshot.name]
    data = httpx.get(f"{server.url}/collections/{name}/shards/0/snapshots/{snapshot.name}").content
    assert hashlib.sha256(data).hexdigest() == snapshot.checksum
    client.delete(name, points_selector=models.PointIdsList(points=[0, 1]))
    path = os.path.join(server.data_dir, "data", "snapshots", "shard-" + snapshot.name)
    with open(path, "wb") as f:
        f.write(data)
    assert client.recover_shard_snapshot(name, shard_id=0, location=f"file://{path}", checksum=snapshot.checksum)
    assert state(client, name) == before
    client.delete(name, points_selector=models.PointIdsList(points=[0]))
    response = httpx.post(f"{server.url}/collections/{name}/shards/0/snapshots/upload",
                          files={"snapshot": (snapshot.name, data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert state(client, name) == before
    # Only shard 0 exists, and only of an existing collection.
    for url in [f"/collections/{name}/shards/1/snapshots", f"/collections/{name}_none/shards/0/snapshots"]:
        assert httpx.get(server.url + url).status_code == 404
    assert client.delete_shard_snapshot(name, shard_id=0, snapshot_name=snapshot.name)
    assert client.list_shard_snapshots(name, shard_id=0) == []


@pytest.mark.single_node("recovering a collection from a snapshot is not replicated yet")
def test_stream_shard_snapshot_recovers_a_copy(server, client, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[i, 1, 0, 0.5], payload={"i": i}) for i in range(50)])
    response = httpx.get(f"{server.url}/collections/{name}/shards/0/snapshot", timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    data = response.content
    assert len(data) == int(response.headers["content-length"]) > 0
    # The snapshot made for the stream is gone.
    assert client.list_snapshots(name) == []
    assert os.listdir(os.path.join(server.data_dir, "data", "snapshots", name)) == []

    copy = name + "_copy"
    upload = httpx.post(f"{server.url}/collections/{copy}/snapshots/upload",
                        files={"snapshot": ("s.snapshot", data)}, timeout=60)
    assert upload.status_code == 200, upload.text

    def points(collection):
        records, _ = client.scroll(collection, limit=100, with_vectors=True)
        return [(p.id, p.payload, p.vector) for p in records]

    assert points(copy) == points(name) and len(points(copy)) == 50


def test_stream_shard_snapshot_errors(server, client, name):
    assert httpx.get(f"{server.url}/collections/{name}/shards/0/snapshot").status_code == 404
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                             shard_number=1)
    response = httpx.get(f"{server.url}/collections/{name}/shards/1/snapshot")
    assert response.status_code == 404 and "Shard 1" in response.json()["status"]["error"]
    assert httpx.get(f"{server.url}/collections/{name}/shards/x/snapshot").status_code == 404


def test_stream_shard_snapshot_interrupted_leaves_nothing(server, client, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             shard_number=1)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[i, 1, 0, 0.5]) for i in range(2000)])
    with httpx.stream("GET", f"{server.url}/collections/{name}/shards/0/snapshot", timeout=60) as response:
        assert response.status_code == 200
        next(response.iter_raw(1024))
    # The client went away mid-stream; the server keeps serving and left no snapshot.
    assert client.list_snapshots(name) == []
    assert client.count(name).count == 2000
