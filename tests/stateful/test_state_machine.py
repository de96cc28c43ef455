"""``CachedStorage`` answers exactly like the storage it wraps, after any sequence of calls.

Invariants 2 and 9 of ``DESIGN.md``, as a hypothesis state machine. The model
is the wrapped storage itself: every read is asked of ``CachedStorage`` and
then of an uncached handle on the same files, and the two answers must be the
same value or the same exception type. Saves and deletes are repeated on an
uncached twin (see :mod:`tests.stateful.worlds`) so that what they return or
raise can be compared too. Names come in several spellings of one stored key
(``x.txt``, ``./x.txt``, ``Path("x.txt")``, ``d//x.txt``, ``d/./x.txt``…),
unicode, directories and ``None``; contents are bytes, text, streams, uploads
and real images. ``new_process`` drops L1 and keeps L2, as a new process sees.

A failure prints the shortest sequence of calls hypothesis found that
reproduces it (hypothesis reports each distinct failing line separately).
``IKSTORAGE_STATEFUL_EXAMPLES`` and ``IKSTORAGE_STATEFUL_STEPS`` override the
number of examples and the steps per example (defaults: 200 examples of 40 steps on
FileSystemStorage, 80 of 25 on moto S3, where each call costs ~5 ms).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import pytest
from django.core.files.storage import Storage
from django.db.models.fields.files import ImageField, ImageFieldFile
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    rule,
    run_state_machine_as_test,
)

from ikstorage.cache import clear_local
from tests.stateful.contents import Content, binary_contents, image_contents, text_contents
from tests.stateful.outcomes import Outcome, differs, outcome
from tests.stateful.worlds import FileSystemWorld, S3Worlds, World


def _setting(variable: str, default: int) -> int:
    return int(os.environ.get(variable) or default)


#: Spellings of a few stored keys. Each group names one file on both backends
#: (FileSystemStorage joins and normalizes, S3Storage runs ``clean_name``).
NAMES: list[str | Path | None] = [
    "x.txt",
    "./x.txt",
    Path("x.txt"),
    "d/x.txt",
    "d//x.txt",
    "d/./x.txt",
    Path("d/x.txt"),
    "p.png",
    "./p.png",
    "d/q.jpg",
    "d//q.jpg",
    "ünï/çødé.gif",
    "ünï//çødé.gif",
    "d",  # a directory once d/x.txt is saved (FileSystemStorage: exists() is True)
    "d/",
    Path("d"),
    None,
]
FOLDERS: list[str | Path] = ["", ".", "d", "d/", "./d", Path("d"), "ünï", "nope"]

#: ``get_alternative_name``: ``<root>_<7 random letters or digits><extensions>``.
_ALTERNATIVE = re.compile(r"(?P<root>.*)_[A-Za-z0-9]{7}")


def _alternative_of(name: str) -> tuple[str, str] | None:
    """``(root, extensions)`` of a name Django made up for a taken one, else ``None``."""
    ext = "".join(PurePosixPath(name).suffixes)
    match = _ALTERNATIVE.fullmatch(name[: len(name) - len(ext)])
    return (match["root"], ext) if match else None


def _same_saved_name(cached: str, twin: str) -> bool:
    """Equal, or both a random alternative of the same name (the letters cannot match)."""
    if cached == twin:
        return True
    alternative = _alternative_of(cached)
    return alternative is not None and alternative == _alternative_of(twin)


def _dimensions(storage: Storage, name: Any) -> tuple[Any, Any]:
    """``(width, height)`` the way Django reads them for a model's ``ImageField``.

    Through a ``CachedStorage`` the ``ikstorage`` hook answers from the
    record; through the wrapped storage (which has no ``image_dimensions``)
    Django opens the file and lets Pillow read its header.
    """
    field_file = ImageFieldFile(None, ImageField(storage=storage), name)  # type: ignore[arg-type]
    return (field_file.width, field_file.height)


def _read(storage: Storage, name: str) -> bytes:
    with storage.open(name, "rb") as fh:
        data: bytes = fh.read()
    return data


def _files(storage: Storage, folder: str = "") -> list[str]:
    """Every file under ``folder``, by walking ``listdir``."""
    folders, files = storage.listdir(folder)
    found = [f"{folder}{name}" for name in files]
    for sub in folders:
        found += _files(storage, f"{folder}{sub}/")
    return found


class CachedStorageMachine(RuleBasedStateMachine):
    """Calls on ``CachedStorage`` and on the storage it wraps must answer alike."""

    #: Makes the world of one example; its argument is the overwrite setting.
    worlds: ClassVar[Callable[[bool], World]]
    #: Rules run, by name, over every example of this machine (reported by the test).
    ran: ClassVar[Counter[str]]

    saved = Bundle("saved")

    def __init__(self) -> None:
        super().__init__()
        self.world: World | None = None
        #: Name the twin gave to a file, for each name ``CachedStorage.save`` returned.
        self.twin_names: dict[str, str] = {}

    @initialize(overwrite=st.booleans())
    def start(self, overwrite: bool) -> None:
        """A fresh world; ``overwrite`` is ``allow_overwrite``/``file_overwrite``."""
        self.world = type(self).worlds(overwrite)
        self.ran["examples"] += 1

    def teardown(self) -> None:
        if self.world is not None:
            self.world.close()

    # -- helpers ------------------------------------------------------------------

    @property
    def w(self) -> World:
        assert self.world is not None
        return self.world

    def _count(self, rule: str) -> None:
        self.ran[rule] += 1
        self.ran["steps"] += 1

    def _twin(self, name: Any) -> Any:
        return self.twin_names.get(name, name) if isinstance(name, str) else name

    def _both(self, call: Any) -> tuple[Outcome, Outcome]:
        """``call(storage)`` on ``CachedStorage``, then on the wrapped storage."""
        return outcome(lambda: call(self.w.cached)), outcome(lambda: call(self.w.wrapped))

    # -- writes -------------------------------------------------------------------

    def _save(self, name: Any, content: Content) -> tuple[str | None, Any]:
        """Save through ``CachedStorage`` and the twin: ``(what differs or None, saved name)``."""
        what = f"save({name!r}, {content!r})"
        cached = outcome(lambda: self.w.cached.save(name, content.build()))
        twin = outcome(lambda: self.w.twin.save(self._twin(name), content.build()))
        if cached.error is not twin.error:
            return differs(what, cached, twin), None
        if not cached.ok:
            return None, multiple()
        if not _same_saved_name(cached.value, twin.value):
            return differs(what, cached, twin), None
        # The bytes that reached the backend are the bytes the twin stored.
        stored = outcome(lambda: _read(self.w.wrapped, cached.value))
        expected = outcome(lambda: _read(self.w.twin, twin.value))
        if not stored.matches(expected):
            return differs(f"bytes stored by {what}", stored, expected), None
        self.twin_names[cached.value] = twin.value
        return None, cached.value

    # One rule per kind of content, so that hypothesis reports a failure of
    # each kind separately (it tells failures apart by the line that raised).

    @rule(target=saved, name=st.sampled_from(NAMES), content=binary_contents)
    def save_bytes(self, name: Any, content: Content) -> Any:
        self._count("save_bytes")
        problem, saved = self._save(name, content)
        assert problem is None, problem
        return saved

    @rule(target=saved, name=st.sampled_from(NAMES), content=text_contents)
    def save_text(self, name: Any, content: Content) -> Any:
        self._count("save_text")
        problem, saved = self._save(name, content)
        assert problem is None, problem
        return saved

    @rule(target=saved, name=st.sampled_from(NAMES), content=image_contents)
    def save_image(self, name: Any, content: Content) -> Any:
        self._count("save_image")
        problem, saved = self._save(name, content)
        assert problem is None, problem
        return saved

    @rule(name=st.sampled_from(NAMES) | saved)
    def delete(self, name: Any) -> None:
        self._count("delete")
        cached = outcome(lambda: self.w.cached.delete(name))
        twin = outcome(lambda: self.w.twin.delete(self._twin(name)))
        assert cached.matches(twin), differs(f"delete({name!r})", cached, twin)

    @rule()
    def new_process(self) -> None:
        """L1 dropped, L2 kept: what a process started now would see."""
        self._count("new_process")
        clear_local()

    # -- reads ---------------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES) | saved)
    def exists(self, name: Any) -> None:
        self._count("exists")
        cached, wrapped = self._both(lambda s: s.exists(name))
        assert cached.matches(wrapped), differs(f"exists({name!r})", cached, wrapped)

    @rule(name=st.sampled_from(NAMES) | saved)
    def size(self, name: Any) -> None:
        self._count("size")
        cached, wrapped = self._both(lambda s: s.size(name))
        assert cached.matches(wrapped), differs(f"size({name!r})", cached, wrapped)

    @rule(name=st.sampled_from(NAMES) | saved)
    def url(self, name: Any) -> None:
        self._count("url")
        cached, wrapped = self._both(lambda s: s.url(name))
        assert cached.matches(wrapped), differs(f"url({name!r})", cached, wrapped)

    @rule(name=st.sampled_from(NAMES) | saved)
    def get_modified_time(self, name: Any) -> None:
        self._count("get_modified_time")
        cached, wrapped = self._both(lambda s: s.get_modified_time(name))
        assert cached.matches(wrapped), differs(f"get_modified_time({name!r})", cached, wrapped)

    @rule(name=st.sampled_from(NAMES) | saved)
    def dimensions(self, name: Any) -> None:
        self._count("dimensions")
        cached, wrapped = self._both(lambda s: _dimensions(s, name))
        assert cached.matches(wrapped), differs(
            f"ImageFieldFile({name!r}).width, .height", cached, wrapped
        )

    @rule(folder=st.sampled_from(FOLDERS))
    def listdir(self, folder: Any) -> None:
        self._count("listdir")
        cached, wrapped = self._both(lambda s: s.listdir(folder))
        assert cached.matches(wrapped), differs(f"listdir({folder!r})", cached, wrapped)

    @rule()
    def same_files_as_the_twin(self) -> None:
        """Nothing lost, nothing extra: the files hold what the uncached twin holds."""
        self._count("same_files_as_the_twin")
        ours = {self._twin(name): _read(self.w.wrapped, name) for name in _files(self.w.wrapped)}
        twins = {name: _read(self.w.twin, name) for name in _files(self.w.twin)}
        assert ours == twins


def _run(label: str, worlds: Callable[[bool], World], examples: int, steps: int) -> None:
    examples = _setting("IKSTORAGE_STATEFUL_EXAMPLES", examples)
    steps = _setting("IKSTORAGE_STATEFUL_STEPS", steps)
    machine: Any = type(
        f"CachedStorageOn{label}", (CachedStorageMachine,), {"worlds": worlds, "ran": Counter()}
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    ran: Counter[str] = machine.ran
    print(f"\n{label}: {ran['examples']} examples, {ran['steps']} steps: {dict(ran)}")
    assert ran["examples"] >= examples
    assert ran["steps"] >= examples


def test_cached_storage_answers_like_file_system_storage() -> None:
    _run("FileSystemStorage", FileSystemWorld, examples=200, steps=40)


@pytest.mark.slow
def test_cached_storage_answers_like_s3_storage(s3: Any) -> None:
    _run("S3Storage", S3Worlds(s3), examples=80, steps=25)
