#!/usr/bin/env python3
"""Developer entry point: needs only Python 3.11+ (no make, no uv).

    python3 dev.py demo [ARGS...]     run `leadflow demo ARGS`
    python3 dev.py test [PYTEST ARGS]  run the test suite
    python3 dev.py lint                ruff check, ruff format --check, mypy (src; benchmarks)
    python3 dev.py bench NAME [ARGS]   run benchmarks/NAME.py
    python3 dev.py fuzz [PYTEST ARGS]  the long fuzzing run (Schemathesis, Hypothesis)

Creates .venv on first use and installs the project (editable, with the dev extra) with uv,
falling back to pip. It re-installs only when pyproject.toml changes.
Under CI (CI=true) `test` installs the PostgreSQL server if missing and makes PG tests mandatory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".leadflow-installed"
PYPROJECT = ROOT / "pyproject.toml"
USAGE = (
    "usage: python3 dev.py {demo [ARGS...] | test [PYTEST ARGS...] | lint | bench NAME [ARGS...]"
    " | fuzz [PYTEST ARGS...]}"
)


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def run(cmd: Sequence[str | Path], env: Mapping[str, str] | None = None) -> int:
    """Run a command from the repo root and return its exit code."""
    say("$ " + " ".join(str(part) for part in cmd))
    return subprocess.run([str(part) for part in cmd], cwd=ROOT, env=env, check=False).returncode


def venv_bin(name: str) -> Path:
    scripts = VENV / ("Scripts" if os.name == "nt" else "bin")
    return scripts / (f"{name}.exe" if os.name == "nt" else name)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# --- environment -----------------------------------------------------------------------------


def ensure_pip(python: Path) -> None:
    check = [str(python), "-m", "pip", "--version"]
    if subprocess.run(check, capture_output=True, check=False).returncode != 0:
        # Venvs made by uv have no pip; the interpreter's ensurepip can add it.
        run([python, "-m", "ensurepip", "--upgrade"])


def install_project(python: Path) -> bool:
    uv = venv_bin("uv")
    if not uv.exists():
        say("installing uv into .venv (pip)")
        ensure_pip(python)
        run([python, "-m", "pip", "install", "--quiet", "uv"])
    if uv.exists():
        say("installing project with uv")
        if run([uv, "pip", "install", "-p", VENV, "-e", ".[dev]"]) == 0:
            return True
        say("uv failed; falling back to pip")
    else:
        say("uv unavailable; using pip")
    ensure_pip(python)
    return run([python, "-m", "pip", "install", "-e", ".[dev]"]) == 0


def ensure_venv() -> Path:
    """Create .venv if missing and (re)install the project when pyproject.toml changed."""
    python = venv_bin("python")
    if not python.exists():
        say(f"creating .venv with {sys.executable}")
        if run([sys.executable, "-m", "venv", VENV]) != 0:
            sys.exit("dev.py: could not create .venv")
    digest = hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return python
    say("pyproject.toml is new or changed: installing dependencies")
    if not install_project(python):
        sys.exit("dev.py: installing the project failed")
    STAMP.write_text(digest + "\n")
    return python


# --- PostgreSQL (tests) ----------------------------------------------------------------------


def find_pg_ctl() -> str | None:
    """pg_ctl from `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin/pg_ctl."""
    if shutil.which("pg_config"):
        result = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        )
        bindir = result.stdout.strip()
        if result.returncode == 0 and bindir and os.access(Path(bindir, "pg_ctl"), os.X_OK):
            return str(Path(bindir, "pg_ctl"))
    found = [p for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") if os.access(p, os.X_OK)]
    return max(found, key=pg_version, default=None)


def pg_version(pg_ctl: str) -> list[int]:
    """[15] for /usr/lib/postgresql/15/bin/pg_ctl (so 15 sorts above 9.6)."""
    return [int(x) for x in Path(pg_ctl).parent.parent.name.split(".") if x.isdigit()]


def apt_install(package: str) -> None:
    """Install a Debian package (CI machines run as root); exits when that is impossible."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        sys.exit(f"dev.py: {package} is missing and only root can install it (apt-get)")
    say(f"{package} missing: apt-get install {package}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if run(command, env) != 0 and (run(["apt-get", "update"], env) != 0 or run(command, env) != 0):
        sys.exit(f"dev.py: apt-get install {package} failed")


def ensure_postgres_server() -> None:
    pg_ctl = find_pg_ctl()
    if pg_ctl:
        say(f"PostgreSQL server: {pg_ctl}")
        return
    apt_install("postgresql")
    if not find_pg_ctl():
        sys.exit("dev.py: postgresql installed but pg_ctl still not found")


def find_chromium() -> str | None:
    """Debian's Chromium, which the browser tests drive through Playwright."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_chromium() -> str:
    chromium = find_chromium()
    if chromium is None:
        apt_install("chromium")
        chromium = find_chromium()
    if chromium is None:
        sys.exit("dev.py: chromium installed but not found on PATH")
    say(f"Chromium: {chromium}")
    return chromium


# --- commands --------------------------------------------------------------------------------


def cmd_demo(args: list[str]) -> int:
    ensure_venv()
    return run([venv_bin("leadflow"), "demo", *args])


def cmd_test(args: list[str]) -> int:
    python = ensure_venv()
    env = dict(os.environ)
    # The suite starts hundreds of Python processes (workers, CLI and server subprocesses,
    # ADBC readers); where the machine sets PYTHONDONTWRITEBYTECODE, no bytecode is cached
    # and each of them compiles every module it imports again (a CLI start: 6.3 s of CPU
    # instead of 2.8 s, measured), so the suite caches it, as Python does by default.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if in_ci():
        ensure_postgres_server()
        env["LEADFLOW_REQUIRE_POSTGRES"] = "1"
        say("CI: PostgreSQL tests are required (LEADFLOW_REQUIRE_POSTGRES=1)")
        env["LEADFLOW_CHROMIUM"] = ensure_chromium()
        env["LEADFLOW_REQUIRE_BROWSER"] = "1"
        say("CI: browser tests are required (LEADFLOW_REQUIRE_BROWSER=1)")
        # The slowest tests in every CI log: the suite's time budget is watched from there.
        args = ["--durations=30", *args]
    code = run([python, "-m", "pytest", *parallel(args), *args], env)
    if code == 5:
        say("pytest collected no tests: treating as failure")
        return 1
    return code


TEST_WORKERS = 4  # at most: each worker starts its own PostgreSQL server and browser


def parallel(args: list[str]) -> list[str]:
    """pytest-xdist options for the whole suite: a worker per core (up to TEST_WORKERS),
    each taking whole files (`--dist loadfile`), so a module's expensive fixture (a demo
    company) is built once, not once per worker. None when the arguments choose tests
    (a file, a folder or a test id: one process starts faster) or set `-n` themselves;
    `LEADFLOW_TEST_WORKERS=N` overrides the count (1: no workers)."""
    chosen = any(a.startswith("tests") or "::" in a or a.endswith(".py") for a in args)
    own = any(a.startswith(("-n", "--numprocesses", "--dist")) for a in args)
    workers = int(os.environ.get("LEADFLOW_TEST_WORKERS") or min(os.cpu_count() or 1, TEST_WORKERS))
    if chosen or own or workers <= 1:
        return []
    return ["-n", str(workers), "--dist", "loadfile"]


def cmd_lint(args: list[str]) -> int:
    if args:
        say("lint takes no arguments")
        return 2
    ensure_venv()
    checks: list[list[str | Path]] = [
        [venv_bin("ruff"), "check", "src", "tests", "benchmarks"],
        [venv_bin("ruff"), "format", "--check", "src", "tests", "benchmarks"],
        [venv_bin("mypy"), "src"],
        # Nothing else runs the benchmarks: this catches one calling leadflow as it no longer can.
        [venv_bin("mypy"), "--config-file", ROOT / "benchmarks" / "mypy.ini", ROOT / "benchmarks"],
    ]
    failed = [" ".join(str(p) for p in c[1:]) for c in checks if run(c) != 0]
    if failed:
        say("lint failed: " + "; ".join(failed))
        return 1
    say("lint ok")
    return 0


def cmd_bench(args: list[str]) -> int:
    if not args:
        # benchmarks/_*.py are helpers the benchmarks share, not benchmarks.
        names = sorted(p.stem for p in (ROOT / "benchmarks").glob("[!_]*.py"))
        say("usage: python3 dev.py bench NAME; available: " + (", ".join(names) or "none"))
        return 2
    script = ROOT / "benchmarks" / f"{args[0]}.py"
    if not script.is_file() or args[0].startswith("_"):
        say(f"no such benchmark: {script.relative_to(ROOT)}")
        return 2
    python = ensure_venv()
    return run([python, script, *args[1:]])


FUZZ_TESTS = ["tests/api/test_openapi_fuzz.py", "tests/api/test_segment_fuzz.py"]


def cmd_fuzz(args: list[str]) -> int:
    """The fuzz tests with LEADFLOW_FUZZ_SCALE times their examples (default 20; CI runs 1)."""
    python = ensure_venv()
    env = {**os.environ, "LEADFLOW_FUZZ_SCALE": os.environ.get("LEADFLOW_FUZZ_SCALE", "20")}
    say(f"LEADFLOW_FUZZ_SCALE={env['LEADFLOW_FUZZ_SCALE']}")
    return run([python, "-m", "pytest", "-p", "no:cacheprovider", *FUZZ_TESTS, *args], env)


COMMANDS = {
    "demo": cmd_demo,
    "test": cmd_test,
    "lint": cmd_lint,
    "bench": cmd_bench,
    "fuzz": cmd_fuzz,
}


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs on any system python
        print("dev.py: Python 3.11+ is required", file=sys.stderr)
        return 2
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
