#!/usr/bin/env python3
"""Benchmark nbhoist against ruff on one folder of notebooks.

Usage: python3 scripts/bench.py [DIR] [--runs N] [--files] [--timeout SECONDS]

Normally run through scripts/bench. Standard library only. Steps:

1. builds nbhoist with ``cargo build --release --locked``;
2. installs ruff==RUFF_VERSION into target/bench-venv (kept while the version matches);
3. runs every command below once as a warm-up, then N more times, interleaved (one run
   of each command per round), stdout to /dev/null;
4. runs every command that ran once more under ``/usr/bin/time -f %M`` for its peak RSS;
5. prints the machine, the corpus, a table of wall-time medians and the targets.

The nbhoist commands get DIR itself, or with --files every ``*.ipynb`` under DIR (not
inside ``.ipynb_checkpoints``); ruff always gets DIR.

A command that exits 2 with a command-line usage error (an option or argument that this
nbhoist, or ruff, does not know) is reported as "not available"; so is an nbhoist that
answers that DIR is a directory (use --files). nbhoist's exit codes 0 and 2 (some notebook
not readable) are normal; any other exit code, a signal or a timeout is a crash. ruff's
exit code is otherwise reported as data; only a timeout of ruff counts as a crash. Exit
code: 0 when everything ran (whether or not the targets were met), 1 when something
crashed or could not be set up, 2 on bad usage.

Peak RSS without GNU time (/usr/bin/time, used on Linux only) comes from os.wait4, whose
ru_maxrss also counts the resident set of this Python process at the spawn; such a figure is
shown as an upper bound ("<=") when it does not clearly exceed that of `true` spawned the
same way.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# --- What is measured: adjust here. ---------------------------------------------------
# "{paths}" becomes DIR, or DIR's notebooks with --files; "{dir}" is always DIR.
RUFF_VERSION = "0.17.6"
NBHOIST_COMMANDS = [
    # (label, arguments after the nbhoist binary, target for the nbhoist/ruff ratio)
    ("scan", ["scan", "{paths}"], 0.6),
    ("extract --diff", ["extract", "{paths}", "--package", "benchpkg", "--diff"], 1.5),
]
RUFF_LABEL = "ruff check"
RUFF_ARGS = ["check", "--isolated", "--select", "F", "--no-cache", "--exit-zero", "{dir}"]
RSS_TARGET_MB = 100  # nbhoist's peak resident set, in MB (1 MB = 10^6 bytes)
DEFAULT_RUNS = 7
WARMUP_RUNS = 1
DEFAULT_TIMEOUT = 600.0  # seconds, per run
# ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
NBHOIST = TARGET_DIR / "release" / "nbhoist"
VENV = ROOT / "target" / "bench-venv"
RUFF = VENV / "bin" / "ruff"
# GNU time, whose `-f %M` prints a command's peak RSS; macOS's /usr/bin/time is BSD's, which
# has no -f.
GNU_TIME = Path("/usr/bin/time") if sys.platform.startswith("linux") else None
# getrusage's ru_maxrss is in KiB on Linux, in bytes on macOS.
MAXRSS_UNIT = 1024 if sys.platform == "darwin" else 1

# clap's words for a command line it rejects (exit code 2).
USAGE_ERROR = re.compile(
    r"unexpected argument|unrecognized subcommand|invalid value|"
    r"required arguments were not provided|^Usage:",
    re.MULTILINE,
)
NOT_A_FOLDER_READER = re.compile(r"Is a directory|os error 21")
SUMMARY_LINE = re.compile(r"^(\d+ notebooks?\b.*|Found \d+ errors?.*|All checks passed!.*)$", re.MULTILINE)


class SetupError(Exception):
    """Building nbhoist or installing ruff failed."""


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds
    exit_code: int  # negative: killed by that signal
    maxrss_kib: int  # from wait4; includes the launcher's resident set (see peak_rss)
    stderr: str
    stdout: str = ""
    timed_out: bool = False


@dataclass
class Row:
    label: str
    argv: list[str]
    display: str
    is_nbhoist: bool
    ratio_target: float | None = None
    runs: list[Run] = field(default_factory=list)
    warmup: Run | None = None
    unavailable: str | None = None  # why the row has no numbers
    crashed: str | None = None
    peak_rss_kib: int | None = None
    peak_rss_note: str = ""

    @property
    def ok(self) -> bool:
        return self.unavailable is None and self.crashed is None and bool(self.runs)

    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_once(argv: list[str], timeout: float, keep_stdout: bool = False) -> Run:
    """Runs argv once; wall time from just before the spawn to the reaped exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdout = out if keep_stdout else subprocess.DEVNULL
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err)
        killed = []
        timer = threading.Timer(timeout, lambda: (killed.append(True), proc.kill()))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        out.seek(0)
        return Run(
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            exit_code=proc.returncode,
            maxrss_kib=usage.ru_maxrss // MAXRSS_UNIT,
            stderr=err.read().decode("utf-8", "replace"),
            stdout=out.read().decode("utf-8", "replace") if keep_stdout else "",
            timed_out=bool(killed) and proc.returncode < 0,
        )


