"""Specialisation as refinement: rounds in THE FACTORY that propose parameter sets for a
cell (the language model when one is configured, else Optuna over the cell's numeric
parameters), measure each against the cell's `testCases` and the constraints, and
publish the best that meets them as the new version, with the rounds as its record.

Round 1 measures the request's own parameters; each later round proposes a set from
what the rounds before measured (the critique: which constraints and cases failed). A
cell with no test cases cannot be measured: its one round says so, and the request's
parameters are published as they are (the old behaviour)."""

import logging
from datetime import datetime
from typing import Any

import optuna

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.cells.catalog import Catalog
from tzzr.cells.specialize import SpecializeBody, base_of, candidate, measure, publish
from tzzr.factory import space as spaces
from tzzr.factory.drafts import DETERMINISTIC
from tzzr.factory.llm import ChatModel
from tzzr.factory.rounds import Made, Rounds
from tzzr.jobs import Turn

optuna.logging.set_verbosity(optuna.logging.WARNING)
log = logging.getLogger("tzzr.factory")
OPTUNA = "optuna (TPE, seed 0)"
SEED = 0
FAILED_CASE = 1000.0  # the objective: failed cases first, then constraint excess, then ms
EXCESS = 100.0

PROPOSAL_SCHEMA_NAME = "parameter_set"


def objective(measured: dict[str, Any]) -> float:
    """Lower is better: failed test cases, then how far constraints are exceeded, then
    the slowest case's milliseconds."""
    failed = sum(1 for r in measured["testCases"] if not r["ok"])
    excess = 0.0
    for check in measured["constraints"]:
        if check["holds"] is False and check["measured"] is not None and check["limit"] > 0:
            excess += max(0.0, check["measured"] / check["limit"] - 1.0)
        elif check["holds"] is False:
            excess += 1.0
    slowest = max((r.get("latencyMs") or 0.0 for r in measured["testCases"]), default=0.0)
    return failed * FAILED_CASE + excess * EXCESS + slowest / 1000.0


def critique_of(measured: dict[str, Any]) -> list[dict[str, str]]:
    notes = [
        {"item": c["name"], "issue": f"{c['measured']} is over the limit {c['limit']}"}
        for c in measured["constraints"]
        if c["holds"] is False
    ]
    notes += [
        {"item": str(r["name"]), "issue": r.get("error") or f"missing {r.get('missing')}"}
        for r in measured["testCases"]
        if not r["ok"]
    ]
    return notes


def _proposal_schema(space: spaces.Distributions) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            props[name] = {"enum": list(dist.choices)}
        elif isinstance(dist, optuna.distributions.IntDistribution):
            props[name] = {"type": "integer", "minimum": dist.low, "maximum": dist.high}
        elif isinstance(dist, optuna.distributions.FloatDistribution):
            props[name] = {"type": "number", "minimum": dist.low, "maximum": dist.high}
    return {
        "type": "object",
        "properties": {
            "params": {
                "type": "object",
                "properties": props,
                "required": list(props),
                "additionalProperties": False,
            },
            "reason": {"type": "string", "maxLength": 300},
        },
        "required": ["params", "reason"],
        "additionalProperties": False,
    }


