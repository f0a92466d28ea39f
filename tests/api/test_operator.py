"""The operator's routes (`/operator/...`, `/metrics`): an operator key only, the
server-wide view, the default flows installed everywhere, settings shown without
secrets."""

from pathlib import Path

import httpx

from tests.conftest import make_settings, running
from tzzr.flows.defaults import DEFAULT_FLOWS


def test_operator_routes_and_metrics_need_an_operator_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", s3_endpoint_url="http://minio:pw@10.1.2.3:9000")
    with running(settings) as live:
        services = live.services
        deck = services.instances.get("deck")
        services.add_instance("corp", default_flows=False)
        operator, _ = services.keys.create_operator()
        as_operator = {"Authorization": f"Bearer {operator}"}
        with live.client() as admin:
            assert admin.get("/operator/instances").status_code == 403
            assert admin.get("/metrics").status_code == 403
            assert httpx.get(f"{live.url}/metrics").status_code == 401
            # an operator key reads no instance's data
            refused = httpx.get(f"{live.url}/entries", headers=as_operator)
            assert (
                refused.status_code == 403 and "no instance" in refused.json()["error"]["message"]
            )
            names = httpx.get(f"{live.url}/operator/instances", headers=as_operator).json()
            assert [i["name"] for i in names["instances"]] == ["deck", "corp"]
            installed = httpx.post(
                f"{live.url}/operator/flows/install-defaults", headers=as_operator
            ).json()["installed"]
            assert installed["corp"] == [f["id"] for f in DEFAULT_FLOWS]
            assert installed["deck"] == [f["id"] for f in DEFAULT_FLOWS]
            assert len(services.flows.live(deck.h_instancia)) == len(DEFAULT_FLOWS)
            metrics = httpx.get(f"{live.url}/metrics", headers=as_operator)
            assert metrics.status_code == 200 and "tzzr_ingests_total" in metrics.text
            shown = httpx.get(f"{live.url}/operator/settings", headers=as_operator).json()
            assert "s3_secret_access_key" not in shown["settings"]
            assert "database_url" not in shown["settings"] and "home" in shown["settings"]
            assert (
                "queue_url" not in shown["settings"] and "rate_limit_url" not in shown["settings"]
            )
            assert shown["settings"]["s3_endpoint_url"] == "http://10.1.2.3:9000"
