"""CLI start-up benchmark (issue 13): the median wall time of a cold process for
`tzzr --help` (goal < 300 ms) and `tzzr verify RECEIPT` (goal < 150 ms; the receipt is made
in a temporary data directory first), beside references measured in the same run: a bare
`python -c pass` and `python -c "import typer"`. Each command is a new process, run as
`python -m tzzr` with this interpreter (PYTHONPATH picks the code: run it with
PYTHONPATH=/tmp/old/src for another checkout). Bytecode is cached as an installed package
has it (PYTHONDONTWRITEBYTECODE is dropped; the cache lives in the temporary directory,
filled by one unmeasured run of each command). Prints wall and CPU ms (user + system of
the process: the steadier figure on a busy machine) and ratios; asserts nothing.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable


def median_ms(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `runs` cold processes."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def tzzr(home: Path, *args: str) -> list[str]:
    return [PYTHON, "-m", "tzzr", "--home", str(home), *args]


def make_receipt(work: Path, env: dict[str, str]) -> Path:
    """An instance, one entry, one sealed block and its receipt, all through the CLI."""
    home = work / "home"
    note = work / "note.txt"
    note.write_text("buy milk\n")
    receipt = work / "receipt.json"

    def run(*args: str) -> str:
        done = subprocess.run(tzzr(home, *args), env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"tzzr {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    run("instances", "add", "deck")
    h_entrada = run("ingest", str(note)).split("\t")[1]
    run("seal")
    run("receipt", h_entrada, "--out", str(receipt))
    return receipt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold processes per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-startup-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, COLUMNS="100", NO_COLOR="1", PYTHONPYCACHEPREFIX=str(work / "pyc"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        receipt = make_receipt(work, env)
        home = work / "home"
        cases = [
            ("python -c pass", [PYTHON, "-c", "pass"], None),
            ('python -c "import typer"', [PYTHON, "-c", "import typer"], None),
            ("tzzr --help", tzzr(home, "--help"), 300.0),
            ("tzzr verify RECEIPT", tzzr(home, "verify", str(receipt)), 150.0),
        ]
        print(f"## cold start, median of {args.runs} processes ({PYTHON})\n")
        print(
            f"{'command':24} {'wall ms':>8} {'x pass':>7} {'x typer':>7}"
            f" {'cpu ms':>8} {'x pass':>7} {'x typer':>7}  goal (wall)"
        )
        measured: dict[str, tuple[float, float]] = {}
        for _, argv, _ in cases:
            subprocess.run(argv, env=env, check=True, capture_output=True)
        for name, argv, goal in cases:
            ms = median_ms(argv, args.runs, env)
            measured[name] = ms
            bare = measured["python -c pass"]
            typer = measured.get('python -c "import typer"', ms)
            verdict = "" if goal is None else ("ok" if ms[0] < goal else "over") + f" < {goal:.0f}"
            figures = "".join(
                f" {ms[k]:8.1f} {ms[k] / bare[k]:6.1f}x {ms[k] / typer[k]:6.1f}x" for k in (0, 1)
            )
            print(f"{name:24}{figures}  {verdict}")


if __name__ == "__main__":
    main()
