#!/usr/bin/env python3
"""The project's commands, runnable with nothing but Python installed.

    python3 dev.py example   # the example gallery on an embedded S3: what ikstorage saves
    python3 dev.py serve     # the example gallery in a browser at http://127.0.0.1:8000/gallery/
    python3 dev.py test      # the test suite (every tier), in .devenv
    python3 dev.py matrix    # the suite across the supported Python x Django pairs (tox)
    python3 dev.py lint      # ruff, mypy and the layers (import-linter)
    python3 dev.py bench     # benchmarks: ratios against a baseline measured in the same run
    python3 dev.py docs      # the Sphinx documentation, warnings as errors
    python3 dev.py build     # the sdist and wheel, checked by twine

Each command creates ``.devenv`` on first use and installs the project with the
dependency groups it needs (``[dependency-groups]`` in pyproject.toml), so a
fresh clone needs no manual set-up. Arguments after the command are passed on
(to pytest, tox or the demo).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".devenv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed"


def run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def ensure_venv(*groups: str) -> None:
    """Create .devenv and install the project with ``groups`` unless already done.

    Groups accumulate: installing "docs" after "test" keeps the test tools, so
    switching between commands does not reinstall.
    """
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    version = str((ROOT / "pyproject.toml").stat().st_mtime_ns)
    have: set[str] = set()
    if STAMP.exists():
        stamped_version, _, stamped = STAMP.read_text().partition("|")
        if stamped_version == version:
            have = set(filter(None, stamped.split(",")))
    wanted = have | set(groups)
    if have and wanted == have:
        return
    quiet = ["--quiet", "--disable-pip-version-check"]
    # pip 25.1 is the first to install PEP 735 dependency groups (--group).
    if run(PYTHON, "-m", "pip", "install", *quiet, "--upgrade", "pip>=25.1") != 0:
        sys.exit("Could not upgrade pip in .devenv.")
    selected = [arg for group in sorted(wanted) for arg in ("--group", group)]
    if run(PYTHON, "-m", "pip", "install", *quiet, "-e", ".", *selected) != 0:
        sys.exit("Could not install ikstorage and its dependencies into .devenv.")
    STAMP.write_text(f"{version}|{','.join(sorted(wanted))}")


def cmd_example(args: list[str]) -> int:
    ensure_venv("test")
    return run(PYTHON, "example/manage.py", "gallery_demo", *args)


def cmd_serve(args: list[str]) -> int:
    """The example gallery in a browser: upload form, thumbnails, each request's S3 calls."""
    ensure_venv("test")
    try:
        return run(PYTHON, "example/manage.py", "gallery_serve", *args)
    except KeyboardInterrupt:  # Ctrl-C reached the server too; it has copied its bucket
        return 0


def cmd_test(args: list[str]) -> int:
    """The whole suite under coverage; the gate (fail_under) applies to a full run only."""
    ensure_venv("test", "docs")
    run(PYTHON, "-m", "coverage", "erase")
    code = run(PYTHON, "-m", "coverage", "run", "-m", "pytest", *args)
    if code == 5:
        print("pytest collected no tests: that is a failure here.", file=sys.stderr)
        return 1
    run(PYTHON, "-m", "coverage", "combine", "--quiet")
    gate = [] if not args else ["--fail-under=0"]
    report = run(PYTHON, "-m", "coverage", "report", "--format=total", *gate)
    if report != 0:
        print("Coverage is below the gate in pyproject.toml.", file=sys.stderr)
    return code or report


def interpreter_dirs() -> list[str]:
    """Folders holding python3.11-3.13 that actually run.

    A pyenv shim named ``python3.12`` exists even when pyenv will refuse to
    run it (the version is installed but not selected); tox would then find
    no interpreter. The real binaries under ``$PYENV_ROOT/versions`` are used
    instead where the name on PATH does not answer.
    """
    found: list[str] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for minor in ("3.11", "3.12", "3.13"):
        name = f"python{minor}"
        on_path = shutil.which(name)
        if on_path and subprocess.call([on_path, "-c", ""], stderr=subprocess.DEVNULL) == 0:
            continue
        for candidate in sorted(pyenv_root.glob(f"versions/{minor}.*/bin/{name}"), reverse=True):
            if subprocess.call([str(candidate), "-c", ""], stderr=subprocess.DEVNULL) == 0:
                found.append(str(candidate.parent))
                break
    return found


def cmd_matrix(args: list[str]) -> int:
    ensure_venv("test", "lint", "matrix")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*interpreter_dirs(), env.get("PATH", "")])
    return run(PYTHON, "-m", "tox", *args, env=env)


def cmd_lint(args: list[str]) -> int:
    ensure_venv("test", "lint")
    code = run(PYTHON, "-m", "ruff", "check", ".")
    code |= run(PYTHON, "-m", "ruff", "format", "--check", ".")
    code |= run(PYTHON, "-m", "mypy")
    # The layers of DESIGN.md, one direction (contracts in pyproject.toml).
    code |= run(BIN / "lint-imports", "--no-cache")
    return code


def cmd_bench(args: list[str]) -> int:
    ensure_venv("test", "bench")
    code = 0
    for script in sorted((ROOT / "benchmarks").glob("[!_]*.py")):
        code |= run(PYTHON, script, *args)
    return code


def cmd_docs(args: list[str]) -> int:
    """Build the docs as CI does: every warning (a broken reference too) is an error."""
    ensure_venv("docs")
    out = ROOT / "docs" / "_build" / "html"
    return run(PYTHON, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html", "docs", out, *args)


def cmd_build(args: list[str]) -> int:
    """Build the sdist and the wheel into dist/ and let twine check their metadata."""
    ensure_venv("release")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    code = run(PYTHON, "-m", "build", "--outdir", dist, *args)
    if code == 0:
        code = run(PYTHON, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    return code


COMMANDS = {
    "example": cmd_example,
    "serve": cmd_serve,
    "test": cmd_test,
    "matrix": cmd_matrix,
    "lint": cmd_lint,
    "bench": cmd_bench,
    "docs": cmd_docs,
    "build": cmd_build,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__.strip())
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
