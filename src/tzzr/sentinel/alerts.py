"""Alert rules (thresholds in the configuration), evaluated every TZZR_ALERT_INTERVAL
seconds once per deployment: an alert opens once per rule while its condition holds, closes by
itself when it clears, and can be acknowledged or resolved by hand. Critical alerts are
published to an ntfy topic (POST with Title, Priority and Tags headers)."""

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, insert, select, update

from tzzr import outbound
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Execution, LedgerBlock, LedgerHead, Run, SentinelAlert, SentinelEvent
from tzzr.errors import ConfigError, Conflict, NotFound
from tzzr.instances import InstanceInfo, Instances
from tzzr.sentinel.events import emit
from tzzr.states import RUN_FAILED, AlertState, ExecutionStatus, RunStatus, values
from tzzr.stats import p95 as p95_of
from tzzr.times import rfc3339, rfc3339_or_none
from tzzr.validation import one_of

log = logging.getLogger("tzzr.sentinel")
STATES = values(AlertState)
ACTIVE = (AlertState.OPEN, AlertState.ACKNOWLEDGED)  # not resolved: may fire again
MIN_RUNS = 5  # the failure rate needs this many finished runs in the window


@dataclass(frozen=True)
class Firing:
    rule: str
    severity: str
    message: str
    data: dict[str, Any]
    h_instancia: str | None = None  # None: about the whole server (operators see it)


def alert_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "rule": row.rule,
        "severity": row.severity,
        "state": row.state,
        "message": row.message,
        "data": row.data,
        "openedAt": rfc3339_or_none(row.opened_at),
        "lastSeen": rfc3339_or_none(row.last_seen),
        "acknowledgedAt": rfc3339_or_none(row.acknowledged_at),
        "resolvedAt": rfc3339_or_none(row.resolved_at),
        "notified": row.notified,
    }


def _owner(h_instancia: str | None) -> Any:
    return (
        SentinelAlert.h_instancia.is_(None)
        if h_instancia is None
        else SentinelAlert.h_instancia == h_instancia
    )


