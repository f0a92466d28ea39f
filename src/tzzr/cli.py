"""The `tzzr` command. Thin: every command builds the same Services as the server."""

import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from tzzr.config import Settings
from tzzr.console import build_services, err, fail, out
from tzzr.errors import Duplicate, TzzrError
from tzzr.flows import commands as flows_commands
from tzzr.ledger import commands as ledger_commands
from tzzr.services import DEFAULT_INSTANCE, Services

app = typer.Typer(
    help="TZZR: capture, process, enrich and seal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
instances_app = typer.Typer(help="Instances (deck, corp, …).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(instances_app, name="instances")
app.add_typer(keys_app, name="keys")
ledger_commands.register(app)
flows_commands.register(app)
grace_app = typer.Typer(help="GRACE alone (for a GPU box).", no_args_is_help=True)
app.add_typer(grace_app, name="grace")


@app.callback()
def _root(
    home: Annotated[
        Path | None, typer.Option(help="Data directory (TZZR_HOME).", show_default=False)
    ] = None,
) -> None:
    if home is not None:
        os.environ["TZZR_HOME"] = str(home)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (TZZR_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TZZR_PORT).")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
    worker: Annotated[
        bool | None,
        typer.Option(help="Run an embedded worker for cell runs (TZZR_EMBEDDED_WORKER)."),
    ] = None,
) -> None:
    """Run the HTTP server (and an embedded worker); on first start, create the `deck`
    instance and a key."""
    import uvicorn

    from tzzr.app import create_app

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = Settings(**overrides)
    services = Services.build(settings, long_running=True)
    key = services.bootstrap(default_flows=True)
    url = settings.public_url
    err.print(f"[bold]TZZR[/bold] data in {settings.home}")
    err.print(f"Listening on [bold]{url}[/bold]")
    if key is not None:
        err.print(
            f"Created instance [bold]{DEFAULT_INSTANCE}[/bold] and an admin API key "
            "(shown once, keep it):"
        )
        print(key, flush=True)
        err.print(
            'Try: curl -H "Authorization: Bearer $KEY" -F metadata=\'{"note":"hi"}\' '
            f"-F file=@README.md {url}/ingest  (KEY: the key above)",
            soft_wrap=True,
        )
    else:
        err.print(f"New key: tzzr keys create --instance {DEFAULT_INSTANCE} --role admin")
    embedded = None
    if settings.embedded_worker if worker is None else worker:
        import subprocess

        # Its own process group member, stopped with the server: cells never share
        # the server's memory or its event loop.
        embedded = subprocess.Popen(
            [sys.executable, "-m", "tzzr", "worker", "--parent-pid", str(os.getpid())]
        )
        err.print(
            f"Embedded worker: {settings.worker_concurrency} process(es), "
            f"queue {services.queue.describe()}",
            soft_wrap=True,
        )
    try:
        from tzzr.sentinel.logs import log_config

        uvicorn.run(
            create_app(services),
            host=settings.host,
            port=settings.port,
            access_log=access_log,
            log_level="info",
            log_config=log_config(settings.log_format),
            timeout_graceful_shutdown=10,
        )
    finally:
        if embedded is not None:
            embedded.terminate()
            try:
                embedded.wait(15)
            except Exception:
                embedded.kill()


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues to take runs from (cpu, gpu).")
    ] = "cpu,gpu",
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes (TZZR_WORKER_CONCURRENCY)."),
    ] = None,
    parent_pid: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Execute cell runs from the queue until stopped (SIGTERM / Ctrl-C)."""
    import logging

    from tzzr.runs.queue import QUEUES
    from tzzr.runs.worker import WorkerPool

    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUEUES]
    if not names or unknown:
        raise fail(f"unknown queue(s) {', '.join(unknown) or '(none)'}; queues: cpu, gpu", 2)
    settings = Settings()
    count = concurrency or settings.worker_concurrency
    import logging.config

    from tzzr.sentinel.logs import log_config

    logging.config.dictConfig(log_config(settings.log_format))
    Services.build(settings).close()  # migrate and check the configuration first
    pool = WorkerPool(settings, names, count, parent_pid)
    err.print(f"Worker {pool.name}: {count} process(es) on {', '.join(names)}")
    pool.run()


@instances_app.command("add")
def instances_add(
    name: str,
    fields_schema: Annotated[
        Path | None,
        typer.Option(
            help="JSON Schema of extra required metadata fields (e.g. company fields for corp).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Create an instance (with its own copy of the shipped flows)."""
    schema = None
    if fields_schema is not None:
        try:
            schema = json.loads(fields_schema.read_text())
        except ValueError as exc:
            raise fail(f"{fields_schema} is not valid JSON: {exc}") from exc
    try:
        info = build_services().add_instance(name, schema)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    out.print(f"{info.name}\t{info.h_instancia}")


