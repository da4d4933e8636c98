"""HTTP behaviour below qdrant-client: `Expect: 100-continue` and large bodies, over a raw socket."""
import json
import socket
import time

import httpx


def read_head(sock, timeout):
    """Reads one response head (up to the blank line): (status, raw head, bytes after it); status None on timeout."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        return None, data, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head, rest


def test_expect_100_continue_is_answered_before_the_body(server, name):
    httpx.put(f"{server.url}/collections/{name}", json={"vectors": {"size": 3, "distance": "Dot"}}).raise_for_status()
    body = json.dumps({"points": [{"id": i, "vector": [i, 1, 2]} for i in range(1, 2001)]}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"PUT /collections/{name}/points?wait=true HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
        started = time.monotonic()
        status, head, rest = read_head(sock, timeout=5)
        assert status == 100, f"expected an interim 100 Continue before the body, got {head!r}"
        assert time.monotonic() - started < 1.0
        sock.sendall(body)
        data = rest
        sock.settimeout(30)
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        final = data.split(b"\r\n", 1)[0]
        assert final.startswith(b"HTTP/1.1 200"), final
    count = httpx.post(f"{server.url}/collections/{name}/points/count", json={"exact": True}).json()
    assert count["result"]["count"] == 2000


def test_expect_100_continue_refused_before_the_body_gets_no_100(server):
    # An unknown collection is refused before the body is read: the final 404
    # comes without an interim 100, and the body is never needed.
    body = b'{"points": [{"id": 1, "vector": [1, 2, 3]}]}'
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"PUT /collections/missing_collection_x/points HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n"
            f"Connection: close\r\n\r\n".encode())
        status, head, _ = read_head(sock, timeout=5)
        assert status == 404, head
