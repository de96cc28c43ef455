"""Test suites this project did not write, with ``CachedStorage`` as the storage under test.

DESIGN.md, invariant 9: every call of ``CachedStorage`` returns what the
wrapped storage would return, and Django's own ``file_storage`` suite passes
through it. Two upstream suites are run, each in a subprocess (see
``runner.py``) against the versions installed here:

* Django's ``tests/file_storage`` (from the sdist of the installed Django), with
  every ``FileSystemStorage`` and ``InMemoryStorage`` it builds — in tests, in
  its models' ``FileField``\\ s, as ``default_storage`` — wrapped;
* django-storages' ``S3StorageTestsWithMoto`` (the tests of ``tests/test_s3.py``
  that talk to moto rather than to a ``unittest.mock``), with ``S3Storage`` wrapped.

Each run must have no failure or error outside ``exclusions.KNOWN_BUGS``,
exclude exactly ``exclusions.EXCLUDED``, and reach a ``CachedStorage`` in every
test but those of ``exclusions.NO_STORAGE_CALLS``. When a run fails, the same
suite is run again on the bare storages, so the message says whether a failure
is CachedStorage's or the harness's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import django
import pytest
import storages

from tests.conformance import exclusions
from tests.conformance.sources import Sdist, SourceUnavailable, fetch
from tests.servers import unavailable

RUNNER = Path(__file__).with_name("runner.py")

SUITES: dict[str, dict[str, Any]] = {
    "django": {
        "sdist": Sdist("Django", django.__version__, ("tests/file_storage/", "tests/urls.py")),
        "prefix": "file_storage.",
        "title": f"Django {django.__version__} tests/file_storage",
    },
    "s3": {
        "sdist": Sdist(
            "django-storages",
            storages.__version__,
            ("tests/__init__.py", "tests/settings.py", "tests/utils.py", "tests/test_s3.py"),
        ),
        "prefix": "tests.test_s3.",
        "title": f"django-storages {storages.__version__} S3StorageTestsWithMoto",
    },
}

FAILING = ("failed", "error")


def run_suite(suite: str, source: Path, workdir: Path, *, unwrapped: bool = False) -> Any:
    """Run ``runner.py`` in a fresh interpreter; returns its JSON report."""
    prefix = SUITES[suite]["prefix"]
    version = SUITES[suite]["sdist"].version
    plan = workdir / f"{suite}-plan.json"
    report = workdir / f"{suite}-{'bare' if unwrapped else 'cached'}.json"
    excluded = {} if unwrapped else exclusions.applicable(exclusions.EXCLUDED, prefix, version)
    plan.write_text(json.dumps({"exclude": excluded}))
    command = [sys.executable, str(RUNNER), suite, "--source", str(source)]
    command += ["--plan", str(plan), "--report", str(report)]
    if unwrapped:
        command.append("--unwrapped")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if not report.is_file():
        pytest.fail(
            f"{' '.join(command)} wrote no report (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        )
    result = json.loads(report.read_text())
    if "crash" in result:
        pytest.fail(f"{SUITES[suite]['title']}: the run crashed:\n{result['crash']}")
    return result


def source_of(suite: str) -> Path:
    sdist = SUITES[suite]["sdist"]
    try:
        return fetch(sdist)
    except SourceUnavailable as exc:
        unavailable(f"{sdist.project} {sdist.version} sdist unavailable: {exc}")
        raise  # unreachable: unavailable() skips or fails


def root_cause(detail: str) -> str:
    """The exception line and the innermost ikstorage frame: one line per cause."""
    lines = [line.strip() for line in detail.strip().splitlines() if line.strip()]
    frames = [
        line
        for line in lines
        if line.startswith("File ") and "/ikstorage/" in line and "/tests/" not in line
    ]
    exception = re.sub(r" at 0x[0-9a-f]+", "", lines[-1] if lines else "?")
    where = re.sub(r'File ".*/(ikstorage/[^"]+)"', r"\1", frames[-1]) if frames else ""
    return f"{exception[:240]}{f'  [{where}]' if where else ''}"


def describe(tests: dict[str, Any], ids: set[str]) -> str:
    """Failing tests grouped by root cause, with the first full traceback of each."""
    groups: dict[str, list[str]] = defaultdict(list)
    for test_id in sorted(ids):
        groups[root_cause(tests[test_id]["detail"])].append(test_id)
    parts = []
    for cause, members in groups.items():
        example = tests[members[0]]["detail"].strip()
        parts.append(
            f"--- {cause}\n" + "\n".join(f"    {m}" for m in members) + f"\n{example[-2500:]}"
        )
    return "\n".join(parts)


def summary(title: str, tests: dict[str, Any]) -> str:
    outcomes = Counter(t["outcome"] for t in tests.values())
    through = sum(1 for t in tests.values() if t["through"])
    reads = sorted({name for t in tests.values() for name in t["reads"]})
    writes = sorted({name for t in tests.values() for name in t["writes"]})
    return (
        f"{title}: {len(tests)} tests, {through} ran through CachedStorage, "
        f"{outcomes['passed']} passed, {outcomes['failed'] + outcomes['error']} failed, "
        f"{outcomes['excluded']} excluded, {outcomes['skipped']} skipped upstream; "
        f"wrapped storages' attributes read through CachedStorage: {reads or 'none'}, "
        f"set: {writes or 'none'}"
    )


@pytest.mark.slow
@pytest.mark.upstream
@pytest.mark.parametrize("suite", sorted(SUITES))
def test_upstream_suite_passes_through_cached_storage(suite: str, tmp_path: Path) -> None:
    source = source_of(suite)
    spec = SUITES[suite]
    prefix, version = spec["prefix"], spec["sdist"].version
    report = run_suite(suite, source, tmp_path)
    tests: dict[str, Any] = report["tests"]
    print(summary(spec["title"], tests))

    excluded = exclusions.applicable(exclusions.EXCLUDED, prefix, version)
    known_bugs = exclusions.applicable(exclusions.KNOWN_BUGS, prefix, version)
    no_calls = exclusions.applicable(exclusions.NO_STORAGE_CALLS, prefix, version)
    ran = {i for i, t in tests.items() if t["outcome"] in ("passed", *FAILING)}
    failing = {i for i, t in tests.items() if t["outcome"] in FAILING}
    problems = []

    listed = set(excluded) | set(known_bugs) | set(no_calls)
    if missing := sorted(listed - set(tests)):
        problems.append(f"listed in exclusions.py but not in this suite: {missing}")
    if (was_excluded := {i for i, t in tests.items() if t["outcome"] == "excluded"}) != set(
        excluded
    ):
        problems.append(
            f"excluded tests differ from EXCLUDED: {sorted(was_excluded ^ set(excluded))}"
        )
    if new := failing - set(known_bugs):
        bare = run_suite(suite, source, tmp_path, unwrapped=True)["tests"]
        harness = {i for i in new if bare.get(i, {}).get("outcome") in FAILING}
        problems.append(
            f"{len(new)} test(s) fail through CachedStorage"
            + (
                f" ({len(harness)} of them fail on the bare storage too: a harness or "
                f"upstream problem, not CachedStorage's: {sorted(harness)})"
                if harness
                else " and pass on the bare storage"
            )
            + f":\n{describe(tests, new)}"
        )
    if fixed := sorted(set(known_bugs) & (set(tests) - failing)):
        problems.append(f"KNOWN_BUGS that no longer fail (remove them from the list): {fixed}")
    not_through = {i for i in ran if not tests[i]["through"]}
    if not_through != set(no_calls):
        problems.append(
            "tests that ran without calling a CachedStorage differ from NO_STORAGE_CALLS: "
            f"unlisted {sorted(not_through - set(no_calls))}, "
            f"listed but reached one {sorted(set(no_calls) - not_through)}"
        )
    if not ran - not_through:
        problems.append("no test ran through CachedStorage")
    assert not problems, "\n\n".join(problems)
