"""`/metrics` in Prometheus's text format, labelled by route template."""

from pathlib import Path

import httpx

from tests.conftest import make_settings, running


def test_metrics_in_prometheus_text_format(tmp_path: Path) -> None:
    with (
        running(make_settings(tmp_path / "home", metrics_token="m3trics")) as live,
        live.client() as client,
    ):
        ingested = client.post(
            "/ingest", data={"metadata": "{}"}, files={"file": ("a", b"a", "text/plain")}
        ).json()
        client.post("/ingest", data={"metadata": "{}"}, files={"file": ("a", b"a", "text/plain")})
        h, sha256 = ingested["h_entrada"], ingested["files"][0]["sha256"]
        assert client.get(f"/entries/{h}").status_code == 200
        assert client.get(f"/blobs/{sha256}").status_code == 200
        client.post("/consolidate")
        assert httpx.get(f"{live.url}/metrics").status_code == 401
        text = httpx.get(f"{live.url}/metrics", headers={"Authorization": "Bearer m3trics"}).text
    assert "tzzr_ingests_total 1.0" in text
    assert "tzzr_duplicates_total 1.0" in text
    assert (
        'tzzr_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/ingest",status="2xx"}'
        in text
    )
    # routes are labelled by their templates, never by the values in the path
    for template in ("/entries/{h_entrada}", "/blobs/{sha256}"):
        assert f'method="GET",route="{template}",status="2xx"' in text, template
    assert h not in text and sha256 not in text
    assert 'tzzr_runs{status="done"} 0.0' in text
    assert 'tzzr_queue_depth{queue="cpu"} 0.0' in text
    assert "tzzr_ledger_leaves 1.0" in text
    assert "tzzr_seconds_since_last_block " in text
