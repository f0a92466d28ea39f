"""`tzzr grace serve`'s app: GRACE alone, behind a bearer token."""

import base64
import socket
import threading
import time

import httpx
import uvicorn

from tests.cells.test_ocr import ENGLISH, cer, render
from tzzr.cells.registry import Registry
from tzzr.grace_app import MAX_PAYLOAD_BYTES, create_grace_app


def test_standalone_grace_runs_cells_for_token_holders() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = create_grace_app(Registry.discover(), token="s3cret")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    body = {
        "input": {
            "contract_version": "2.1",
            "routing": {"module": "OCR_CORE"},
            "payload": {
                "type": "image",
                "encoding": "base64",
                "content": base64.b64encode(render(ENGLISH)).decode(),
            },
            "context": {"lang": "en"},
        }
    }
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            assert client.post("/grace/runsync", json=body).status_code == 401
            wrong = client.get("/grace/health", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            headers = {"Authorization": "Bearer s3cret"}
            assert "OCR_CORE" in client.get("/grace/health", headers=headers).json()["modules"]
            done = client.post("/grace/runsync", json=body, headers=headers).json()
            assert done["status"] == "COMPLETED"
            assert (
                cer(" ".join(ENGLISH), " ".join(done["output"]["result"]["text"].split())) <= 0.02
            )
            deep = b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            refused = client.post("/grace/runsync", content=deep, headers=headers)
            assert refused.status_code == 422, refused.text  # not a 400, not a 500
            huge = b'{"input": "' + b"A" * (MAX_PAYLOAD_BYTES * 4 // 3 + 128 * 1024) + b'"}'
            assert client.post("/grace/runsync", content=huge, headers=headers).status_code == 413
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
