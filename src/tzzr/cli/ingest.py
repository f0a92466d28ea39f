"""`tzzr ingest`: files into TZZR, through a server or straight into TZZR_HOME."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from tzzr.cli.console import DEFAULT_INSTANCE, build_services, err, fail
from tzzr.cli.params import App
from tzzr.errors import Duplicate, TzzrError

Advance = Callable[[int], None]


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


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories.")],
    meta: Annotated[list[str] | None, typer.Option("--meta", help="key=value metadata.")] = None,
    together: Annotated[
        bool, typer.Option(help="One container with every file, instead of one per file.")
    ] = False,
    url: Annotated[str | None, typer.Option(envvar="TZZR_URL", help="Server to send to.")] = None,
    key: Annotated[str | None, typer.Option(envvar="TZZR_KEY", help="API key for --url.")] = None,
    instance: Annotated[
        str, typer.Option(metavar="NAME", help="Instance, when writing locally (no --url).")
    ] = DEFAULT_INSTANCE,
) -> None:
    """Ingest files: through a server with --url, or straight into TZZR_HOME."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    metadata = _parse_meta(meta or [])
    files = _expand(paths)
    groups = [files] if together else [[f] for f in files]
    total = sum(f.stat().st_size for f in files)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err.console,
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
    advance: Advance,
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
    instance_name: str, groups: list[list[Path]], metadata: dict[str, Any], advance: Advance
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


def register(app: App) -> None:
    app.command()(ingest)