def peak_rss(argv: list[str], timeout: float) -> tuple[int | None, str]:
    """Peak resident set of one run of argv, in KiB, and a note on how it was measured.

    GNU time is a small C program, so its %M is the command's own peak. Without it, the
    peak comes from wait4, whose ru_maxrss also counts the resident set that the launching
    Python process had when it spawned the command; when the value does not exceed that of
    `true` launched the same way, only that bound is known.
    """
    if GNU_TIME is not None and GNU_TIME.is_file() and os.access(GNU_TIME, os.X_OK):
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
            run = run_once([str(GNU_TIME), "-f", "%M", "-o", report.name, *argv], timeout)
            lines = [line.strip() for line in report.read().splitlines() if line.strip()]
        if lines and lines[-1].isdigit():
            return int(lines[-1]), "/usr/bin/time %M"
        return None, f"/usr/bin/time gave no figure (exit code {run.exit_code})"
    true = [shutil.which("true") or "/bin/true"]
    before = run_once(true, timeout).maxrss_kib
    run = run_once(argv, timeout)
    baseline = max(before, run_once(true, timeout).maxrss_kib)
    if run.maxrss_kib > baseline + 1024:  # 1 MiB of slack for the launcher's own growth
        return run.maxrss_kib, "wait4 ru_maxrss"
    return baseline, "wait4 ru_maxrss, at most (launcher's own resident set)"


def find_notebooks(folder: Path) -> list[Path]:
    """Every *.ipynb under folder, sorted, skipping .ipynb_checkpoints folders."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
        found.extend(Path(dirpath) / name for name in filenames if name.endswith(".ipynb"))
    return sorted(found)


def tally(folder: Path) -> dict[str, tuple[int, int]]:
    """(count, bytes) of the notebooks, the Python files and all files under folder."""
    counts = {"notebooks": [0, 0], "python": [0, 0], "all": [0, 0]}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != ".ipynb_checkpoints"]
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            size = path.stat().st_size
            kinds = ["all"]
            if name.endswith(".ipynb"):
                kinds.append("notebooks")
            elif name.endswith((".py", ".pyi")):
                kinds.append("python")
            for kind in kinds:
                counts[kind][0] += 1
                counts[kind][1] += size
    return {kind: (n, size) for kind, (n, size) in counts.items()}


def capture(argv: list[str], cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def machine_facts() -> list[tuple[str, str]]:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu_model = platform.processor() or "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("nproc", str(cpus)),
        ("cpu", cpu_model),
        ("memory", memory),
        ("os", f"{platform.system()} {platform.release()} {platform.machine()}"),
    ]


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


def build_nbhoist() -> None:
    log("cargo build --release --locked")
    result = subprocess.run(
        ["cargo", "build", "--release", "--locked", "--manifest-path", str(ROOT / "Cargo.toml")]
    )
    if result.returncode != 0 or not NBHOIST.is_file():
        raise SetupError(f"cargo build --release --locked failed (exit code {result.returncode})")


def install_ruff() -> None:
    want = f"ruff {RUFF_VERSION}"
    if RUFF.is_file() and capture([str(RUFF), "--version"]) == want:
        return
    log(f"installing ruff=={RUFF_VERSION} into {VENV.relative_to(ROOT)}")
    shutil.rmtree(VENV, ignore_errors=True)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", f"ruff=={RUFF_VERSION}"],
    ]
    for step in steps:
        if subprocess.run(step, env=env).returncode != 0:
            raise SetupError(f"failed: {' '.join(step)}")
    if capture([str(RUFF), "--version"]) != want:
        raise SetupError(f"{RUFF} is not {want}")


def expand(args: list[str], folder: Path, paths: list[str]) -> list[str]:
    argv = []
    for arg in args:
        if arg == "{paths}":
            argv.extend(paths)
        elif arg == "{dir}":
            argv.append(str(folder))
        else:
            argv.append(arg)
    return argv


def shown(args: list[str], folder_text: str, paths_text: str) -> str:
    return " ".join(paths_text if a == "{paths}" else folder_text if a == "{dir}" else a for a in args)


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def judge_warmup(row: Row, run: Run, files_mode: bool) -> None:
    """Sets row.unavailable or row.crashed from the warm-up run, if it calls for it."""
    if run.exit_code == 2 and USAGE_ERROR.search(run.stderr):
        row.unavailable = f"not available ({first_line(run.stderr).removeprefix('error: ')})"
    elif row.is_nbhoist and not files_mode and NOT_A_FOLDER_READER.search(run.stdout + run.stderr):
        row.unavailable = "not available (folder not accepted: rerun with --files)"
    else:
        judge_run(row, run)


def judge_run(row: Row, run: Run) -> None:
    if run.timed_out:
        row.crashed = "timed out"
    elif row.is_nbhoist and run.exit_code not in (0, 2):
        what = f"signal {-run.exit_code}" if run.exit_code < 0 else f"exit code {run.exit_code}"
        row.crashed = f"crashed ({what}): {first_line(run.stderr)[:200]}"


def rss_bound(row: Row) -> str:
    """'<= ' when the row's peak RSS is only an upper bound."""
    return "<= " if "at most" in row.peak_rss_note else ""


