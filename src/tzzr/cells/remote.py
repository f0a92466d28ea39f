"""A remote cell: the same contract 2.1 envelope, sent over HTTP to another GRACE
(`{microserviceUrl}/grace/runsync`), e.g. `tzzr grace serve` on a GPU box.

Every request goes through `tzzr.outbound`; what the remote answers is never passed on as
text (errors carry a status, a short reason and at most a well-formed error code)."""

import base64
import re
from typing import Any

import httpx

from tzzr.cells.base import Artifact, CellContext, CellFailed, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell
from tzzr.errors import Unavailable
from tzzr.outbound import Answer, OutboundError, OutboundPolicy, Refused, send

ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")
HEALTH_LIMIT = 64 * 1024


class RemoteUnavailable(Exception):
    """The remote GRACE could not answer (network, 5xx): the run is retried."""


class RemoteCell:
    def __init__(
        self,
        meta: KnowledgeCell,
        module: str,
        accepts: frozenset[str],
        token: str | None,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.meta = meta
        self.module = module
        self.accepts = accepts
        self.token = token
        self.policy = policy or OutboundPolicy()
        self.timeout_s: float | None = None

    @property
    def url(self) -> str:
        return self.meta.microservice_url.rstrip("/")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        envelope: dict[str, Any] = {
            "contract_version": "2.1",
            "routing": {"module": self.module},
            "payload": {
                "type": payload.type,
                "encoding": "base64",
                "content": base64.b64encode(payload.data).decode(),
                "media_type": payload.media_type,
            },
            "context": {"lang": context.lang},
            "params": dict(context.params),
        }
        try:
            response = send(
                self.url,
                self.policy,
                "POST",
                "/grace/runsync",
                json_body={"input": envelope, "id": context.run_id},
                headers=self._headers(),
                timeout=httpx.Timeout(10.0, read=self.timeout_s or 600.0),
            )
        except Refused as exc:
            if exc.transient:
                raise RemoteUnavailable(f"{self.url} did not answer: {exc.reason}") from None
            # Trying again would be refused again: fail the run now.
            raise Unavailable(f"{self.url} is not reached: {exc.reason}") from None
        except OutboundError as exc:
            raise RemoteUnavailable(f"{self.url} did not answer: {exc.reason}") from None
        if response.status >= 500:
            raise RemoteUnavailable(f"{self.url} answered {response.status}")
        answer = _json_object(response)
        if response.status >= 400:
            error = answer.get("error") if answer is not None else None
            raise CellFailed(_refusal(f"answered {response.status}", error))
        if answer is None:
            raise RemoteUnavailable(f"{self.url} answered {response.status} with no JSON object")
        if answer.get("status") != "COMPLETED":
            output = answer.get("output")
            error = output.get("error") if isinstance(output, dict) else None
            raise CellFailed(_refusal("it reported a failure", error))
        output = answer.get("output") or {}
        metrics = (output.get("metrics") or {}) if isinstance(output, dict) else None
        result = (output.get("result") or {}) if isinstance(output, dict) else None
        if not isinstance(metrics, dict) or not isinstance(result, dict):
            raise RemoteUnavailable(f"{self.url} answered 200 with a malformed output")
        result = dict(result)
        sent = result.pop("artifacts", None) or {}
        if not isinstance(sent, dict):
            raise RemoteUnavailable(f"{self.url} sent malformed artifacts")
        artifacts = {}
        for name, art in sent.items():
            try:
                artifacts[name] = Artifact(base64.b64decode(art["base64"]), art["mediaType"])
            except (KeyError, TypeError, ValueError):
                raise RemoteUnavailable(f"{self.url} sent a malformed artifact") from None
        model = metrics.get("model")
        return CellResult(
            result,
            engine=str(metrics.get("engine") or "remote")[:100],
            model=str(model)[:100] if model is not None else None,
            device=str(metrics.get("device") or "remote")[:100],
            artifacts=artifacts,
            metrics={
                k: float(v)
                for k, v in metrics.items()
                if isinstance(v, int | float) and k != "latencyMs"
            },
        )

    def health(self) -> dict[str, Any]:
        """`{"status": "ok" | "down", "reason"}`; never the remote's own words."""
        try:
            response = send(
                self.url,
                self.policy,
                "GET",
                "/grace/health",
                headers=self._headers(),
                timeout=httpx.Timeout(5.0),
                limit=HEALTH_LIMIT,
            )
        except OutboundError as exc:
            return {"status": "down", "reason": exc.reason}
        if response.status != 200:
            return {"status": "down", "reason": f"answered {response.status}"}
        if _json_object(response) is None:
            return {"status": "down", "reason": "answered 200 with no JSON object"}
        return {"status": "ok", "reason": "answered 200"}


def _json_object(response: Answer) -> dict[str, Any] | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _refusal(what: str, error: Any) -> str:
    """The remote's error code is kept only when it is a plain code (`cell_failed`): it
    helps an operator, while free text from elsewhere would reach whoever reads the run."""
    code = error.get("code") if isinstance(error, dict) else None
    shown = f", code {code}" if isinstance(code, str) and ERROR_CODE.match(code) else ""
    return f"the remote cell refused the run ({what}{shown})"
