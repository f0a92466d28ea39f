"""`tzzr ingest`: files into TZZR, through a server or straight into TZZR_HOME. Through a
server, a file above `--tus-threshold` goes by tus (resumable, tzzr.tusclient)."""

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tzzr.cli.console import DEFAULT_INSTANCE, build_services, err, fail
from tzzr.cli.params import App
from tzzr.errors import Duplicate, TzzrError

if TYPE_CHECKING:
    from tzzr.tusclient import Options

Advance = Callable[[int], None]
SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str, option: str) -> int:
    """`8388608`, `8M`, `8MiB`, `512k` -> bytes (powers of 1024)."""
    match = SIZE.fullmatch(text)
    if match is None:
        raise fail(f"{option} takes a size like 8MiB, 512k or 1048576, got {text!r}", 2)
    return int(match.group(1)) * UNITS[match.group(2).lower()]


class PlainProgress:
    """Progress as plain lines on stderr (not a terminal, or CI): at most one every
    `every` seconds, and the last."""

    def __init__(self, total: int, every: float = 2.0) -> None:
        self.total = total
        self.done = 0
        self._every = every
        self._start = self._last = time.monotonic()

    def advance(self, size: int) -> None:
        self.done += size
        now = time.monotonic()
        if now - self._last >= self._every or self.done >= self.total:
            self._last = now
            rate = self.done / max(now - self._start, 1e-6)
            share = self.done / self.total if self.total else 1.0
            err.print(
                f"sent {_mib(self.done)} of {_mib(self.total)} ({share:.0%}), {_mib(rate)}/s",
                highlight=False,
            )


def _mib(size: float) -> str:
    return f"{size / 1024**2:.1f} MiB"


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
    tus_threshold: Annotated[
        str,
        typer.Option(
            metavar="SIZE", help="With --url: files larger than this go by tus (resumable)."
        ),
    ] = "8MiB",
    chunk_size: Annotated[
        str,
        typer.Option(
            metavar="SIZE",
            help="Bytes per tus PATCH (each checksummed; a cut one is sent again whole).",
        ),
    ] = "64MiB",
    limit_rate: Annotated[
        str | None,
        typer.Option(metavar="SIZE", help="With tus: send at most this many bytes a second."),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Where unfinished tus uploads are remembered "
            "(default: $XDG_CACHE_HOME/tzzr/uploads or ~/.cache/tzzr/uploads).",
        ),
    ] = None,
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

    from tzzr.tusclient import Options, default_state_dir

    metadata = _parse_meta(meta or [])
    threshold = parse_size(tus_threshold, "--tus-threshold")
    options = Options(
        chunk_size=max(parse_size(chunk_size, "--chunk-size"), 1),
        limit_rate=parse_size(limit_rate, "--limit-rate") if limit_rate else None,
        state_dir=state_dir or default_state_dir(),
    )
    files = _expand(paths)
    groups = [files] if together else [[f] for f in files]
    total = sum(f.stat().st_size for f in files)
    plain = not err.is_terminal or bool(os.environ.get("CI"))
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err.console,
        disable=plain,
    )
    lines = PlainProgress(total) if plain and url is not None else None
    with progress:
        task = progress.add_task(f"ingesting {len(files)} file(s)", total=total)

        def advance(n: int) -> None:
            if lines is not None:
                lines.advance(n)
            progress.advance(task, n)

        if url is not None:
            failures = _ingest_http(url, key, groups, metadata, advance, threshold, options)
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
    threshold: int,
    options: "Options",
) -> int:
    import httpx

    from tzzr.client import IngestError, upload
    from tzzr.tusclient import TusError, Uploader, ingest_uploaded

    if not key:
        raise fail("--url needs --key (or TZZR_KEY)", 2)
    failures = 0
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=httpx.Timeout(60, read=600)) as c:
        uploader = Uploader(c, key, options, advance, lambda line: err.print(line, highlight=False))
        for group in groups:
            try:
                if any(path.stat().st_size > threshold for path in group):
                    uploaded = [uploader.upload(path) for path in group]
                    status, body = ingest_uploaded(c, uploaded, metadata)
                else:
                    status, body = upload(c, group, metadata, advance)
            except (IngestError, TusError, httpx.HTTPError) as exc:
                failures += 1
                if isinstance(exc, httpx.TransportError):
                    exc = TusError(f"cannot reach {url} ({exc}): is the server running?")
                err.print(
                    f"[red]failed[/red] {' '.join(map(str, group))}: {exc}",
                    highlight=False,
                    soft_wrap=True,
                )
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
