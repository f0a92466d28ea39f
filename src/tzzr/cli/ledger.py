"""Ledger commands: `tzzr seal`, `receipt`, `verify`, `audit`, `ledger rotate-key|publish`.

`verify` imports only the pure ledger (no database code), so it starts in milliseconds."""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tzzr.cli.console import build_services, err, fail
from tzzr.cli.params import App
from tzzr.errors import TzzrError

if TYPE_CHECKING:
    from tzzr.instances import InstanceInfo
    from tzzr.services import Services

ledger_app = App(help="Ledger administration.")
OnlyInstance = Annotated[str | None, typer.Option(metavar="NAME", help="Only this instance.")]


def _targets(services: "Services", instance: str | None) -> list["InstanceInfo"]:
    try:
        return [services.instances.get(instance)] if instance else services.instances.list()
    except TzzrError as exc:
        raise fail(exc.message, 2) from exc


def seal(
    instance: OnlyInstance = None,
) -> None:
    """Seal pending leaves into a new signed block (every instance unless --instance)."""
    services = build_services()
    targets = _targets(services, instance)
    for target in targets:
        block = services.ledger.seal(target)
        if block is None:
            err.print(f"{target.name}: nothing to seal")
        else:
            print(
                f"{target.name}\tblock {block.number}\t{block.last_index - block.first_index + 1}"
                f" leaves\ttree size {block.tree_size}\t{block.tree_root}"
            )


def receipt(
    h_entrada: str,
    out: Annotated[Path, typer.Option("--out", help="Where to write the receipt (JSON).")],
    instance: Annotated[str, typer.Option(metavar="NAME", help="The entry's instance.")] = "deck",
    tree_size: Annotated[int | None, typer.Option(help="Prove against this sealed size.")] = None,
) -> None:
    """Write a self-contained receipt for an entry; `tzzr verify` checks it offline."""
    from tzzr.feldman.receipts import build

    services = build_services()
    try:
        info = services.instances.get(instance)
        entry = services.entries.get(info, h_entrada)
        document = build(services.ledger, entry, info, tree_size)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    out.write_text(json.dumps(document, indent=2) + "\n")
    err.print(
        f"receipt for {h_entrada}: leaf {document['leaf_index']} of "
        f"{document['tree_size']}, written to {out}"
    )


def verify(
    receipt_file: Annotated[Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False)],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Also check that these bytes belong to the entry.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="The log's verifier key (name+id+base64), or a file holding it."),
    ] = None,
) -> None:
    """Verify a receipt offline: no server, no database. Exit 0 valid, 1 not."""
    from tzzr.ledger.receipt import ReceiptError, file_digest
    from tzzr.ledger.receipt import verify as check

    try:
        document = json.loads(receipt_file.read_text())
    except ValueError as exc:
        raise fail(f"{receipt_file} is not JSON: {exc}") from exc
    keys = None
    if key is not None:
        keys = [Path(key).read_text().strip() if Path(key).is_file() else key]
    try:
        result = check(
            document, file_sha256=file_digest(str(file)) if file else None, trusted_keys=keys
        )
    except ReceiptError as exc:
        raise fail(f"INVALID: {exc}") from exc
    print(
        f"VALID: entry {result.h_entrada} is leaf {result.leaf_index} of {result.tree_size} "
        f"in log {result.origin}" + (f" (block {result.block})" if result.block else "")
    )
    print(f"recorded at {result.timestamp}; checkpoint signed by {result.signed_by}")
    if result.device:
        print(
            f"captured on device {result.device.name!r} ({result.device.alg}, key "
            f"{result.device.key_id}): its signature over the address is sealed and valid"
        )
    if result.file_matched:
        print(f"file {file} is {result.file_matched!r} of this entry")
    if not result.pinned_key:  # plain print: a valid receipt's answer needs no Rich
        print(
            "note: the signature was checked against the key inside the receipt; "
            "pass --key (GET /ledger/key) to pin the log's key",
            file=sys.stderr,
        )


def audit(
    instance: OnlyInstance = None,
    blobs: Annotated[bool, typer.Option(help="Re-hash every blob (slow on big stores).")] = True,
) -> None:
    """Recompute everything from stored entries and blobs; exit 1 on any discrepancy."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tzzr.feldman.audit import audit as run
    from tzzr.sentinel.events import emit_now

    services = build_services()
    targets = _targets(services, instance)
    problems = 0
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err.console,
        disable=not err.is_terminal,
    )
    with progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = int(progress.add_task(stage, total=total))
            progress.update(tasks[stage], completed=done)  # type: ignore[arg-type]

        for target in targets:
            tasks.clear()
            findings = run(
                services.engine,
                services.ledger.keys,
                services.blobs,
                target,
                blobs=blobs,
                progress=report,
            )
            emit_now(
                services.engine,
                "audit_result",
                severity="info" if not findings else "critical",
                h_instancia=target.h_instancia,
                data={
                    "problems": len(findings),
                    "blobs": blobs,
                    "first": str(findings[0]) if findings else None,
                },
            )
            for finding in findings:
                print(f"{target.name}\t{finding}")
            problems += len(findings)
            err.print(
                f"{target.name}: {'clean' if not findings else f'{len(findings)} problem(s)'}"
            )
    if problems:
        raise typer.Exit(1)


@ledger_app.command("rotate-key")
def rotate_key(
    instance: Annotated[str, typer.Option(metavar="NAME", help="The instance.")],
) -> None:
    """Start a new checkpoint signing key; old public keys stay for old checkpoints."""
    services = build_services()
    try:
        kid = services.ledger.keys.rotate(services.instances.get(instance))
    except TzzrError as exc:
        raise fail(exc.message) from exc
    print(kid)


@ledger_app.command("publish")
def publish(
    instance: OnlyInstance = None,
) -> None:
    """Publish the whole log as static C2SP tlog-tiles into the blob store."""
    services = build_services()
    for target in _targets(services, instance):
        count = services.ledger.publish(target, services.blobs)
        err.print(f"{target.name}: {count} file(s) under {target.blob_prefix}/tlog/")


def register(app: App) -> None:
    for command in (seal, receipt, verify, audit):
        app.command()(command)
    app.add_typer(ledger_app, name="ledger")
