"""`POST /ingest` over HTTP: who may call it. What it records is tested in
tests/ingest/test_service.py, how it reads the wire in tests/ingest/test_forms.py."""

from tests.conftest import Live
from tests.ingest.conftest import unique_meta


def test_no_key_is_401_with_a_challenge(live: Live) -> None:
    with live.client(key="") as anonymous:
        response = anonymous.post("/ingest", json={"metadata": {}})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]["message"]
    with live.client(key="tzzr_0000_wrong") as wrong:
        assert wrong.post("/ingest", json={"metadata": {}}).status_code == 401


def test_roles_are_enforced(live: Live) -> None:
    read_key, _ = live.services.keys.create("deck", "read")
    ingest_key, _ = live.services.keys.create("deck", "ingest")
    with live.client(read_key) as client:
        assert client.post("/ingest", json={"metadata": unique_meta()}).status_code == 403
        assert client.get("/entries").status_code == 200
    with live.client(ingest_key) as client:
        assert client.post("/ingest", json={"metadata": unique_meta()}).status_code == 200
        assert client.get("/entries").status_code == 403