class Tuner:
    def __init__(self, catalog: Catalog, rounds: Rounds, model: ChatModel | None) -> None:
        self._catalog = catalog
        self._rounds = rounds
        self._model = model

    def run(self, turn: Turn, now: datetime) -> dict[str, Any]:
        request = turn.request
        h_instancia = request["instance"]
        body = SpecializeBody.model_validate(request["body"])
        cell_id = request["cellId"]
        version = request["version"]
        newest = base_of(self._catalog, h_instancia, cell_id)
        base_defaults = dict(getattr(newest, "defaults", {}) or {})
        space = (
            spaces.from_request(body.space)
            if body.space
            else spaces.from_descriptors(newest.meta.input_format.get("params"))
        )
        space = {k: v for k, v in space.items() if k not in body.params or body.space}
        cases = list(newest.meta.test_cases)
        total = body.rounds or (3 if space and cases else 1)
        if not cases:
            total = 1
        done = self._rounds.load(turn.job_id)
        study = self._study(space, done)
        for number in range(len(done) + 1, total + 1):
            turn.progress(number - 1, total, f"round {number} of {total}: measuring")
            proposed, made, note = self._propose(number, body, space, done, study)
            defaults = {**base_defaults, **body.params, **proposed}
            cell = candidate(newest, version, body.prompt, defaults)
            measured = measure(cell, body.constraints)
            previous = done[-1]["draft"]["params"] if done else base_defaults
            diff = {k: [previous.get(k), v] for k, v in defaults.items() if previous.get(k) != v}
            draft = {
                "params": defaults,
                **measured,
                "objective": objective(measured) if cases else None,
                "note": note,
            }
            critique = critique_of(done[-1]["draft"]) if done else []
            made.output_hash = sha256_hex(canonical_json(draft))
            done.append(
                self._rounds.record(
                    turn, h_instancia, number, draft, critique, {"params": diff}, made, now
                )
            )
            done[-1]["draft"] = draft
            if study is not None and space:
                study.add_trial(
                    optuna.trial.create_trial(
                        params={k: defaults[k] for k in space if k in defaults},
                        distributions={k: v for k, v in space.items() if k in defaults},
                        value=draft["objective"] or 0.0,
                    )
                )
        turn.progress(total, total, "choosing the best round")
        return self._finish(h_instancia, newest, version, body, done, cases)

    def _study(self, space: spaces.Distributions, done: list[dict[str, Any]]) -> Any:
        if not space:
            return None
        study = optuna.create_study(
            direction="minimize", sampler=optuna.samplers.TPESampler(seed=SEED)
        )
        for previous in done:  # a resumed job: the rounds it measured, told to Optuna again
            params = previous["draft"]["params"]
            if all(k in params for k in space) and spaces.contains(space, params) is None:
                study.add_trial(
                    optuna.trial.create_trial(
                        params={k: params[k] for k in space},
                        distributions=space,
                        value=previous["draft"]["objective"] or 0.0,
                    )
                )
        return study

    def _propose(
        self,
        number: int,
        body: SpecializeBody,
        space: spaces.Distributions,
        done: list[dict[str, Any]],
        study: Any,
    ) -> tuple[dict[str, Any], Made, str]:
        request_hash = sha256_hex(canonical_json(body.model_dump()))
        if number == 1 or not space:
            made = Made(DETERMINISTIC, request_hash, "", {"proposer": "the request's params"})
            return {}, made, "the request's own parameters"
        if self._model is not None:
            history = [
                {
                    "params": r["draft"]["params"],
                    "objective": r["draft"]["objective"],
                    "constraints": r["draft"]["constraints"],
                }
                for r in done
            ]
            answer = self._model.ask(
                "You tune the parameters of a processing cell. Propose one parameter set "
                "that meets the constraints and passes the test cases; lower objective is "
                "better.",
                canonical_json(
                    {
                        "goal": body.prompt,
                        "constraints": body.constraints,
                        "space": spaces.describe(space),
                        "measured": history,
                    }
                ).decode(),
                _proposal_schema(space),
                PROPOSAL_SCHEMA_NAME,
            )
            params = answer.data["params"]
            problem = spaces.contains(space, params)
            if problem is None:
                made = Made(
                    answer.model,
                    answer.prompt_hash,
                    "",
                    {**answer.parameters, "repaired": answer.repaired},
                )
                return {k: params[k] for k in space}, made, str(answer.data.get("reason", ""))
            log.warning("the model proposed parameters out of range (%s); Optuna instead", problem)
        trial = study.ask(space)
        made = Made(
            OPTUNA, request_hash, "", {"sampler": "TPESampler", "seed": SEED, "trial": trial.number}
        )
        study.tell(trial, state=optuna.trial.TrialState.FAIL)  # told again with its value
        return dict(trial.params), made, "proposed by Optuna from the rounds before"

    def _finish(
        self,
        h_instancia: str,
        newest: Any,
        version: str,
        body: SpecializeBody,
        done: list[dict[str, Any]],
        cases: list[Any],
    ) -> dict[str, Any]:
        rounds = [
            {
                "number": r["number"],
                "params": r["draft"]["params"],
                "objective": r["draft"]["objective"],
                "meets": r["draft"]["meets"],
                "leafIndex": r["leafIndex"],
            }
            for r in done
        ]
        if cases:
            meeting = [r for r in done if r["draft"]["meets"]]
            best = (
                min(meeting, key=lambda r: (r["draft"]["objective"], r["number"]))
                if meeting
                else None
            )
        else:
            best = done[0]
        base = {
            "cellId": newest.meta.id,
            "from": newest.meta.version,
            "rounds": rounds,
            "planner": (self._model.model if self._model else OPTUNA)
            if len(done) > 1
            else "none: one round of the request's own parameters",
        }
        if best is None:
            closest = min(done, key=lambda r: (r["draft"]["objective"], r["number"]))
            return {
                **base,
                "version": None,
                "published": False,
                "defaults": closest["draft"]["params"],
                "testCases": closest["draft"]["testCases"],
                "constraints": closest["draft"]["constraints"],
                "allHold": False,
                "note": f"no round met the constraints in {len(done)} round(s): nothing was "
                "published; the closest is shown. Loosen the constraints or ask for more "
                "rounds",
            }
        draft = best["draft"]
        publish(
            self._catalog, h_instancia, candidate(newest, version, body.prompt, draft["params"])
        )
        return {
            **base,
            "version": version,
            "published": True,
            "best": best["number"],
            "defaults": draft["params"],
            "testCases": draft["testCases"],
            "constraints": draft["constraints"],
            "allHold": draft["allHold"],
            "note": (
                f"round {best['number']} is the best that meets the constraints"
                if cases
                else f"{newest.meta.id} has no testCases: nothing was measured, and the "
                "request's parameters were published as they are"
            ),
        }
