"""The RunPod handler, run locally: same answers as /grace/runsync, RunPod's shapes."""

import base64

from tests.cells.test_ocr import ENGLISH, cer, render
from tzzr.cells.runpod import handler


def job(module: str, kind: str, content: str, encoding: str = "base64") -> dict[str, object]:
    return {
        "id": "job-1",
        "input": {
            "contract_version": "2.1",
            "routing": {"module": module},
            "payload": {"type": kind, "encoding": encoding, "content": content},
            "context": {"lang": "en"},
        },
    }


def test_the_handler_runs_a_cell() -> None:
    output = handler(job("OCR_CORE", "image", base64.b64encode(render(ENGLISH)).decode()))
    assert output["status"] == "ok"
    assert cer(" ".join(ENGLISH), " ".join(output["result"]["text"].split())) <= 0.02
    assert output["metrics"]["engine"] == "tesseract"


def test_errors_come_back_as_runpod_errors() -> None:
    assert "unknown module 'X'" in handler(job("X", "image", "aGk="))["error"]
    assert "base64" in handler(job("OCR_CORE", "image", "!!"))["error"]
    assert "need a TZZR server" in handler(job("OCR_CORE", "image", "ab" * 32, "blob"))["error"]
    refused = handler({"id": "j", "input": {"routing": {}}})["error"]
    assert refused == "invalid envelope: contract_version: Field required"  # the field named
