"""Rounds of THE FACTORY, stored as they finish: each one in its own transaction with its
`attestation` ledger leaf (which model or planner made it, the prompt's hash, the
parameters, the output's hash), and only while the job's attempt still holds its lease,
so that a job resumed after its server stopped goes on from its last round and never
writes one twice."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.db.engine import write_transaction
from tzzr.db.models_factory import FactoryRound
from tzzr.feldman.log import Ledger
from tzzr.jobs import Turn
from tzzr.times import rfc3339

MAX_MODEL = 200  # FactoryRound.model's length


class LeaseLost(Exception):
    """Another attempt has the job now: this one stops without writing."""


@dataclass
class Made:
    """What made a round: the model (or "deterministic planner") and its calls."""

    model: str
    prompt_hash: str
    output_hash: str
    parameters: dict[str, Any] = field(default_factory=dict)


def combined(hashes: list[str]) -> str:
    """One hash over a round's several calls (in order)."""
    return hashes[0] if len(hashes) == 1 else sha256_hex(canonical_json(hashes))


def record_of(job_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    """What a round's leaf seals: its hash is sha256 of this record's canonical JSON."""
    return {
        "job": job_id,
        "round": stored["number"],
        "draft": stored["draft"],
        "critique": stored["critique"],
        "diff": stored["diff"],
        "model": stored["model"],
        "promptHash": stored["promptHash"],
        "outputHash": stored["outputHash"],
        "parameters": stored["parameters"],
    }


def round_json(row: Any) -> dict[str, Any]:
    return {
        "number": row.number,
        "draft": row.draft,
        "critique": row.critique,
        "diff": row.diff,
        "model": row.model,
        "promptHash": row.prompt_hash,
        "outputHash": row.output_hash,
        "parameters": row.parameters,
        "leafIndex": row.leaf_index,
        "createdAt": rfc3339(row.created_at),
    }


class Rounds:
    def __init__(self, engine: Engine, ledger: Ledger) -> None:
        self._engine = engine
        self._ledger = ledger

    def load(self, job_id: str) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(FactoryRound)
                .where(FactoryRound.job_id == job_id)
                .order_by(FactoryRound.number)
            ).all()
        return [round_json(row) for row in found]

    def record(
        self,
        turn: Turn,
        h_instancia: str,
        number: int,
        draft: dict[str, Any],
        critique: list[Any],
        diff: dict[str, Any],
        made: Made,
        now: datetime,
    ) -> dict[str, Any]:
        # The column holds 200 characters: the record (and so the leaf's hash) names the
        # model as it is stored, or the round's receipt would not verify.
        model = made.model[:MAX_MODEL]
        record = record_of(
            turn.job_id,
            {
                "number": number,
                "draft": draft,
                "critique": critique,
                "diff": diff,
                "model": model,
                "promptHash": made.prompt_hash,
                "outputHash": made.output_hash,
                "parameters": made.parameters,
            },
        )
        digest = sha256_hex(canonical_json(record))
        extra = {
            "factory": turn.job_id,
            "round": number,
            "model": model,
            "promptHash": made.prompt_hash,
            "outputHash": made.output_hash,
            "parameters": canonical_json(made.parameters).decode(),
        }
        with write_transaction(self._engine) as conn:
            if not turn.held(conn):
                raise LeaseLost(turn.job_id)
            leaf = self._ledger.append_in(
                conn,
                h_instancia,
                "attestation",
                f"factory/{turn.job_id}/{number}",
                digest,
                now,
                extra,
            )
            conn.execute(
                insert(FactoryRound).values(
                    job_id=turn.job_id,
                    number=number,
                    h_instancia=h_instancia,
                    draft=draft,
                    critique=critique,
                    diff=diff,
                    model=model,
                    prompt_hash=made.prompt_hash,
                    output_hash=made.output_hash,
                    parameters=made.parameters,
                    leaf_index=leaf,
                    created_at=now,
                )
            )
        saved = {k: v for k, v in record.items() if k not in ("job", "round")}
        return {"number": number, **saved, "leafIndex": leaf, "createdAt": rfc3339(now)}
