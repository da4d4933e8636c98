"""The node-wide quota (`GET`/`PUT /quotas`) through qdrant-client's quotas API:
round trip, persistence across a restart, validation, a limit of 100 letting writes through
(the refusals need steered measurements: StrataServerTests/QuotaTests)."""
import shutil

import httpx
import pytest
from qdrant_client import models

from conftest import StrataServer, connect


def test_quota_roundtrip_persists_across_restart():
    server = StrataServer()
    try:
        client = connect(server)
        status = client.http.quotas_api.get_quotas().result
        assert status.config.enabled is False and status.config.max_resident_memory_percent is None
        assert 0 <= status.usage.resident_memory_percent <= 100
        assert 0 < status.usage.disk_usage_percent <= 100
        assert status.peers is None

        config = models.QuotaConfig(enabled=True, max_resident_memory_percent=100, max_disk_usage_percent=100,
                                    release_margin_percent=0)
        assert client.http.quotas_api.update_quotas(wait=True, quota_config=config).result is True
        assert client.http.quotas_api.get_quotas().result.config == config

        # A limit of 100% lets every write through.
        client.create_collection("q", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert("q", points=[models.PointStruct(id=1, vector=[1, 0], payload={"a": 1})])
        client.set_payload("q", payload={"b": 2}, points=[1])
        client.update_vectors("q", points=[models.PointVectors(id=1, vector=[0, 1])])
        assert client.count("q").count == 1
        client.close()
    finally:
        assert server.stop() == 0

    # The same data directory again: the config survived.
    again = StrataServer(data_dir=server.data_dir)
    try:
        client = connect(again)
        assert client.http.quotas_api.get_quotas().result.config == config
        # PUT replaces the whole config: what it leaves out is unset.
        client.http.quotas_api.update_quotas(quota_config=models.QuotaConfig(max_disk_usage_percent=90))
        replaced = httpx.get(f"{again.url}/quotas").json()["result"]["config"]
        assert replaced == {"enabled": False, "max_disk_usage_percent": 90}
        client.close()
    finally:
        assert again.stop() == 0
        shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.mark.parametrize("body,status,text", [
    ({"max_resident_memory_percent": 0}, 422,
     "Validation error in JSON body: [max_resident_memory_percent: value 0 invalid, must be from 1 to 100]"),
    ({"max_disk_usage_percent": 101}, 422,
     "Validation error in JSON body: [max_disk_usage_percent: value 101 invalid, must be from 1 to 100]"),
    ({"release_margin_percent": 101}, 422, "release_margin_percent: value 101 invalid, must be 100 or smaller"),
    ({"max_disk_usage_percent": 256}, 400, "max_disk_usage_percent"),
    ({"max_disk_usage_percent": -1}, 400, "max_disk_usage_percent"),
    ({"enabled": "yes"}, 400, "enabled"),
])
def test_quota_validation(server, body, status, text):
    before = httpx.get(f"{server.url}/quotas").json()["result"]["config"]
    response = httpx.put(f"{server.url}/quotas", json=body)
    assert response.status_code == status, response.text
    assert text in response.json()["status"]["error"]
    assert httpx.get(f"{server.url}/quotas").json()["result"]["config"] == before


def test_quota_wait_parameter(server):
    assert httpx.put(f"{server.url}/quotas?wait=false", json={}).status_code == 200
    response = httpx.put(f"{server.url}/quotas?wait=maybe", json={})
    assert response.status_code == 400
