"""MASON: the enrichment window. An entry whose flow ended in an incident waits for a
person for `TZZR_ENRICH_WINDOW` seconds (24 h by default). The form comes filled with
what the flow's cells read (`suggested`: a receipt's total as the amount, its merchant,
date, currency and tax id), for the person to confirm or correct. An enrichment is
validated against the instance's enrichment schema, kept as append-only history with
the suggestion it was made from (so what the person corrected is known), and written as
an `enrichment` leaf; the entry then goes to FELDMAN at once. At the deadline it goes to
FELDMAN by itself, also when the server was down at that moment (swept on start)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.db.engine import write_transaction
from tzzr.db.models import Enrichment, EnrichmentVersion, Entry, Execution, Instance
from tzzr.db.rows import instance_row
from tzzr.errors import InvalidInput, NotFound
from tzzr.feldman.log import Ledger
from tzzr.instances import InstanceInfo
from tzzr.search import index as search_index
from tzzr.sentinel.events import emit
from tzzr.states import EnrichmentState, EntryState, StepStatus, values
from tzzr.times import rfc3339_or_none
from tzzr.validation import one_of, schema_error

Clock = Callable[[], datetime]
STATES = values(EnrichmentState)
DEFAULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 200, "title": "Title"},
        "category": {"type": "string", "maxLength": 100, "title": "Category"},
        "amount": {"type": "number", "title": "Amount"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "title": "Currency (ISO 4217)"},
        "date": {
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
            "title": "Date",
        },
        "merchant": {"type": "string", "maxLength": 200, "title": "Merchant"},
        "taxId": {"type": "string", "maxLength": 32, "title": "Tax id (NIF, CIF, VAT)"},
        "note": {"type": "string", "maxLength": 5000, "title": "Note"},
    },
    "additionalProperties": False,
}
# The schema's fields a cell's output names otherwise (receipt-fields reads a `total`
# and a `merchant`); every other field is read by its own name (currency, date, taxId).
READ_AS = {"amount": "total", "title": "merchant"}


def suggestions(steps: list[dict[str, Any]], schema: dict[str, Any]) -> dict[str, Any]:
    """What the flow's cells read, as values for the schema's fields: each field that
    a finished step's output gives as `{"value", "confidence"}` (READ_AS for the names
    that differ), when the value is valid for that field; a later step's over an earlier
    one's. `{field: {"value", "confidence", "step", "cell"}}`."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    from jsonschema import Draft202012Validator  # loads with the first check, not the server
    from referencing.exceptions import Unresolvable

    validator = Draft202012Validator(schema)
    found: dict[str, Any] = {}
    for step in steps:
        output = step.get("output")
        if step.get("status") != StepStatus.DONE or not isinstance(output, dict):
            continue
        for name, spec in properties.items():
            read = output.get(READ_AS.get(name, name))
            if not isinstance(read, dict) or read.get("value") is None:
                continue
            try:
                fits = validator.evolve(schema=spec).is_valid(read["value"])
            except Unresolvable:  # a field whose $ref leads nowhere: nothing to check by
                fits = False
            if fits:
                found[name] = {
                    "value": read["value"],
                    "confidence": read.get("confidence"),
                    "step": step.get("id"),
                    "cell": step.get("cell"),
                }
    return found


def corrections(fields: dict[str, Any], suggested: dict[str, Any] | None) -> dict[str, Any]:
    """The suggested values the person changed or left out: `{field: {"suggested",
    "value"}}` (value null: removed)."""
    return {
        name: {"suggested": s["value"], "value": fields.get(name)}
        for name, s in (suggested or {}).items()
        if fields.get(name) != s["value"]
    }


