"""`GET /cluster/telemetry` without cluster mode: Qdrant's error, through qdrant-client."""
import httpx
import pytest
from qdrant_client.http.exceptions import UnexpectedResponse


def test_cluster_telemetry_without_cluster_mode(server, client):
    # Qdrant without cluster mode knows no peers to gather telemetry from.
    with pytest.raises(UnexpectedResponse) as error:
        client.cluster_telemetry(details_level=2, timeout=10)
    assert error.value.status_code == 500
    assert b"Service internal error: Could not get telemetry from cluster" in error.value.content
    response = httpx.get(f"{server.url}/cluster/telemetry?timeout=0")
    assert response.status_code == 422 and "timeout" in response.json()["status"]["error"]
    assert httpx.get(f"{server.url}/cluster/telemetry?details_level=x").status_code == 400
