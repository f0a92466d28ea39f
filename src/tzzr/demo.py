"""`tzzr demo`: the whole pipeline on a fresh data directory, step by step — capture the
bundled samples, run their flows, enrich the item that needs a person, seal a block,
write a receipt and verify it offline."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tzzr import samples
from tzzr.config import Settings
from tzzr.feldman.receipts import build as build_receipt
from tzzr.ingest.service import FileRef
from tzzr.ledger.receipt import file_digest
from tzzr.ledger.receipt import verify as verify_receipt
from tzzr.services import DEFAULT_INSTANCE, Services
from tzzr.states import StepStatus

CAPTURES = [
    ("receipt.png", "image/png", {"note": "lunch receipt", "lang": "es", "source": "demo"}),
    ("todo.png", "image/png", {"note": "whiteboard photo", "lang": "en", "source": "demo"}),
    ("note.wav", "audio/wav", {"note": "voice memo", "lang": "en", "source": "demo"}),
]
Say = Callable[[str], None]


def _capture(services: Services, name: str, media: str, metadata: dict[str, Any]) -> Any:
    instance = services.instances.get(DEFAULT_INSTANCE)
    store = services.ingest.store_for(instance)
    data = samples.read(name)
    blob = store.put(data)
    return services.ingest.record(instance, metadata, [FileRef(name, media, blob)])


def _summary(step: dict[str, Any]) -> str:
    output = step.get("output") or {}
    text = output.get("text")
    if isinstance(text, str):
        first = " / ".join(line for line in text.splitlines() if line.strip())[:70]
        return f"“{first}”"
    if "total" in output and "merchant" in output:  # a receipt's fields
        read = [
            f"{name} {output[name]['value']}"
            for name in ("total", "currency", "date", "merchant")
            if output.get(name)
        ]
        return ", ".join(read) or "no total, date or merchant"
    return json.dumps(output)[:70]


def run(home: Path, say: Say) -> Path:
    """Run the demo in `home` (which must be empty); returns the receipt's path."""
    if home.exists() and any(home.iterdir()):
        raise FileExistsError(f"{home} is not empty: the demo needs a fresh data directory")
    settings = Settings(home=home, block_interval=0)
    services = Services.build(settings)
    try:
        key = services.bootstrap(default_flows=True)
        installed = len(services.flows.live(services.instances.get(DEFAULT_INSTANCE).h_instancia))
        say(f"1. data directory {home}: instance {DEFAULT_INSTANCE!r}, {installed} flows")
        say(f"   admin key (for `tzzr serve` on this directory): {key}")
        entries = []
        for name, media, metadata in CAPTURES:
            result = _capture(services, name, media, metadata)
            entries.append((name, result))
            say(f"2. captured {name:12} h_entrada {result.h_entrada[:16]}…  state {result.state}")
        instance = services.instances.get(DEFAULT_INSTANCE)
        incidents = []
        for name, result in entries:
            found = services.alfred.list(instance, h_entrada=result.h_entrada)
            if not found:
                say(f"3. {name}: no flow with steps; consolidated as it came")
                continue
            execution_id = found[0].id
            services.alfred.advance(execution_id, "demo")
            execution = services.alfred.get(instance, execution_id)
            for step in execution.steps:
                took = f"{step.get('ms') or 0:.0f} ms"
                if step["status"] == StepStatus.DONE:
                    where = f"{execution.flow_id}/{step['id']} ({step['cell']}, {took})"
                    say(f"3. {name}: {where} {_summary(step)}")
                else:
                    message = (step.get("error") or {}).get("message", "")
                    say(f"3. {name}: {execution.flow_id}/{step['id']} FAILED: {message}")
            outcome = "OK → FELDMAN" if execution.outcome == "ok" else "incident → MASON"
            say(f"   decision: {outcome}")
            if execution.outcome != "ok":
                incidents.append((name, result.h_entrada))
        for name, h in incidents:
            fields = {"title": f"Demo: {name}", "category": "demo", "note": "enriched by tzzr demo"}
            enriched = services.mason.enrich(instance, h, fields, "demo")
            say(f"4. enriched {name} in MASON (leaf {enriched['leafIndex']}): {enriched['state']}")
        block = services.ledger.seal(instance)
        assert block is not None
        say(
            f"5. sealed block {block.number}: {block.last_index - block.first_index + 1} leaves, "
            f"tree size {block.tree_size}, root {block.tree_root[:16]}…"
        )
        name, receipt_entry = entries[0]
        entry = services.entries.get(instance, receipt_entry.h_entrada)
        document = build_receipt(services.ledger, entry, instance)
        out = home / "receipt.json"
        out.write_text(json.dumps(document, indent=2) + "\n")
        say(f"6. receipt for {name} written to {out}")
        sample = home / name
        sample.write_bytes(samples.read(name))
        keys = [k.verifier_key for k in services.ledger.keys.public_keys(instance)]
        verified = verify_receipt(document, file_sha256=file_digest(str(sample)), trusted_keys=keys)
        say(
            f"7. VALID (offline): leaf {verified.leaf_index} of {verified.tree_size}, "
            f"block {verified.block}, signed by {verified.signed_by}; {name} is "
            f"{verified.file_matched!r} of the entry"
        )
        found = services.search.search(instance, "panaderia")["results"]
        names = {r.h_entrada: n for n, r in entries}
        hits = ", ".join(
            f"{names.get(r['h_entrada'], r['h_entrada'][:12])} ({r['title']}"
            + (f", total {r['total']:.2f} {r['currency'] or ''}".rstrip() if r["total"] else "")
            + ")"
            for r in found
        )
        say(f"8. search 'panaderia' (no accent): {hits or 'nothing'}")
        return out
    finally:
        services.close()
