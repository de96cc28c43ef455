"""ikstorage's targets from its design, checked against one run's results.

Counts hold at any page size and latency, so they are always checked. The
time target (a warm page within 1.25x of the physical limit) is a ratio of
CPU times, meaningful on a full page; ``time=False`` leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.peerbench.contenders import BY_SLUG
from benchmarks.peerbench.report import TIMES, Results, ratio

#: A warm page through ikstorage, over the same page read from the row.
WARM_RATIO = 1.25
#: Cache round trips of a new process's page, lookups batched without a view change.
NEW_PROCESS_ROUND_TRIPS = 2
#: ikstorage's own pages: the files each photo's upload writes (the source, each spec).
PAGES = {"ik-field": 1, "ik": 2}


def missed(results: Results, *, images: int, time: bool = True) -> list[str]:
    """What ikstorage missed, one line each; empty when every target is met."""
    problems = []
    for slug, phases in results.items():
        if not BY_SLUG[slug].cached:
            continue
        for phase in ("warm", "new_process"):
            if phases[phase]["s3"]:
                problems.append(f"{_name(slug)}: {phase} made S3 calls {phases[phase]['s3']}")
    for slug, files in PAGES.items():
        if slug in results:
            problems += _own_page(slug, results, files * images, time=time)
    return problems


def _name(slug: str) -> str:
    return BY_SLUG[slug].label


def _own_page(slug: str, results: Results, puts: int, *, time: bool) -> list[str]:
    phases: Mapping[str, Any] = results[slug]
    name = _name(slug)
    problems = []
    if phases["upload"]["s3"] != {"PutObject": puts}:
        problems.append(f"{name}: upload made {phases['upload']['s3']}, not {puts} PutObject")
    if phases["cold"]["s3"]:
        problems.append(f"{name}: cold made S3 calls {phases['cold']['s3']}")
    if phases["warm"]["cache_total"]:
        problems.append(f"{name}: warm made cache round trips {phases['warm']['cache']}")
    trips = phases["new_process"]["cache_total"]
    if trips > NEW_PROCESS_ROUND_TRIPS:
        problems.append(
            f"{name}: new process made {trips} cache round trips "
            f"(target ≤ {NEW_PROCESS_ROUND_TRIPS})"
        )
    warm = ratio(results, slug, "warm")
    if time and warm is not None and warm > WARM_RATIO:
        problems.append(
            f"{name}: warm render {warm:.2f}{TIMES} the physical limit "
            f"(target ≤ {WARM_RATIO}{TIMES})"
        )
    return problems
