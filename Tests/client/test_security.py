"""API keys, a JWT and TLS through qdrant-client against a secured `strata serve`."""
import os
import shutil
import subprocess
import tempfile

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

import helpers
from conftest import StrataServer

API_KEY = "client-suite-api-key"
READ_ONLY_KEY = "client-suite-read-only-key"


def jwt(claims: dict) -> str:
    return helpers.jwt(claims, API_KEY)


@pytest.fixture(scope="module")
def secured():
    # Keys through the environment, as docs/http-api.md recommends.
    srv = StrataServer(env={"STRATA_API_KEY": API_KEY, "STRATA_READ_ONLY_API_KEY": READ_ONLY_KEY})
    yield srv
    assert srv.stop() == 0


def test_api_keys_and_jwt_with_the_official_client(secured):
    admin = QdrantClient(url=secured.url, api_key=API_KEY, check_compatibility=False)
    admin.create_collection("docs", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    admin.create_collection("other", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    admin.upsert("docs", points=[models.PointStruct(id=1, vector=[1, 0])])

    anonymous = QdrantClient(url=secured.url, check_compatibility=False)
    with pytest.raises(UnexpectedResponse) as error:
        anonymous.get_collections()
    assert error.value.status_code == 401
    assert httpx.get(f"{secured.url}/healthz").status_code == 200

    reader = QdrantClient(url=secured.url, api_key=READ_ONLY_KEY, check_compatibility=False)
    assert reader.count("docs").count == 1
    with pytest.raises(UnexpectedResponse) as error:
        reader.upsert("docs", points=[models.PointStruct(id=2, vector=[0, 1])])
    assert error.value.status_code == 403
    assert admin.count("docs").count == 1

    scoped = QdrantClient(url=secured.url, api_key=jwt({"access": [{"collection": "docs", "access": "rw"}]}),
                          check_compatibility=False)
    assert [c.name for c in scoped.get_collections().collections] == ["docs"]
    scoped.upsert("docs", points=[models.PointStruct(id=2, vector=[0, 1])])
    with pytest.raises(UnexpectedResponse) as error:
        scoped.count("other")
    assert error.value.status_code == 403
    expired = QdrantClient(url=secured.url, api_key=jwt({"access": "m", "exp": 1}), check_compatibility=False)
    with pytest.raises(UnexpectedResponse) as error:
        expired.get_collections()
    assert error.value.status_code == 401


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_tls(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    srv = StrataServer("--tls-cert", str(cert), "--tls-key", str(key), "--api-key", API_KEY, scheme="https",
                       verify=str(cert))
    try:
        client = QdrantClient(url=srv.url, api_key=API_KEY, verify=str(cert), check_compatibility=False)
        client.create_collection("tls", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert("tls", points=[models.PointStruct(id=1, vector=[1, 0])])
        assert client.query_points("tls", query=[1, 0]).points[0].id == 1
        with pytest.raises(httpx.HTTPError):
            httpx.get(srv.url.replace("https", "http") + "/healthz", timeout=2)
    finally:
        assert srv.stop() == 0
