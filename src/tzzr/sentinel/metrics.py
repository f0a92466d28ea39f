"""`/metrics` in Prometheus's text format: `tzzr_` names in base units, no
high-cardinality labels (routes are templates, statuses are classes). Counters and the
latency histogram are this server process's; the gauges are read from the database at
each scrape, so they cover every worker."""

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tzzr.db.models import Enrichment, Execution, LedgerBlock, LedgerHead, Run
from tzzr.sentinel import tracing
from tzzr.states import EnrichmentState, ExecutionStatus, RunStatus, values

if TYPE_CHECKING:
    from fastapi import FastAPI

    from tzzr.queue import RunQueue

log = logging.getLogger("tzzr.sentinel")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Database(Collector):
    def __init__(self, engine: Engine, queue: "RunQueue") -> None:
        self._engine = engine
        self._queue = queue

    def collect(self) -> Iterator[Metric]:
        with self._engine.connect() as conn:
            runs = dict(conn.execute(select(Run.status, func.count()).group_by(Run.status)).all())
            executions = dict(
                conn.execute(
                    select(Execution.status, func.count()).group_by(Execution.status)
                ).all()
            )
            leaves = conn.execute(
                select(func.coalesce(func.sum(LedgerHead.next_index), 0))
            ).scalar()
            last_block = conn.execute(select(func.max(LedgerBlock.created_at))).scalar()
            pending = conn.execute(
                select(func.count())
                .select_from(Enrichment)
                .where(Enrichment.state == EnrichmentState.PENDING)
            ).scalar()
        family = GaugeMetricFamily("tzzr_runs", "Cell runs by status", labels=["status"])
        for status in values(RunStatus):
            family.add_metric([status], float(runs.get(status, 0)))
        yield family
        family = GaugeMetricFamily(
            "tzzr_executions", "Flow executions by status", labels=["status"]
        )
        for status in values(ExecutionStatus):
            family.add_metric([status], float(executions.get(status, 0)))
        yield family
        depth = GaugeMetricFamily(
            "tzzr_queue_depth", "Messages waiting in the queue", labels=["queue"]
        )
        try:
            for name, count in self._queue.depth().items():
                depth.add_metric([name], float(count))
        except Exception:  # the queue unreachable: no sample, the scrape still works
            log.warning("the queue did not answer for /metrics", exc_info=True)
        yield depth
        yield GaugeMetricFamily(
            "tzzr_ledger_leaves", "Leaves in all ledgers", value=float(leaves or 0)
        )
        if last_block is not None:
            if last_block.tzinfo is None:
                last_block = last_block.replace(tzinfo=UTC)
            age = (datetime.now(UTC) - last_block).total_seconds()
            yield GaugeMetricFamily(
                "tzzr_seconds_since_last_block", "Seconds since the newest block", value=age
            )
        yield GaugeMetricFamily(
            "tzzr_enrichments_pending", "Items waiting in MASON's window", value=float(pending or 0)
        )


class Metrics:
    def __init__(self, engine: Engine, queue: "RunQueue") -> None:
        self.registry = CollectorRegistry()
        self.ingests = Counter("tzzr_ingests", "Captures ingested", registry=self.registry)
        self.duplicates = Counter(
            "tzzr_duplicates", "Captures refused as already ingested (409)", registry=self.registry
        )
        self.latency = Histogram(
            "tzzr_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Database(engine, queue))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def install(self, app: "FastAPI") -> None:
        app.add_middleware(_Observe, metrics=self)

    def observe(self, method: str, scope: Scope, status: int, seconds: float) -> None:
        # the matched route's template (never the raw path: no unbounded labels)
        route = str(getattr(scope.get("route"), "path", "unmatched"))
        if route == "/ingest" and method == "POST":
            if status == 200:
                self.ingests.inc()
            elif status == 409:
                self.duplicates.inc()
        if route != "/metrics":
            self.latency.labels(method, route, f"{status // 100}xx").observe(seconds)


class _Observe:
    """Pure ASGI (no BaseHTTPMiddleware: it would buffer and slow every request and
    every streamed upload): times each request, and with tracing on, spans it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        method = scope["method"]
        try:
            if tracing.enabled():
                with tracing.tracer().start_as_current_span(f"{method} {scope['path']}") as span:
                    try:
                        await self.app(scope, receive, sending)
                    finally:
                        route = getattr(scope.get("route"), "path", "?")
                        span.update_name(f"{method} {route}")
                        span.set_attribute("http.status_code", status)
            else:
                await self.app(scope, receive, sending)
        finally:
            self.metrics.observe(method, scope, status, time.perf_counter() - started)