@instances_app.command("enrichment-schema")
def instances_enrichment_schema(
    name: str,
    schema: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, help="A JSON Schema file; none: the default."),
    ] = None,
) -> None:
    """Set the JSON Schema of the fields people add in MASON's enrichment window."""
    document = None
    if schema is not None:
        try:
            document = json.loads(schema.read_text())
        except ValueError as exc:
            raise fail(f"{schema} is not valid JSON: {exc}") from exc
    try:
        build_services().mason.set_schema(name, document)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    out.print(f"{name}: enrichment schema {'set' if document else 'reset to the default'}")


@instances_app.command("list")
def instances_list() -> None:
    """List instances."""
    table = Table("name", "h_instancia", "blob prefix", "fields schema", "created")
    for info in build_services().instances.list():
        table.add_row(
            info.name,
            info.h_instancia,
            info.blob_prefix,
            "yes" if info.fields_schema else "no",
            info.created_at.isoformat(),
        )
    out.print(table)


@keys_app.command("create")
def keys_create(
    instance: Annotated[
        str | None, typer.Option(metavar="NAME", help="The instance the key belongs to.")
    ] = None,
    role: Annotated[str, typer.Option(metavar="ROLE", help="ingest, read or admin.")] = "ingest",
    operator: Annotated[
        bool,
        typer.Option(
            "--operator",
            help="An operator key: the server's own tasks (no instance's data). "
            "Only this command makes one.",
        ),
    ] = False,
) -> None:
    """Create a key; prints only the key (shown once) on stdout."""
    if operator == (instance is not None):
        raise fail("give --instance NAME (with --role), or --operator", 2)
    try:
        keys = build_services().keys
        if operator:
            key, key_id = keys.create_operator()
        else:
            assert instance is not None
            key, key_id = keys.create(instance, role)  # type: ignore[arg-type]
    except TzzrError as exc:
        raise fail(exc.message) from exc
    owner = "the server (operator)" if operator else f"instance {instance} ({role})"
    err.print(f"key id {key_id} for {owner}; the key is shown once:")
    print(key)