class Alerts:
    """SENTINEL's alerts: the rules, evaluated over the database (and the disk), and an
    instance's (or the operator's) alerts to list, acknowledge and resolve.
    `pending(instance)` is how many leaves wait for a block (FELDMAN's log)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        instances: Instances,
        pending: Callable[[InstanceInfo], int],
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._instances = instances
        self._pending = pending
        self.rules: tuple[Callable[[datetime], list[Firing]], ...] = (
            self._failure_rate,
            self._queue_lag,
            self._latency,
            self._disk,
            self._audit,
            self._block_overdue,
        )

    def _failure_rate(self, now: datetime) -> list[Firing]:
        """Per instance: the share of its runs that failed in the window."""
        since = now - timedelta(seconds=self._settings.alert_window_seconds)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Run.h_instancia, Run.status, func.count())
                .where(Run.finished_at >= since, Run.status.in_((RunStatus.DONE, *RUN_FAILED)))
                .group_by(Run.h_instancia, Run.status)
            ).all()
        counts: dict[str, dict[str, int]] = {}
        for h_instancia, status, count in rows:
            counts.setdefault(h_instancia, {})[status] = int(count)
        firing = []
        for h_instancia, by_status in sorted(counts.items()):
            total = sum(by_status.values())
            failed = sum(by_status.get(s, 0) for s in RUN_FAILED)
            if total < MIN_RUNS or failed / total < self._settings.alert_failure_rate:
                continue
            firing.append(
                Firing(
                    "failure_rate",
                    "warning",
                    f"{failed} of {total} runs failed in the last "
                    f"{self._settings.alert_window_seconds:.0f} s "
                    f"({failed / total:.0%} ≥ {self._settings.alert_failure_rate:.0%})",
                    {"failed": failed, "total": total},
                    h_instancia,
                )
            )
        return firing

    def _queue_lag(self, now: datetime) -> list[Firing]:
        with self._engine.connect() as conn:
            oldest = [
                conn.execute(
                    select(func.min(Run.created_at)).where(Run.status == RunStatus.QUEUED)
                ).scalar(),
                conn.execute(
                    select(func.min(Execution.created_at)).where(
                        Execution.status == ExecutionStatus.QUEUED
                    )
                ).scalar(),
            ]
        waiting = [value for value in oldest if value is not None]
        if not waiting:
            return []
        lag = (now - min(waiting)).total_seconds()
        if lag < self._settings.alert_queue_lag_seconds:
            return []
        return [
            Firing(
                "queue_lag",
                "warning",
                f"the oldest queued work has waited {lag:.0f} s (is a worker running?)",
                {"lagSeconds": round(lag)},
            )
        ]

    def _latency(self, now: datetime) -> list[Firing]:
        """Per instance: the p95 latency of its runs in the window."""
        since = now - timedelta(seconds=self._settings.alert_window_seconds)
        by_instance: dict[str, list[float]] = {}
        done = (Run.finished_at >= since, Run.status == RunStatus.DONE, Run.reused_from.is_(None))
        # each instance's newest runs (none crowds out another), in one query
        newest = (
            select(
                Run.h_instancia,
                Run.metrics,
                func.row_number()
                .over(partition_by=Run.h_instancia, order_by=Run.finished_at.desc())
                .label("n"),
            )
            .where(*done)
            .subquery()
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(newest.c.h_instancia, newest.c.metrics).where(newest.c.n <= 1000)
            ).all()
        for h_instancia, m in rows:
            if m and m.get("latencyMs") is not None:
                by_instance.setdefault(h_instancia, []).append(float(m["latencyMs"]))
        firing = []
        for h_instancia, latencies in sorted(by_instance.items()):
            if len(latencies) < MIN_RUNS:
                continue
            latencies.sort()
            p95 = p95_of(latencies)
            assert p95 is not None  # latencies is not empty
            if p95 < self._settings.alert_latency_ms:
                continue
            firing.append(
                Firing(
                    "latency",
                    "warning",
                    f"p95 run latency is {p95:.0f} ms (≥ {self._settings.alert_latency_ms:.0f} ms)",
                    {"p95Ms": p95, "runs": len(latencies)},
                    h_instancia,
                )
            )
        return firing

    def _disk(self, now: datetime) -> list[Firing]:
        usage = shutil.disk_usage(self._settings.home)
        free = usage.free / usage.total if usage.total else 1.0
        if free >= self._settings.alert_disk_free_ratio:
            return []
        return [
            Firing(
                "disk_space",
                "critical",
                f"only {free:.1%} of the disk under {self._settings.home} is free "
                f"({usage.free // 2**20} MiB)",
                {"freeRatio": round(free, 4), "freeBytes": usage.free},
            )
        ]

    def _audit(self, now: datetime) -> list[Firing]:
        """Per instance: the newest failed audit of its ledger in the window."""
        since = now - timedelta(seconds=self._settings.alert_window_seconds)
        with self._engine.connect() as conn:
            failures = conn.execute(
                select(SentinelEvent.data, SentinelEvent.h_instancia)
                .where(
                    SentinelEvent.kind == "audit_result",
                    SentinelEvent.severity == "critical",
                    SentinelEvent.ts >= since,
                )
                .order_by(SentinelEvent.id.desc())
                .limit(1000)
            ).all()
        newest: dict[str | None, Any] = {}
        for failed in failures:
            newest.setdefault(failed.h_instancia, failed)
        return [
            Firing(
                "audit_failure",
                "critical",
                f"tzzr audit found {failed.data.get('problems')} problem(s): "
                f"{failed.data.get('first')}",
                {"h_instancia": failed.h_instancia, **failed.data},
                failed.h_instancia,
            )
            for failed in newest.values()
        ]

    def _block_overdue(self, now: datetime) -> list[Firing]:
        """Per instance: a block was due and none was sealed."""
        interval = self._settings.block_interval
        if interval <= 0:
            return []
        late = []
        with self._engine.connect() as conn:
            for instance in self._instances.list():
                last = conn.execute(
                    select(func.max(LedgerBlock.created_at), func.max(LedgerBlock.tree_size)).where(
                        LedgerBlock.h_instancia == instance.h_instancia
                    )
                ).first()
                head = conn.execute(
                    select(LedgerHead.next_index).where(
                        LedgerHead.h_instancia == instance.h_instancia
                    )
                ).scalar()
                since = last[0] if last and last[0] else instance.created_at
                waiting = self._pending(instance)
                if waiting and (now - since).total_seconds() > interval * 1.5 + 60:
                    late.append(
                        (
                            instance.h_instancia,
                            {
                                "instance": instance.name,
                                "since": rfc3339(since),
                                "pending": waiting,
                                "treeSize": head,
                            },
                        )
                    )
        return [
            Firing(
                "block_overdue",
                "critical",
                f"no block sealed in {item['instance']} when one was due: "
                "is the server's sealer running?",
                {"instances": [item]},
                h_instancia,
            )
            for h_instancia, item in late
        ]

    def publish(self, alert: Any) -> bool:
        """POST a critical alert to the ntfy topic; False when it could not be delivered
        (it is tried again at the next evaluation)."""
        url = self._settings.ntfy_url
        if not url:
            return False
        headers = {
            "Title": f"TZZR: {alert.rule.replace('_', ' ')}",
            "Priority": "urgent" if alert.severity == "critical" else "high",
            "Tags": f"rotating_light,tzzr,{alert.rule}",
        }
        if self._settings.ntfy_token:
            headers["Authorization"] = f"Bearer {self._settings.ntfy_token}"
        message = alert.message
        if alert.h_instancia is not None:
            # The topic is the operator's: it learns that an instance needs looking at, not
            # what the instance holds (an audit's finding may name a file).
            names = {i.h_instancia: i.name for i in self._instances.list()}
            owner = names.get(alert.h_instancia, alert.h_instancia[:12])
            message = f"{alert.rule.replace('_', ' ')} in instance {owner}: see /sentinel/alerts"
        # Through the one guarded client, like every outbound request: the operator chose
        # this host, so it may be on the LAN, but a redirect is still not followed.
        host = urlsplit(url).netloc.rpartition("@")[2]
        try:
            answer = outbound.send(
                url,
                outbound.OutboundPolicy.of([host], max_response_bytes=64 * 1024),
                "POST",
                "",
                timeout=httpx.Timeout(10.0),
                content=message.encode(),
                headers=headers,
            )
        except (outbound.OutboundError, ConfigError) as exc:
            log.warning("ntfy at %s did not take the alert: %s", url, exc)
            return False
        if answer.status >= 300:
            log.warning("ntfy at %s answered %s", url, answer.status)
            return False
        return True

    def evaluate(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Run every rule once; open, refresh or close alerts; publish critical ones.
        Returns the alerts that are open now."""
        now = now or datetime.now(UTC)
        firing: dict[tuple[str, str | None], Firing] = {}
        for rule in self.rules:
            try:
                fired = rule(now)
            except Exception:
                log.exception("alert rule %s failed", rule.__name__)
                continue
            for one in fired:
                firing[(one.rule, one.h_instancia)] = one
        with write_transaction(self._engine) as conn:
            active = {
                (row.rule, row.h_instancia): row
                for row in conn.execute(
                    select(SentinelAlert).where(SentinelAlert.state.in_(ACTIVE))
                ).all()
            }
            for name, row in active.items():
                if name not in firing:  # the condition cleared
                    conn.execute(
                        update(SentinelAlert)
                        .where(SentinelAlert.id == row.id)
                        .values(state=AlertState.RESOLVED, resolved_at=now, last_seen=now)
                    )
            for name, found in firing.items():
                if name in active:
                    conn.execute(
                        update(SentinelAlert)
                        .where(SentinelAlert.id == active[name].id)
                        .values(last_seen=now, message=found.message, data=found.data)
                    )
                    continue
                conn.execute(
                    insert(SentinelAlert).values(
                        rule=found.rule,
                        h_instancia=found.h_instancia,
                        severity=found.severity,
                        state=AlertState.OPEN,
                        message=found.message,
                        data=found.data,
                        opened_at=now,
                        last_seen=now,
                        notified=False,
                    )
                )
                emit(
                    conn,
                    "alert",
                    severity=found.severity,
                    h_instancia=found.h_instancia,
                    subject=found.rule,
                    data={"message": found.message},
                    ts=now,
                )
        with self._engine.connect() as conn:
            pending = conn.execute(
                select(SentinelAlert).where(
                    SentinelAlert.state == AlertState.OPEN,
                    SentinelAlert.severity == "critical",
                    SentinelAlert.notified.is_(False),
                )
            ).all()
        for row in pending:
            if self.publish(row):
                with write_transaction(self._engine) as conn:
                    conn.execute(
                        update(SentinelAlert)
                        .where(SentinelAlert.id == row.id)
                        .values(notified=True)
                    )
        return [alert_json(row) for row in self._open()]

    def _open(self) -> list[Any]:
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    select(SentinelAlert)
                    .where(SentinelAlert.state == AlertState.OPEN)
                    .order_by(SentinelAlert.id.desc())
                ).all()
            )

    def query(
        self, h_instancia: str | None, state: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """An instance's alerts, or (`h_instancia` None) those about the whole server."""
        query = select(SentinelAlert).where(_owner(h_instancia))
        if state is not None:
            query = query.where(SentinelAlert.state == one_of(state, STATES, "state"))
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(SentinelAlert.id.desc()).limit(limit)).all()
        return [alert_json(row) for row in rows]

    def change(self, h_instancia: str | None, alert_id: int, to: str) -> dict[str, Any]:
        """Acknowledge (open -> acknowledged) or resolve (open | acknowledged -> resolved)
        an alert of the instance (`h_instancia` None: one about the whole server)."""
        now = datetime.now(UTC)
        acknowledge = to == AlertState.ACKNOWLEDGED
        allowed = (AlertState.OPEN,) if acknowledge else ACTIVE
        stamp = {"acknowledged_at": now} if acknowledge else {"resolved_at": now}
        with write_transaction(self._engine) as conn:
            row = conn.execute(
                select(SentinelAlert).where(SentinelAlert.id == alert_id, _owner(h_instancia))
            ).first()
            if row is None:
                raise NotFound(f"no alert {alert_id} here")
            if row.state not in allowed:
                raise Conflict(f"alert {alert_id} is {row.state}")
            conn.execute(
                update(SentinelAlert).where(SentinelAlert.id == alert_id).values(state=to, **stamp)
            )
            row = conn.execute(select(SentinelAlert).where(SentinelAlert.id == alert_id)).one()
        return alert_json(row)