def fmt_seconds(value: float) -> str:
    return f"{value:.3f} s"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description="Benchmark nbhoist against ruff on a folder of notebooks."
    )
    parser.add_argument(
        "dir", nargs="?", help="folder of notebooks (default: ../shared/corpus, relative to the repository)"
    )
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"timed runs per command (default {DEFAULT_RUNS})")
    parser.add_argument(
        "--files", action="store_true", help="pass nbhoist the folder's notebooks rather than the folder"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help=f"seconds allowed per run (default {DEFAULT_TIMEOUT:g})"
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    folder = Path(args.dir) if args.dir else ROOT.parent / "shared" / "corpus"
    folder = folder.resolve()
    if not folder.is_dir():
        parser.error(f"not a folder: {folder}")
    for _, cmd, _ in NBHOIST_COMMANDS:
        if "extract" in cmd and "--diff" not in cmd:
            # Without --diff, extract writes a package next to every notebook of the corpus.
            parser.error(f"refusing to benchmark an extract without --diff: {' '.join(cmd)}")

    try:
        build_nbhoist()
        install_ruff()
    except (SetupError, OSError) as error:
        log(f"error: {error}")
        return 1

    notebooks = find_notebooks(folder)
    # nbhoist takes the current folder as the project's root (without a configuration file
    # or a repository above), and refuses notebooks outside it: run every command in DIR.
    os.chdir(folder)
    paths = [str(p) for p in notebooks] if args.files else [str(folder)]
    paths_text = f"<{len(notebooks)} notebooks>" if args.files else str(folder)
    rows = [
        Row(
            label=f"nbhoist {label}",
            argv=[str(NBHOIST), *expand(cmd, folder, paths)],
            display="nbhoist " + shown(cmd, str(folder), paths_text),
            is_nbhoist=True,
            ratio_target=target,
        )
        for label, cmd, target in NBHOIST_COMMANDS
    ]
    ruff_row = Row(
        label=RUFF_LABEL,
        argv=[str(RUFF), *expand(RUFF_ARGS, folder, paths)],
        display="ruff " + shown(RUFF_ARGS, str(folder), paths_text),
        is_nbhoist=False,
    )
    rows.append(ruff_row)

    started = datetime.datetime.now()
    load_before = os.getloadavg()
    for _ in range(WARMUP_RUNS):
        for row in rows:
            log(f"warm-up: {row.label}")
            try:
                row.warmup = run_once(row.argv, args.timeout, keep_stdout=True)
            except OSError as error:
                row.crashed = f"could not start: {error}"
                continue
            judge_warmup(row, row.warmup, args.files)
    for round_no in range(1, args.runs + 1):
        log(f"round {round_no}/{args.runs}")
        for row in rows:
            if row.unavailable or row.crashed:
                continue
            run = run_once(row.argv, args.timeout)
            row.runs.append(run)
            judge_run(row, run)
    for row in rows:
        if row.ok:
            log(f"peak RSS: {row.label}")
            row.peak_rss_kib, row.peak_rss_note = peak_rss(row.argv, args.timeout)

    load_after = os.getloadavg()

    # --- Report -------------------------------------------------------------------------
    counts = tally(folder)
    print(f"nbhoist benchmark, {started:%Y-%m-%d %H:%M}")
    print()
    print("machine")
    for key, value in machine_facts():
        print(f"  {key + ':':<9} {value}")
    load = "  ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(load_before, load_after))
    print(f"  {'load:':<9} {load}  (1/5/15-minute load average, before/after; above 0 means other work)")
    print()
    print("corpus")
    nb_count, nb_bytes = counts["notebooks"]
    py_count, py_bytes = counts["python"]
    all_count, all_bytes = counts["all"]
    print(f"  {'folder:':<9} {folder}")
    print(f"  {'files:':<9} {nb_count} notebooks, {mb(nb_bytes)} ({nb_bytes / 2**20:.1f} MiB)")
    print(f"  {'':<9} {py_count} .py/.pyi files, {mb(py_bytes)} (ruff checks these too)")
    print(f"  {'':<9} {all_count} files in all, {mb(all_bytes)}")
    print()
    print("tools")
    git = capture(["git", "describe", "--always", "--dirty", "--abbrev=10"], cwd=ROOT)
    print(f"  {'nbhoist:':<9} {capture([str(NBHOIST), '--version'])} (commit {git}), {NBHOIST}")
    print(f"  {'ruff:':<9} {capture([str(RUFF), '--version'])}, {RUFF}")
    print()
    print(f"commands ({WARMUP_RUNS} warm-up + {args.runs} timed runs each, interleaved, stdout to /dev/null)")
    for row in rows:
        print(f"  {row.display}")
    print()

    body = []
    reasons = []
    for row in rows:
        if not row.ok:
            reason = row.unavailable or row.crashed or "no runs"
            body.append([row.label, reason.split(" (")[0], "-", "-", "-", "-", "-"])
            reasons.append(f"{row.label}: {reason}")
            continue
        walls = [r.wall for r in row.runs]
        codes = sorted({r.exit_code for r in [row.warmup, *row.runs] if r})
        rss = f"{rss_bound(row)}{mb(row.peak_rss_kib * 1024)}" if row.peak_rss_kib is not None else "unknown"
        body.append(
            [
                row.label,
                fmt_seconds(statistics.median(walls)),
                fmt_seconds(min(walls)),
                fmt_seconds(max(walls)),
                fmt_seconds(statistics.median(r.cpu for r in row.runs)),
                ",".join(map(str, codes)),
                rss,
            ]
        )
    header = ["command", "median wall", "min", "max", "median cpu", "exit", "peak RSS"]
    print(table(header, body))
    for reason in reasons:
        print(reason)
    print()

    notes = []
    for row in rows:
        run = row.warmup
        if run is None or not row.ok:
            continue
        match = SUMMARY_LINE.search(run.stdout) or SUMMARY_LINE.search(run.stderr)
        if match:
            notes.append(f"  {row.label}: {match.group(1)}")
        if run.exit_code != 0:
            detail = first_line(run.stderr)
            if not detail and row.is_nbhoist and run.exit_code == 2:
                detail = "some notebook could not be read or processed"
            notes.append(f"  {row.label}: exit code {run.exit_code}" + (f": {detail[:200]}" if detail else ""))
    if notes:
        print("output (warm-up run)")
        print("\n".join(notes))
        print()
    rss_notes = sorted({row.peak_rss_note for row in rows if row.ok and row.peak_rss_note})
    if rss_notes:
        print(f"peak RSS: one extra run of each command, measured with {'; '.join(rss_notes)}")
        print()

    verdicts = []
    for row in rows:
        if not row.is_nbhoist:
            continue
        name = f"{row.label.removeprefix('nbhoist ')} / ruff <= {row.ratio_target:.1f}"
        if row.ok and ruff_row.ok:
            ratio = row.median() / ruff_row.median()
            cpu_ratio = statistics.median(r.cpu for r in row.runs) / statistics.median(r.cpu for r in ruff_row.runs)
            verdict = "PASS" if ratio <= row.ratio_target else "FAIL"
            verdicts.append([name, f"{ratio:.2f}", verdict, f"{cpu_ratio:.2f}"])
        else:
            verdicts.append([name, "n/a", "not available" if not row.crashed else "crashed", "n/a"])
    measured = [row for row in rows if row.is_nbhoist and row.ok and row.peak_rss_kib is not None]
    rss_name = f"nbhoist peak RSS < {RSS_TARGET_MB} MB"
    if measured:
        worst = max(measured, key=lambda r: r.peak_rss_kib or 0)
        peak_mb = (worst.peak_rss_kib or 0) * 1024 / 1e6
        verdicts.append(
            [rss_name, f"{rss_bound(worst)}{peak_mb:.1f} MB ({worst.label.removeprefix('nbhoist ')})", "PASS" if peak_mb < RSS_TARGET_MB else "FAIL", ""]
        )
    else:
        verdicts.append([rss_name, "n/a", "not available", ""])
    print(table(["target (wall-time medians)", "measured", "verdict", "cpu-time ratio (info)"], verdicts))

    crashed = [row for row in rows if row.crashed]
    if crashed:
        print()
        for row in crashed:
            print(f"error: {row.label}: {row.crashed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