@keys_app.command("list")
def keys_list(instance: Annotated[str | None, typer.Option()] = None) -> None:
    """List keys (ids only: keys themselves are never stored)."""
    table = Table("key id", "instance", "role", "created", "revoked")
    for info in build_services().keys.list(instance):
        table.add_row(
            info.key_id,
            info.instance or "-",
            info.role,
            info.created_at.isoformat(),
            info.revoked_at.isoformat() if info.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key at once."""
    try:
        build_services().keys.revoke(key_id)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    err.print(f"revoked {key_id}")


def _parse_meta(pairs: list[str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"--meta takes key=value, got {pair!r}", 2)
        metadata[key] = value
    return metadata


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise fail(f"{path}: no such file or directory", 2)
    return files


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories.")],
    meta: Annotated[list[str] | None, typer.Option("--meta", help="key=value metadata.")] = None,
    together: Annotated[
        bool, typer.Option(help="One container with every file, instead of one per file.")
    ] = False,
    url: Annotated[str | None, typer.Option(envvar="TZZR_URL", help="Server to send to.")] = None,
    key: Annotated[str | None, typer.Option(envvar="TZZR_KEY", help="API key for --url.")] = None,
    instance: Annotated[
        str, typer.Option(help="Instance, when writing locally (no --url).")
    ] = DEFAULT_INSTANCE,
) -> None:
    """Ingest files: through a server with --url, or straight into TZZR_HOME."""
    metadata = _parse_meta(meta or [])
    files = _expand(paths)
    groups = [files] if together else [[f] for f in files]
    total = sum(f.stat().st_size for f in files)
    failures = 0
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(f"ingesting {len(files)} file(s)", total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        if url is not None:
            failures = _ingest_http(url, key, groups, metadata, advance)
        else:
            failures = _ingest_local(instance, groups, metadata, advance)
    if failures:
        raise typer.Exit(1)


def _report(status: str, h_entrada: str, group: list[Path]) -> None:
    print(f"{status}\t{h_entrada}\t{' '.join(str(p) for p in group)}", flush=True)


def _ingest_http(
    url: str,
    key: str | None,
    groups: list[list[Path]],
    metadata: dict[str, Any],
    advance: Any,
) -> int:
    import httpx

    from tzzr.client import IngestError, upload

    if not key:
        raise fail("--url needs --key (or TZZR_KEY)", 2)
    failures = 0
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=httpx.Timeout(60, read=600)) as c:
        for group in groups:
            try:
                status, body = upload(c, group, metadata, advance)
            except (IngestError, httpx.HTTPError) as exc:
                failures += 1
                err.print(f"[red]failed[/red] {' '.join(map(str, group))}: {exc}")
                continue
            _report("new" if status == 200 else "duplicate", body["h_entrada"], group)
    return failures


def _ingest_local(
    instance_name: str, groups: list[list[Path]], metadata: dict[str, Any], advance: Any
) -> int:
    services = build_services()
    try:
        instance = services.instances.get(instance_name)
    except TzzrError as exc:
        raise fail(exc.message, 2) from exc
    failures = 0
    for group in groups:
        try:
            with services.ingest.builder(instance) as builder:
                builder.set_metadata(metadata)
                for path in group:
                    writer = builder.new_file(path.name, None)
                    with path.open("rb") as handle:
                        while chunk := handle.read(1024 * 1024):
                            builder.count(len(chunk))
                            writer.write(chunk)
                            advance(len(chunk))
                result = builder.finish()
            _report("new", result.h_entrada, group)
        except Duplicate as exc:
            _report("duplicate", exc.h_entrada, group)
        except TzzrError as exc:
            failures += 1
            err.print(f"[red]failed[/red] {' '.join(map(str, group))}: {exc.message}")
    return failures


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option(help="Only report.")] = False,
    grace: Annotated[
        int | None, typer.Option(help="Keep blobs younger than this many seconds.")
    ] = None,
) -> None:
    """Report and remove blobs that no entry references, and stale temporary uploads."""
    from tzzr.gc import collect

    services = build_services()
    settings = services.settings
    report = collect(
        services.engine,
        services.blobs,
        services.instances,
        spool_dir=settings.home / "spool",
        grace=timedelta(seconds=settings.gc_grace_seconds if grace is None else grace),
        dry_run=dry_run,
    )
    verb = "would remove" if dry_run else "removed"
    for orphan in report.orphans:
        print(f"orphan\t{orphan.instance}\t{orphan.sha256}\t{orphan.size}")
    err.print(
        f"{verb} {len(report.orphans)} orphan blob(s), {report.orphan_bytes} bytes, "
        f"and {len(report.temp_files)} stale temporary file(s)"
    )


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="An empty data directory (default: a new one in /tmp)."),
    ] = None,
) -> None:
    """Capture the bundled samples, run their flows, enrich one, seal, receipt, verify."""
    import tempfile

    from tzzr.demo import run

    home = directory.resolve() if directory else Path(tempfile.mkdtemp(prefix="tzzr-demo-"))
    try:
        run(home, lambda line: out.print(line, highlight=False, soft_wrap=True))
    except FileExistsError as exc:
        raise fail(str(exc), 2) from exc
    err.print(f"Explore it: tzzr --home {home} serve")


@grace_app.command("serve")
def grace_serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8010,
    token: Annotated[
        str | None, typer.Option(envvar="TZZR_GRACE_TOKEN", help="Bearer token callers send.")
    ] = None,
) -> None:
    """Run only GRACE (cells behind contract 2.1): no database, base64 payloads."""
    import uvicorn

    from tzzr.cells.registry import Registry
    from tzzr.cells.service import create_grace_app

    if token is None and host not in ("127.0.0.1", "localhost", "::1"):
        raise fail("set TZZR_GRACE_TOKEN (or --token) before listening beyond this machine", 2)
    cells = Registry.discover()
    err.print(f"GRACE on http://{host}:{port}: modules {', '.join(cells.modules)}")
    uvicorn.run(create_grace_app(cells, token), host=host, port=port, log_level="info")


def main() -> None:
    # Everything TZZR writes (the database with the instances' seeds and remote cells'
    # tokens, signing keys, blobs) is for this user only.
    os.umask(0o077)
    try:
        app()
    except TzzrError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(2)
