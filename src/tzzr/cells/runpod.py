"""The RunPod serverless handler: the same GRACE code on a RunPod GPU worker.

On the worker image: `pip install tzzr runpod`, set TZZR_ASR_MODEL_DIR (and
TZZR_ASR_DEVICE=cuda), and start `python -m tzzr.cells.runpod`. Payloads are base64
(there is no blob store on the worker)."""

from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from tzzr.cells.envelope import Envelope, load_payload
from tzzr.cells.grace import execute
from tzzr.cells.registry import Registry
from tzzr.errors import TzzrError
from tzzr.validation import first_error

MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


@lru_cache(maxsize=1)
def _cells() -> Registry:
    return Registry.discover()  # models load once per worker, on first use


def handler(job: dict[str, Any]) -> dict[str, Any]:
    """RunPod calls this with `{"id", "input": <envelope>}`; a returned `error` marks the
    job FAILED, anything else is its output."""
    try:
        envelope = Envelope.model_validate(job.get("input"))
        answer = execute(
            _cells(),
            envelope,
            lambda env: load_payload(env, None, MAX_PAYLOAD_BYTES),
            run_id=job.get("id"),
        )
    except ValidationError as exc:
        first = first_error(exc)
        return {"error": f"invalid envelope: {first.field}: {first.message}"}
    except TzzrError as exc:
        return {"error": exc.message}
    if answer["status"] == "FAILED":
        return {"error": answer["error"]}
    output: dict[str, Any] = answer["output"]
    return output


if __name__ == "__main__":  # pragma: no cover - runs on RunPod, with its SDK
    import runpod  # type: ignore[import-not-found]

    runpod.serverless.start({"handler": handler})