class Mason:
    def __init__(self, engine: Engine, ledger: Ledger, window_seconds: float, clock: Clock) -> None:
        self._engine = engine
        self._ledger = ledger
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    def open(
        self, conn: Connection, h_instancia: str, h_entrada: str, execution_id: str, reason: str
    ) -> None:
        """Inside the execution's final transaction: the entry waits for a person."""
        now = self.clock()
        found = conn.execute(
            select(Enrichment.state).where(
                Enrichment.h_instancia == h_instancia, Enrichment.h_entrada == h_entrada
            )
        ).first()
        if found is not None:  # a second execution of the same entry: a new window
            conn.execute(
                update(Enrichment)
                .where(Enrichment.h_instancia == h_instancia, Enrichment.h_entrada == h_entrada)
                .values(
                    state=EnrichmentState.PENDING,
                    execution_id=execution_id,
                    reason=reason,
                    deadline=now + self.window,
                    closed_at=None,
                )
            )
            return
        conn.execute(
            insert(Enrichment).values(
                h_instancia=h_instancia,
                h_entrada=h_entrada,
                execution_id=execution_id,
                state=EnrichmentState.PENDING,
                reason=reason,
                deadline=now + self.window,
                created_at=now,
            )
        )

    def schema(self, instance: InstanceInfo) -> dict[str, Any]:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(Instance.enrichment_schema).where(
                    Instance.h_instancia == instance.h_instancia
                )
            ).scalar_one_or_none()
        return found or DEFAULT_SCHEMA

    def set_schema(self, instance_name: str, schema: dict[str, Any] | None) -> None:
        if schema is not None:
            from tzzr.instances import check_schema

            check_schema(schema)
        with write_transaction(self._engine) as conn:
            changed = conn.execute(
                update(Instance)
                .where(Instance.name == instance_name)
                .values(enrichment_schema=schema)
            ).rowcount
        if not changed:
            raise NotFound(f"no instance {instance_name!r}")

    def _item(self, conn: Connection, instance: InstanceInfo, h_entrada: str) -> Any:
        missing = f"entry {h_entrada} is not in the enrichment window"
        return instance_row(conn, Enrichment, instance.h_instancia, missing, h_entrada=h_entrada)

    def item_json(self, row: Any) -> dict[str, Any]:
        now = self.clock()
        return {
            "h_entrada": row.h_entrada,
            "state": row.state,
            "reason": row.reason,
            "executionId": row.execution_id,
            "deadline": rfc3339_or_none(row.deadline),
            "secondsLeft": max(0, round((row.deadline - now).total_seconds()))
            if row.state == EnrichmentState.PENDING
            else 0,
            "createdAt": rfc3339_or_none(row.created_at),
            "closedAt": rfc3339_or_none(row.closed_at),
        }

    def get(self, instance: InstanceInfo, h_entrada: str, entry: dict[str, Any]) -> dict[str, Any]:
        """The entry, the cells' results, the schema to fill, the deadline, the history."""
        with self._engine.connect() as conn:
            row = self._item(conn, instance, h_entrada)
            execution = conn.execute(
                select(
                    Execution.id,
                    Execution.flow_id,
                    Execution.steps,
                    Execution.decision,
                    Execution.error,
                ).where(Execution.id == row.execution_id)
            ).first()
            history = conn.execute(
                select(EnrichmentVersion)
                .where(
                    EnrichmentVersion.h_instancia == instance.h_instancia,
                    EnrichmentVersion.h_entrada == h_entrada,
                )
                .order_by(EnrichmentVersion.id)
            ).all()
        results = {}
        if execution is not None:
            results = {
                s["id"]: s.get("output")
                for s in execution.steps
                if s.get("status") == StepStatus.DONE
            }
        schema = self.schema(instance)
        return {
            **self.item_json(row),
            "entry": entry,
            "results": results,
            "execution": {
                "executionId": execution.id,
                "flow": execution.flow_id,
                "decision": execution.decision,
                "error": execution.error,
            }
            if execution is not None
            else None,
            "schema": schema,
            "suggested": suggestions(execution.steps if execution is not None else [], schema),
            "history": [
                {
                    "version": k + 1,
                    "fields": h.fields,
                    "fieldsHash": h.fields_hash,
                    "keyId": h.key_id,
                    "at": rfc3339_or_none(h.created_at),
                    "leafIndex": h.leaf_index,
                    "suggested": h.suggested,
                    "corrections": corrections(h.fields, h.suggested),
                }
                for k, h in enumerate(history)
            ],
        }

    def enrich(
        self, instance: InstanceInfo, h_entrada: str, fields: Any, key_id: str
    ) -> dict[str, Any]:
        """Keep `fields` as the next version, with the suggestion they were made from
        (what the execution's cells read), and say which suggested values they change."""
        if not isinstance(fields, dict):
            raise InvalidInput("send the fields as a JSON object", field="fields")
        schema = self.schema(instance)
        from jsonschema import Draft202012Validator

        found = schema_error(Draft202012Validator(schema), fields, "fields")
        if found is not None:
            message, field = found
            raise InvalidInput(message, field=field)
        canonical = canonical_json(fields)
        digest = sha256_hex(canonical)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            row = self._item(conn, instance, h_entrada)
            steps = conn.execute(
                select(Execution.steps).where(Execution.id == row.execution_id)
            ).scalar_one_or_none()
            suggested = suggestions(steps or [], schema) or None
            changed = corrections(fields, suggested)
            leaf = self._ledger.append_in(
                conn, instance.h_instancia, "enrichment", h_entrada, digest, now
            )
            conn.execute(
                insert(EnrichmentVersion).values(
                    h_instancia=instance.h_instancia,
                    h_entrada=h_entrada,
                    fields=fields,
                    fields_hash=digest,
                    key_id=key_id,
                    created_at=now,
                    leaf_index=leaf,
                    suggested=suggested,
                )
            )
            emit(
                conn,
                "enrichment",
                h_instancia=instance.h_instancia,
                subject=h_entrada,
                data={
                    "fieldsHash": digest,
                    "leafIndex": leaf,
                    "keyId": key_id,
                    "corrected": sorted(changed),
                },
                ts=now,
            )
            search_index.refresh(conn, instance.h_instancia, h_entrada)
            if row.state == EnrichmentState.PENDING:  # enriched: to FELDMAN at once
                conn.execute(
                    update(Enrichment)
                    .where(
                        Enrichment.h_instancia == instance.h_instancia,
                        Enrichment.h_entrada == h_entrada,
                    )
                    .values(state=EnrichmentState.ENRICHED, closed_at=now)
                )
                self._consolidate(conn, instance.h_instancia, h_entrada)
            row = self._item(conn, instance, h_entrada)
        return {
            **self.item_json(row),
            "fieldsHash": digest,
            "leafIndex": leaf,
            "corrections": changed,
        }

    @staticmethod
    def _consolidate(conn: Connection, h_instancia: str, h_entrada: str) -> None:
        conn.execute(
            update(Entry)
            .where(Entry.h_instancia == h_instancia, Entry.h_entrada == h_entrada)
            .values(state=EntryState.CONSOLIDATED)
        )

    def list(
        self, instance: InstanceInfo, state: str | None, limit: int = 100
    ) -> list[dict[str, Any]]:
        query = select(Enrichment).where(Enrichment.h_instancia == instance.h_instancia)
        if state is not None:
            query = query.where(Enrichment.state == one_of(state, STATES, "state"))
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(Enrichment.deadline).limit(limit)).all()
        return [self.item_json(row) for row in rows]

    def sweep(self) -> int:
        """Items past their deadline go to FELDMAN as they are; how many."""
        now = self.clock()
        with write_transaction(self._engine) as conn:
            due = conn.execute(
                select(Enrichment.h_instancia, Enrichment.h_entrada).where(
                    Enrichment.state == EnrichmentState.PENDING, Enrichment.deadline <= now
                )
            ).all()
            for item in due:
                conn.execute(
                    update(Enrichment)
                    .where(
                        Enrichment.h_instancia == item.h_instancia,
                        Enrichment.h_entrada == item.h_entrada,
                        Enrichment.state == EnrichmentState.PENDING,
                    )
                    .values(state=EnrichmentState.EXPIRED, closed_at=now)
                )
                self._consolidate(conn, item.h_instancia, item.h_entrada)
                emit(
                    conn,
                    "enrichment",
                    h_instancia=item.h_instancia,
                    subject=item.h_entrada,
                    data={"state": EnrichmentState.EXPIRED},
                    ts=now,
                )
        return len(due)
