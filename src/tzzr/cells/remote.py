"""A remote cell: the same contract 2.1 envelope, sent over HTTP to another GRACE
(`{microserviceUrl}/grace/runsync`), e.g. `tzzr grace serve` on a GPU box."""

import base64
from typing import Any

import httpx

from tzzr.cells.base import Artifact, CellContext, CellFailed, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell


class RemoteUnavailable(Exception):
    """The remote GRACE could not answer (network, 5xx): the run is retried."""


class RemoteCell:
    def __init__(
        self, meta: KnowledgeCell, module: str, accepts: frozenset[str], token: str | None
    ) -> None:
        self.meta = meta
        self.module = module
        self.accepts = accepts
        self.token = token
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
            response = httpx.post(
                f"{self.url}/grace/runsync",
                json={"input": envelope, "id": context.run_id},
                headers=self._headers(),
                timeout=httpx.Timeout(10.0, read=self.timeout_s or 600.0),
            )
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(f"{self.url} did not answer: {exc}") from exc
        if response.status_code >= 500:
            raise RemoteUnavailable(f"{self.url} answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise RemoteUnavailable(f"{self.url} answered something that is not JSON") from exc
        if response.status_code >= 400:
            error = answer.get("error", {}) if isinstance(answer, dict) else {}
            raise CellFailed(
                f"the remote cell refused the run ({response.status_code}): "
                f"{error.get('message', response.text[:300])}",
                field=error.get("field"),
            )
        if answer.get("status") != "COMPLETED":
            raise CellFailed(str(answer.get("error") or "the remote cell failed"))
        output = answer.get("output") or {}
        metrics = output.get("metrics") or {}
        result = dict(output.get("result") or {})
        artifacts = {}
        for name, art in (result.pop("artifacts", None) or {}).items():
            try:
                artifacts[name] = Artifact(base64.b64decode(art["base64"]), art["mediaType"])
            except (KeyError, TypeError, ValueError) as exc:
                raise RemoteUnavailable(f"{self.url} sent a malformed artifact {name!r}") from exc
        return CellResult(
            result,
            engine=str(metrics.get("engine") or "remote"),
            model=metrics.get("model"),
            device=str(metrics.get("device") or "remote"),
            artifacts=artifacts,
            metrics={
                k: float(v)
                for k, v in metrics.items()
                if isinstance(v, int | float) and k != "latencyMs"
            },
        )

    def health(self) -> dict[str, Any]:
        try:
            response = httpx.get(f"{self.url}/grace/health", headers=self._headers(), timeout=5)
            ok = response.status_code == 200
            detail = response.json() if ok else {"status": response.status_code}
        except (httpx.HTTPError, ValueError) as exc:
            return {"status": "down", "detail": str(exc)}
        return {"status": "ok" if ok else "down", "detail": detail}
