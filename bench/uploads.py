"""Large uploads (issue 16): one file of --size MiB (default 1024) sent to `tzzr serve`

1. as one multipart `POST /ingest` (curl -F), SQLite + local blobs: goal >= 50% of the
   reference;
2. through tus by `tzzr ingest --url` (checksummed PATCHes, then ingest by reference),
   on SQLite + local blobs and on SQLite + S3 (an S3 API server: TZZR_TEST_S3_ENDPOINT,
   as `make bench-uploads` starts moto_server): goal >= 70% of the reference;

each against the reference measured just before it in the same run: `cp` of the same
file on the same disk, then `sync`. Prints ratios (reference time / upload time; above
100% is faster than the reference), the server's RSS sampled every 10 ms while it
receives (goal: peak under 100 MiB; the idle server's own size is printed beside it, and
what the upload added), and the machine's load. Asserts nothing (machines are noisy).
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

MiB = 1024 * 1024
SERVE = [sys.executable, "-m", "tzzr", "serve", "--no-access-log", "--no-worker"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler:
    """The highest RSS of `pid`, read every `every` seconds until stopped."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib(self.pid))


@dataclass
class Server:
    url: str
    key: str
    process: "subprocess.Popen[bytes]"


def start_server(home: Path, env: dict[str, str]) -> Server:
    port = free_port()
    log = home.with_suffix(".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*SERVE, "--port", str(port)],
            env={**os.environ, "TZZR_HOME": str(home), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"the server exited; see {log}")
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        sys.exit(f"the server did not start; see {log}")
    key = next(line for line in log.read_text().splitlines() if line.startswith("tzzr_"))
    return Server(url, key, process)


def reference(source: Path, work: Path) -> float:
    """`cp` of the file on the same disk, then `sync`: seconds."""
    subprocess.run(["sync"], check=True)
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(work / "copy.bin")], check=True)
    subprocess.run(["sync"], check=True)
    seconds = time.perf_counter() - started
    (work / "copy.bin").unlink()
    subprocess.run(["sync"], check=True)
    return seconds


def multipart(server: Server, source: Path, run: str) -> None:
    result = subprocess.run(
        [
            *("curl", "-sS", "-f", "-H", f"Authorization: Bearer {server.key}"),
            *("-F", f'metadata={{"bench": "{run}"}}', "-F", f"file=@{source}"),
            f"{server.url}/ingest",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"multipart upload failed: {result.stderr}")


def tus_cli(server: Server, source: Path, run: str, state: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "tzzr", "ingest", str(source), "--url", server.url),
            *("--key", server.key, "--meta", f"bench={run}", "--state-dir", str(state)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "1"},  # plain progress lines, not a bar
    )
    if result.returncode != 0 or not result.stdout.startswith("new\t"):
        sys.exit(f"tus upload failed: {result.stderr}")


def s3_env() -> dict[str, str] | None:
    endpoint = os.environ.get("TZZR_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    import boto3

    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    return {
        "TZZR_BLOB_URL": f"s3://{bucket}",
        "TZZR_S3_ENDPOINT_URL": endpoint,
        "TZZR_S3_REGION": "us-east-1",
        "TZZR_S3_ACCESS_KEY_ID": "test",
        "TZZR_S3_SECRET_ACCESS_KEY": "test",
    }


def s3_alone(source: Path) -> float | None:
    """Seconds for boto3 alone to put the file on the same S3 server (the floor of the
    S3 shape: moto_server, a Python process, is far slower than R2 or MinIO)."""
    extra = s3_env()
    if extra is None:
        return None
    import boto3
    from boto3.s3.transfer import TransferConfig

    client = boto3.client(
        "s3",
        endpoint_url=extra["TZZR_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    config = TransferConfig(multipart_threshold=64 * MiB, multipart_chunksize=16 * MiB)
    started = time.perf_counter()
    client.upload_file(str(source), extra["TZZR_BLOB_URL"][5:], "alone", Config=config)
    return time.perf_counter() - started


@dataclass
class Row:
    name: str
    goal: float
    ratios: list[float]
    seconds: list[float]
    references: list[float]
    idle: list[float]
    peak: list[float]


def measure(
    row: Row,
    work: Path,
    source: Path,
    env: Callable[[], dict[str, str] | None],
    send: Callable[[Server, str], None],
) -> None:
    extra = env()
    if extra is None:
        return
    home = work / f"home-{uuid.uuid4().hex[:8]}"
    server = start_server(home, extra)
    try:
        time.sleep(0.5)  # settled
        row.idle.append(rss_mib(server.process.pid))
        ref = reference(source, work)
        started = time.perf_counter()
        with Sampler(server.process.pid) as sampler:
            send(server, home.name)
        seconds = time.perf_counter() - started
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(30)
        shutil.rmtree(home, ignore_errors=True)
    row.ratios.append(ref / seconds)
    row.seconds.append(seconds)
    row.references.append(ref)
    row.peak.append(sampler.peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB (default 1024)")
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        sys.exit("curl is missing")
    print(f"# {args.size} MiB, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        work = Path(tmp)
        source = work / "source.bin"
        with source.open("wb") as handle:
            for _ in range(args.size):
                handle.write(os.urandom(MiB))
        state = work / "tus-state"
        rows = [
            (
                Row("multipart POST /ingest, local", 0.5, [], [], [], [], []),
                lambda: {},
                lambda s, run: multipart(s, source, run),
            ),
            (
                Row("tus (tzzr ingest --url), local", 0.7, [], [], [], [], []),
                lambda: {},
                lambda s, run: tus_cli(s, source, run, state),
            ),
            (
                Row("tus (tzzr ingest --url), S3", 0.7, [], [], [], [], []),
                s3_env,
                lambda s, run: tus_cli(s, source, run, state),
            ),
        ]
        alone: list[float] = []
        for _ in range(args.repeat):  # interleaved, so a busy spell hits them alike
            for row, env, send in rows:
                measure(row, work, source, env, send)
            seconds = s3_alone(source)
            if seconds is not None:
                alone.append(seconds)
    print(
        f"{'upload':<32} {'vs cp+sync':>10} {'goal':>5} {'seconds':>8} {'MiB/s':>6} "
        f"{'cp+sync s':>9} {'RSS idle':>8} {'peak':>5} {'added':>5}"
    )
    for row, _, _ in rows:
        if not row.ratios:
            print(f"{row.name:<32} skipped: set TZZR_TEST_S3_ENDPOINT (make bench-uploads)")
            continue
        seconds = statistics.median(row.seconds)
        idle, peak = statistics.median(row.idle), max(row.peak)
        print(
            f"{row.name:<32} {statistics.median(row.ratios):>10.0%} {row.goal:>5.0%} "
            f"{seconds:>8.2f} {args.size / seconds:>6.0f} "
            f"{statistics.median(row.references):>9.2f} {idle:>7.0f}M {peak:>4.0f}M "
            f"{peak - idle:>4.0f}M"
        )
    if alone and rows[2][0].seconds:
        floor = statistics.median(alone)
        print(
            f"# the S3 server alone (boto3 upload_file, 16 MiB parts): {floor:.2f} s, "
            f"{args.size / floor:.0f} MiB/s; tus on S3 took "
            f"{statistics.median(rows[2][0].seconds) / floor:.1f}x that"
        )
    print(f"# load average at the end {os.getloadavg()[0]:.1f}; medians of {args.repeat}")


if __name__ == "__main__":
    main()
