"""The shipped receipt flow (tzzr.flows.defaults, `receipt-ocr`) through the real API in
this process, the real OCR and the receipt-fields cell: a receipt with a total is read
into fields and consolidated; one without a total waits in MASON with the form filled
from what was read, and the person's correction is kept beside the suggestion."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Api, in_process
from tests.cells import receipts
from tzzr.flows.defaults import DEFAULT_FLOWS


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(tmp_path_factory.mktemp("receipts") / "home") as made:
        services = made[0]
        services.flows.install_defaults(services.instances.get("deck").h_instancia)
        yield made


def capture(api: Api, image: bytes, name: str) -> tuple[str, dict[str, Any]]:
    """Ingest `image`, run its execution; the entry and the execution."""
    services, client = api
    captured = client.post(
        "/ingest",
        data={"metadata": '{"lang": "es"}'},
        files={"file": (name, image, "image/png")},
    )
    assert captured.status_code == 200, captured.text
    h: str = captured.json()["h_entrada"]
    (execution,) = client.get("/executions", params={"h_entrada": h}).json()["executions"]
    assert services.alfred.advance(execution["executionId"], "test") == "done"
    return h, client.get(f"/executions/{execution['executionId']}").json()


def test_the_shipped_flow_reads_fields_and_decides_on_the_total() -> None:
    (receipt,) = [flow for flow in DEFAULT_FLOWS if flow["id"] == "receipt-ocr"]
    assert [step["cell"] for step in receipt["steps"]] == ["ocr-core", "receipt-fields"]
    assert receipt["steps"][1]["params"]["text"] == "${ocr.text}"
    assert receipt["decision"] == "fields.total != null"


def test_a_receipt_with_a_total_is_read_and_consolidated(api: Api) -> None:
    receipts.need_tesseract()
    _, client = api
    (bakery,) = [r for r in receipts.generate(7, seed=99, noisy=0.0) if r.name.startswith("bakery")]
    h, execution = capture(api, receipts.image(bakery.text), "bakery.png")
    assert execution["flow"] == "receipt-ocr" and execution["status"] == "done"
    assert execution["decision"]["outcome"] == "ok"
    ocr, fields = execution["steps"]
    assert ocr["status"] == fields["status"] == "done" and fields["cell"] == "receipt-fields"
    found = fields["output"]
    assert found["total"]["value"] == float(bakery.total)
    assert found["currency"]["value"] == "EUR"
    assert found["date"]["value"] == bakery.date.isoformat()
    assert found["merchant"]["value"] == bakery.merchant
    assert client.get(f"/entries/{h}").json()["state"] == "consolidated"
    run = client.get(f"/api/runs/{fields['runId']}").json()
    assert run["cellId"] == "receipt-fields" and run["leafIndex"] is not None  # attested
    assert client.get(f"/enrich/{h}").status_code == 404  # nobody needs to look at it


def test_without_a_total_mason_is_filled_and_the_correction_kept(api: Api) -> None:
    receipts.need_tesseract()
    _, client = api
    h, execution = capture(api, receipts.image(receipts.NO_TOTAL), "no-total.png")
    assert execution["decision"] == {
        "expression": "fields.total != null",
        "value": False,
        "outcome": "incident",
    }
    item = client.get(f"/enrich/{h}").json()
    assert item["state"] == "pending" and item["execution"]["decision"]["outcome"] == "incident"
    suggested = item["suggested"]
    values = {name: s["value"] for name, s in suggested.items()}
    assert values == {
        "title": "Ferretería López",
        "merchant": "Ferretería López",
        "date": "2026-11-12",
        "taxId": "B12345674",
        "currency": "EUR",
    }
    assert all(s["step"] == "fields" and s["cell"] == "receipt-fields" for s in suggested.values())
    assert all(0 < s["confidence"] <= 1 for s in suggested.values())
    assert set(item["schema"]["properties"]) >= {"amount", "date", "merchant", "taxId"}

    # the person confirms most of it, corrects the date, adds the amount, drops the title
    fields = {**values, "date": "2026-11-13", "amount": 5.6}
    del fields["title"]
    done = client.put(f"/enrich/{h}", json={"fields": fields})
    assert done.status_code == 200, done.text
    assert done.json()["corrections"] == {
        "date": {"suggested": "2026-11-12", "value": "2026-11-13"},
        "title": {"suggested": "Ferretería López", "value": None},
    }
    after = client.get(f"/enrich/{h}").json()
    (version,) = after["history"]
    assert version["fields"] == fields
    assert version["suggested"]["date"]["value"] == "2026-11-12"  # what was suggested, kept
    assert set(version["corrections"]) == {"date", "title"}
    assert after["execution"]["decision"]["value"] is False  # and the decision, kept
    assert client.get(f"/entries/{h}").json()["state"] == "consolidated"
    bad = client.put(f"/enrich/{h}", json={"fields": {"date": "12/11/2026"}})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "fields.date"


def test_an_instance_schema_gets_only_its_own_fields_suggested() -> None:
    """Suggestions follow the instance's schema: a field it does not have, or a value
    its field refuses, is not suggested."""
    from tzzr.mason import suggestions

    steps = [
        {
            "id": "fields",
            "cell": "receipt-fields",
            "status": "done",
            "output": {
                "total": {"value": 12.5, "confidence": 0.9},
                "currency": {"value": "euros", "confidence": 0.5},
                "merchant": {"value": "Bar Pepe", "confidence": 0.8},
                "date": None,
                "broken": {"value": "x", "confidence": 0.1},
            },
        },
        {"id": "failed", "cell": "x", "status": "failed", "output": {"total": {"value": 1}}},
    ]
    schema = {
        "type": "object",
        "$defs": {"money": {"type": "number", "minimum": 0}},
        "properties": {
            "amount": {"$ref": "#/$defs/money"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "supplier": {"type": "string"},
            "broken": {"$ref": "#/$defs/nowhere"},
        },
    }
    found = suggestions(steps, schema)
    assert found == {
        "amount": {"value": 12.5, "confidence": 0.9, "step": "fields", "cell": "receipt-fields"}
    }
    assert suggestions(steps, {"type": "object"}) == {}
