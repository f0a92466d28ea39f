"""Ingest benchmark (issue 2).

Small-container ingests per second and p50/p99 latency at 1, 16 and 64 concurrent
clients, against `tzzr serve` on the embedded default (SQLite + local blobs), beside a
floor measured in the same run: bench/floor_app.py, a minimal ASGI app inserting the
same row into the same kind of database. Goal: >= 60% of the floor.

Large uploads (multipart and tus, against `cp` + `sync`, with the server's RSS) are
measured by bench/uploads.py.

Load comes from wrk (Debian package), one connection per client, every request a new
container. Prints ratios; asserts nothing (machines are noisy).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
LUA = r"""
local counter = 0
local run = "RUN"
local file = "FILE"
function request()
  counter = counter + 1
  local body
  if file == "" then
    body = '{"metadata":{"run":"' .. run .. '","n":' .. counter .. ',"note":"bench"}}'
  else
    body = '{"metadata":{"run":"' .. run .. '","n":' .. counter .. ',"note":"bench"},' ..
           '"files":[{"name":"r.txt","media_type":"text/plain","content":"' .. file .. '"}]}'
  end
  return wrk.format("POST", "/ingest", {["Content-Type"]="application/json",
                    ["Authorization"]="Bearer KEY"}, body)
end
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"server at {url} exited")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    sys.exit(f"server at {url} did not start")


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def wrk(url: str, clients: int, seconds: int, script: Path) -> dict[str, float]:
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def lua_script(work: Path, key: str, content: str) -> Path:
    """A fresh run id each time, so that every request is a new container."""
    path = work / f"run-{time.time_ns()}.lua"
    path.write_text(LUA.replace("RUN", path.stem).replace("KEY", key).replace("FILE", content))
    return path


def small_containers(work: Path, seconds: int, with_file: bool) -> None:
    import base64

    port, floor_port = free_port(), free_port()
    tag = "file" if with_file else "meta"
    env = {"TZZR_HOME": str(work / f"tzzr-{tag}")}
    log = work / f"tzzr-{tag}.log"
    server = start(
        [sys.executable, "-m", "tzzr", "serve", "--port", str(port), "--no-access-log"], env, log
    )
    floor = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(HERE),
            "floor_app:app",
            "--port",
            str(floor_port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        {"FLOOR_DATABASE_URL": f"sqlite:///{work / f'floor-{tag}.db'}"},
        work / f"floor-{tag}.log",
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/health", server)
        wait_up(f"http://127.0.0.1:{floor_port}/", floor)
        key = next(line for line in log.read_text().splitlines() if line.startswith("tzzr_"))
        content = base64.b64encode(os.urandom(768)).decode() if with_file else ""
        shape = "metadata + one 768-byte file" if with_file else "metadata only"
        print(f"\n## small containers ({shape}), {seconds} s per point, SQLite + local blobs")
        print(
            f"{'clients':>7} | {'tzzr req/s':>10} {'p50 ms':>7} {'p99 ms':>7} | "
            f"{'floor req/s':>11} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>6}"
        )
        for clients in (1, 16, 64):
            row = {}
            for name, target in (("floor", floor_port), ("tzzr", port)):
                url = f"http://127.0.0.1:{target}/ingest"

                wrk(url, clients, 1, lua_script(work, key, content))  # warm-up
                row[name] = wrk(url, clients, seconds, lua_script(work, key, content))
            t, f = row["tzzr"], row["floor"]
            print(
                f"{clients:>7} | {t['rps']:>10.0f} {t['p50']:>7.2f} {t['p99']:>7.2f} | "
                f"{f['rps']:>11.0f} {f['p50']:>7.2f} {f['p99']:>7.2f} | "
                f"{t['rps'] / f['rps']:>6.0%}"
            )
            if t["errors"] or f["errors"]:
                print(f"        non-2xx answers: tzzr {t['errors']:.0f}, floor {f['errors']:.0f}")
    finally:
        for process in (server, floor):
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="per measured point")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (make bench does it)")
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        work = Path(tmp)
        small_containers(work, args.seconds, with_file=False)
        small_containers(work, args.seconds, with_file=True)


if __name__ == "__main__":
    main()
